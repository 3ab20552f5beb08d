#!/usr/bin/env python3
"""SQL through Kinetica's Python client, against DuckDB running the same statements.

Usage: test_sql.py PATH/TO/gpudb-engine

Starts a server over HTTP; loads t (3,000 rows: an int key with duplicates and nulls, a string
with nulls and shared prefixes, a double, a long), u (50 rows, duplicate keys, a nullable rank),
w (4,000 rows, 90% in one group), many (60,000 distinct ids and strings: IN and NOT IN
subqueries of tens of thousands of values, joined as semi and anti joins; correlated [NOT]
EXISTS) and an empty one, the same
rows into DuckDB (its nulls ordered
as PostgreSQL's). Every statement of the corpus (sql_corpus.sql, at least 300) runs through
`execute_sql_and_decode` and through DuckDB; the answers must be equal, as multisets of rows
unless the statement orders them (then in order), doubles to 1e-9. Then the client's other SQL paths: `GPUdbTable.to_df()` (paged
through `execute_sql` 10,000 rows at a time, here with a 250-row server maximum so that it
pages), `gpudb.dbapi` (connect, cursor, execute, fetchall) and errors: a syntax error names line
and column with a caret, an unknown table, a column not in GROUP BY, an unsupported feature
(named), a close name suggested. Kinetica's words (CREATE OR REPLACE REPLICATED TABLE, SHARD KEY,
column properties, SELECT TOP), CREATE/DROP SCHEMA, ALTER TABLE and EXPLAIN.

Changes: CREATE TABLE AS (a projection, groups, a join, an ordered LIMIT, a UNION, WITH and IN
subqueries), CREATE TABLE, INSERT VALUES (with and without a column list), INSERT ... SELECT,
UPDATE, DELETE and DROP TABLE through execute_sql, the table then equal to DuckDB's after the same statements; a duplicate
primary key, an upsert (options.update_on_existing_pk), count_affected. Parameters ($1, $2) from
gpudb.dbapi's execute and executemany.

Joins: a second table of 50 rows with duplicate keys, joined inner, left, right, full, by commas
and WHERE, to itself, three and four ways (in scrambled FROM orders, on implied equalities),
under GROUP BY.

Needs gpudb, duckdb, pandas, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import decimal
import math
import os
import random
import sys

from harness import check, run_main, start_server  # tests/python/harness.py

COLUMNS = [["id", "int"], ["k", "int", "nullable"], ["s", "string", "nullable"], ["x", "double"],
           ["big", "long"]]
WORDS = ["apple", "apricot", "banana", "band", "", "cherry", "Kiwi", "kiwi"]

# The differential corpus: one statement per line.
CORPUS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sql_corpus.sql")


def corpus():
    with open(CORPUS_FILE) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("--")]


def data():
    rng = random.Random(5)
    rows = []
    for i in range(3000):
        rows.append([i, None if i % 19 == 0 else rng.randrange(0, 40), None if i % 23 == 0 else rng.choice(WORDS),
                     round(rng.uniform(0, 1000), 3), rng.randrange(0, 1000)])
    return rows


def ordered(sql):
    """Whether the statement orders its rows: an ORDER BY outside parentheses (not one of OVER)."""
    depth, upper = 0, sql.upper()
    for i, ch in enumerate(sql):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and upper.startswith("ORDER BY", i):
            return True
    return False


def norm(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def same_rows(a, b):
    """Equal rows, doubles to a relative 1e-9."""
    if len(a) != len(b):
        return False
    for p, q in zip(a, b):
        if len(p) != len(q):
            return False
        for u, v in zip(p, q):
            if isinstance(u, float) or isinstance(v, float):
                if u is None or v is None or abs(u - v) > 1e-9 * max(1.0, abs(u), abs(v)):
                    return False
            elif u != v:
                return False
    return True


def fetch_all(db, sql):
    """Every row of a SELECT, page by page (the server's maximum is 250 rows here)."""
    rows, offset = [], 0
    while True:
        r = db.execute_sql_and_decode(sql, offset=offset, limit=250, get_column_major=False)
        if r["status_info"]["status"] != "OK":
            return None, r["status_info"]["message"]
        page = [tuple(norm(v) for v in rec.values()) for rec in r["records"]]
        rows.extend(page)
        offset += len(page)
        if not r["has_more_records"] or not page:
            return rows, ""


def ours(db, sql):
    r = db.execute_sql_and_decode(sql, limit=-9999, get_column_major=False)
    if r["status_info"]["status"] != "OK":
        return None, r["status_info"]["message"]
    records = r["records"]
    return [tuple(norm(v) for v in rec.values()) for rec in records], ""


def run(binary, work, pb, rpc):
    import duckdb
    import gpudb
    import pandas as pd
    rows = data()
    con = duckdb.connect()
    con.register("t_df", pd.DataFrame(rows, columns=[c[0] for c in COLUMNS]))
    con.execute("create table t as select id::int id, k::int k, s, x, big::bigint big from t_df")
    con.execute("create table empty (id int, v double)")
    u_rows = [[i, i if i >= 5 else i % 5, "name%d" % (i % 7) if i % 3 else WORDS[i % len(WORDS)],
               None if i % 4 == 0 else i % 9] for i in range(50)]
    con.register("u_df", pd.DataFrame(u_rows, columns=["id", "k", "name", "rank"]))
    con.execute("create table u as select id::int id, k::int k, name, rank::int rank from u_df")
    rng = random.Random(9)
    w_rows = [[i, 1 if rng.random() < 0.9 else rng.randrange(2, 60), "w%d" % rng.randrange(0, 30),
               None if i % 11 == 0 else round(rng.uniform(-50, 50), 2)] for i in range(4000)]
    con.register("w_df", pd.DataFrame(w_rows, columns=["id", "g", "name", "v"]))
    con.execute("create table w as select id::int id, g::int g, name, v from w_df")
    # many: 60,000 distinct ids (out of order) and strings, for IN subqueries of tens of thousands of values.
    many_rows = [[(i * 7919) % 60000, "k%d" % ((i * 7919) % 60000)] for i in range(60000)]
    con.register("many_df", pd.DataFrame(many_rows, columns=["id", "s"]))
    con.execute("create table many as select id::int id, s from many_df")
    # PostgreSQL's order of nulls (ours): last ascending, first descending.
    con.execute("SET default_null_order = 'nulls_last_on_asc_first_on_desc'")
    server = start_server(binary, ["--max-get-records-size=250"], http=True)
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        t = gpudb.GPUdbTable(COLUMNS, name="t", db=db)
        for b in range(0, len(rows), 1000):
            t.insert_records(rows[b:b + 1000])
        gpudb.GPUdbTable([["id", "int"], ["v", "double"]], name="empty", db=db)
        gpudb.GPUdbTable([["id", "int"], ["k", "int"], ["name", "string"], ["rank", "int", "nullable"]], name="u",
                         db=db).insert_records(u_rows)
        gpudb.GPUdbTable([["id", "int"], ["g", "int"], ["name", "string"], ["v", "double", "nullable"]], name="w",
                         db=db).insert_records(w_rows)
        many = gpudb.GPUdbTable([["id", "int"], ["s", "string"]], name="many", db=db)
        for b in range(0, len(many_rows), 10000):
            many.insert_records(many_rows[b:b + 10000])
        db_all = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        statements = corpus()
        check(len(statements) >= 300, "the corpus holds %d statements" % len(statements))
        for sql in statements:
            want = [tuple(norm(v) for v in r) for r in con.execute(sql).fetchall()]
            # Pages of at most 250 rows: ask page by page.
            got, offset, message = [], 0, ""
            while True:
                r = db_all.execute_sql_and_decode(sql, offset=offset, limit=250, get_column_major=False)
                if r["status_info"]["status"] != "OK":
                    message = r["status_info"]["message"]
                    got = None
                    break
                page = [tuple(norm(v) for v in rec.values()) for rec in r["records"]]
                got.extend(page)
                offset += len(page)
                if not r["has_more_records"] or not page:
                    break
            check(got is not None, "%s: %s" % (sql, message))
            if got is None:
                continue
            if not ordered(sql):
                got, want = sorted(got, key=repr), sorted(want, key=repr)
            check(same_rows(got, want), "%s: %d rows, DuckDB %d; first %r vs %r" % (sql, len(got), len(want), got[:3], want[:3]))

        # Changes: the same statements in both, then the table read back.
        changes = [
            "CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(8), score DOUBLE, flag BOOLEAN)",
            "INSERT INTO c (id, name, score, flag) VALUES (1, 'a', 1.5, true), (2, 'b', -2, false), (3, NULL, 0, true)",
            "INSERT INTO c VALUES (4, 'd', 4.25, false), (-5, 'e', 10, true)",
            "UPDATE c SET score = score * 2, name = 'z' WHERE id > 1",
            "UPDATE c SET name = 'all'",
            "DELETE FROM c WHERE score > 15",
            "INSERT INTO c (id, score) VALUES (7, 7)",
            "INSERT INTO c SELECT id + 100, s, x, k > 20 FROM t WHERE id < 40 AND s IS NOT NULL",
            "INSERT INTO c (score, id) SELECT max(x), k + 1000 FROM t WHERE k IS NOT NULL GROUP BY k",
        ]
        for sql in changes:
            r = db.execute_sql(sql)
            check(r["status_info"]["status"] == "OK", "%s: %s" % (sql, r["status_info"].get("message")))
            con.execute(sql)
        got, _ = ours(db, "SELECT * FROM c")
        want = [tuple(norm(v) for v in r) for r in con.execute("SELECT * FROM c").fetchall()]
        got = [tuple(1 if v is True else 0 if v is False else v for v in r) for r in (got or [])]
        want = [tuple(1 if v is True else 0 if v is False else v for v in r) for r in want]
        check(same_rows(sorted(got, key=repr), sorted(want, key=repr)), "after changes: %r vs %r" % (got, want))
        r = db.execute_sql("DELETE FROM c WHERE id < 3")
        check(r.get("count_affected") == 3, "DELETE count_affected %r" % r.get("count_affected"))  # ids 1, 2, -5
        _, message = ours(db, "INSERT INTO c (id) VALUES (4)")
        check("already exists" in message, "a duplicate key through SQL: %r" % message)
        r = db.execute_sql("INSERT INTO c (id, name) VALUES (4, 'upd')", options={"update_on_existing_pk": "true"})
        check(r["status_info"]["status"] == "OK" and r.get("count_affected") == 1, "upsert through SQL: %r" % r)
        r = db.execute_sql("DROP TABLE c")
        check(r["status_info"]["status"] == "OK" and not db.has_table("c")["table_exists"], "DROP TABLE: %r" % r)
        check(db.execute_sql("DROP TABLE IF EXISTS c")["status_info"]["status"] == "OK", "DROP TABLE IF EXISTS")

        # CREATE TABLE AS: a projection, groups, a join; each new table equal to DuckDB's.
        for name, query in [("big_x", "SELECT id, x * 2 AS y FROM t WHERE x > 900"),
                            ("by_k", "SELECT k, count(*) AS n, sum(x) AS total FROM t GROUP BY k"),
                            ("joined", "SELECT t.id, u.name FROM t JOIN u ON t.k = u.k WHERE t.id < 100"),
                            ("top", "SELECT id, big FROM t ORDER BY big DESC, id LIMIT 7"),
                            ("unioned", "SELECT k FROM t UNION SELECT rank FROM u"),
                            ("nested", "WITH g AS (SELECT k, count(*) AS n FROM t GROUP BY k) "
                                       "SELECT k, n * 2 AS twice FROM g WHERE k IN (SELECT k FROM u)")]:
            sql = "CREATE TABLE %s AS %s" % (name, query)
            r = db.execute_sql(sql)
            check(r["status_info"]["status"] == "OK", "%s: %s" % (sql, r["status_info"].get("message")))
            con.execute(sql)
            got, message = fetch_all(db, "SELECT * FROM %s" % name)
            want = [tuple(norm(v) for v in row) for row in con.execute("SELECT * FROM %s" % name).fetchall()]
            check(got is not None and same_rows(sorted(got, key=repr), sorted(want, key=repr)),
                  "%s: %r vs %r (%s)" % (sql, (got or [])[:3], want[:3], message))
            check(r.get("count_affected") == len(want), "%s: count_affected %r" % (sql, r.get("count_affected")))

        # to_df pages through execute_sql.
        frame = t.to_df()
        check(len(frame) == len(rows) and sorted(frame["id"].tolist()) == list(range(len(rows))),
              "to_df: %d rows" % len(frame))
        # PEP 249.
        from gpudb import dbapi
        conn = dbapi.connect("kinetica://", url="http://127.0.0.1:%d" % server.http_port)
        cur = conn.cursor()
        cur.execute("SELECT k, count(*) FROM t WHERE k < 3 GROUP BY k")
        got = sorted(tuple(r) for r in cur.fetchall())
        want = sorted(con.execute("SELECT k, count(*) FROM t WHERE k < 3 GROUP BY k").fetchall())
        check(got == want, "dbapi: %r vs %r" % (got, want))
        # Parameters: cursor.execute with values, executemany of an INSERT.
        cur.execute("SELECT count(*) FROM t WHERE k = $1 AND s = $2", (7, "apple"))
        got = cur.fetchall()[0][0]
        want = con.execute("SELECT count(*) FROM t WHERE k = 7 AND s = 'apple'").fetchone()[0]
        check(got == want, "dbapi with parameters: %r vs %r" % (got, want))
        db.execute_sql("CREATE TABLE p (id INT, name VARCHAR(16))")
        cur.executemany("INSERT INTO p (id, name) VALUES ($1, $2)", [(i, "n%d" % i) for i in range(25)])
        got, _ = ours(db, "SELECT count(*), sum(id) FROM p")
        check(got == [(25, 300)], "executemany: %r" % got)
        # Errors.
        for sql, words in [("SELECT id FORM t", ["syntax error", "line 1, column 16", "^"]),
                           ("SELECT * FROM nope", ["nope", "does not exist"]),
                           ("SELECT k, x FROM t GROUP BY k", ["'x'", "GROUP BY"]),
                           ("SELECT k, rank() OVER (ORDER BY x) FROM t GROUP BY k", ["'x'", "GROUP BY"]),
                           ("SELECT count(DISTINCT k) FILTER (WHERE x > 1) FROM t", ["FILTER", "not supported"]),
                           ("SELECT upper(s) FILTER (WHERE x > 1) FROM t", ["FILTER", "aggregates"]),
                           ("SELECT k, array_agg(s) FROM t GROUP BY k", ["array_agg", "not supported"]),
                           ("SELECT * FROM t JOIN empty USING (id)", ["USING", "not supported"]),
                           ("SELECT id FROM t JOIN u ON t.k = u.k", ["'id'", "several tables"]),
                           ("SELECT id FROM t WHERE k IN (SELECT k FROM u WHERE u.id = t.id)",
                            ["outer query's columns", "not supported"]),
                           ("SELECT id FROM t WHERE EXISTS (SELECT * FROM u WHERE u.k > t.k)",
                            ["outer query's columns", "not supported"]),
                           # An aliased table is named by its alias: here 'many' is the outer one.
                           ("SELECT id FROM many WHERE NOT EXISTS (SELECT 1 FROM many AS m WHERE m.id = many.id + 1)",
                            ["outer query's columns", "not supported"]),
                           ("SELECT k FROM t UNION SELECT k, name FROM u", ["UNION", "as many columns"]),
                           ("SELECT id FROM t WHERE k = (SELECT k FROM u)", ["more than one row"]),
                           ("SELECT id FROM t WHERE k IN (SELECT k, name FROM u)", ["one column"]),
                           ("SELECT nope FROM t", ["unknown column 'nope'"])]:
            _, message = ours(db, sql)
            check(all(w in message for w in words), "%s: error %r does not name %r" % (sql, message, words))
        # Close names suggested.
        for sql, close in [("SELECT * FROM tt", "'t'"), ("SELECT nmae FROM u", "'name'")]:
            _, message = ours(db, sql)
            check("did you mean " + close in message, "%s: %r suggests no %s" % (sql, message, close))

        # Kinetica's words, schemas, ALTER TABLE, EXPLAIN.
        for sql in ["CREATE SCHEMA app",
                    "CREATE OR REPLACE REPLICATED TABLE app.r (id INTEGER NOT NULL, name VARCHAR(16, DICT), "
                    "PRIMARY KEY (id))",
                    "CREATE TABLE app.s (a INTEGER(SHARD_KEY), b VARCHAR(64, TEXT_SEARCH), d DATE, SHARD KEY (a))",
                    "INSERT INTO app.s VALUES (1, 'x', '2020-01-02'), (2, 'y', '2021-05-06'), (3, 'z', '2021-07-01')",
                    "ALTER TABLE app.s ADD COLUMN e VARCHAR(8) DEFAULT 'new' NOT NULL",
                    "ALTER TABLE app.s RENAME COLUMN b TO bb",
                    "ALTER TABLE app.s RENAME TO s2"]:
            r = db.execute_sql(sql)
            check(r["status_info"]["status"] == "OK", "%s: %s" % (sql, r["status_info"].get("message")))
        shown = db.show_table("app.s2")
        check(shown["status_info"]["status"] == "OK" and "shard_key" in shown["properties"][0]["a"]
              and "text_search" in shown["properties"][0]["bb"], "SHARD KEY and column properties: %r" % shown.get("properties"))
        got, message = ours(db, "SELECT TOP 2 a, bb, d, e FROM app.s2 WHERE d >= DATE '2020-06-01' - INTERVAL '1' MONTH "
                                "ORDER BY a DESC")
        check(got == [(3, "z", "2021-07-01", "new"), (2, "y", "2021-05-06", "new")], "TOP, dates, ALTER: %r %s" % (got, message))
        # Parts of dates: the engine's functions, EXTRACT and date_part (a DATE column holds its day).
        got, message = ours(db, "SELECT a, year(d), EXTRACT(MONTH FROM d), date_part('day', d) FROM app.s2 ORDER BY a")
        check(got == [(1, 2020, 1, 2), (2, 2021, 5, 6), (3, 2021, 7, 1)], "parts of dates: %r %s" % (got, message))
        _, message = ours(db, "SELECT EXTRACT(DOW FROM d) FROM app.s2")
        check("'dow'" in message and "not supported" in message, "EXTRACT(DOW): %r" % message)
        # Timestamps written as text: inserted, compared (also as TIMESTAMP '...'), taken apart.
        for sql in ["CREATE TABLE app.ev (id INTEGER, ts TIMESTAMP)",
                    "INSERT INTO app.ev VALUES (1, '2024-01-05 10:00:00'), (2, '2024-02-10T23:59:59.250Z'), "
                    "(3, NULL), (4, '1969-12-31 23:59:59')"]:
            _, message = ours(db, sql)
            check(message == "", "%s: %s" % (sql, message))
        got, message = ours(db, "SELECT id, ts, hour(ts), minute(ts) FROM app.ev WHERE ts > '2024-01-01' "
                                "OR ts < TIMESTAMP '1970-01-01 00:00:00' ORDER BY id")
        check(got == [(1, 1704448800000, 10, 0), (2, 1707609599250, 23, 59), (4, -1000, 23, 59)],
              "timestamps as text: %r %s" % (got, message))
        _, message = ours(db, "SELECT id FROM app.ev WHERE ts = '2024-01-05 25:00'")
        check("is not a timestamp" in message, "a bad timestamp: %r" % message)
        got, message = ours(db, "EXPLAIN SELECT s2.a, count(*) FROM app.s2 AS s2 JOIN app.r AS r ON s2.a = r.id "
                                "WHERE s2.bb = 'x' GROUP BY s2.a")
        plan = "\n".join(row[0] for row in got or [])
        check("read app.s2 as s2 where s2.bb = 'x'" in plan and "/aggregate/groupby" in plan,
              "EXPLAIN: %r %s" % (plan, message))
        got, message = ours(db, "EXPLAIN SELECT a, rank() OVER (ORDER BY count(*) DESC) FROM app.s2 GROUP BY a "
                                "HAVING min(a) > 1")
        plan = [row[0] for row in got or []]
        windows = [i for i, line in enumerate(plan) if "rank() over (order by " in line and "over the groups" in line]
        having = [i for i, line in enumerate(plan) if "having" in line]
        check(len(windows) == 1 and len(having) == 1 and having[0] < windows[0],
              "EXPLAIN of a window over groups: %r %s" % (plan, message))
        # options.current_schema: where unqualified names are; options.paging_table keeps the
        # statement's rows for the pages after the first (answered from it, not run again).
        opts = {"current_schema": "app", "paging_table": "app_pages"}
        r = db_all.execute_sql_and_decode("SELECT a, d FROM s2 ORDER BY a", offset=0, limit=2, get_column_major=False,
                                          options=opts)
        check(r["status_info"]["status"] == "OK" and r["paging_table"] == "app_pages" and r["has_more_records"]
              and [rec["a"] for rec in r["records"]] == [1, 2], "paging_table, first page: %r" % r.get("paging_table"))
        db.execute_sql("DELETE FROM s2 WHERE a = 3", options={"current_schema": "app"})
        r = db_all.execute_sql_and_decode("SELECT a, d FROM s2 ORDER BY a", offset=2, limit=2, get_column_major=False,
                                          options=opts)
        check(r["status_info"]["status"] == "OK" and [rec["a"] for rec in r["records"]] == [3]
              and r["total_number_of_records"] == 3, "paging_table, later page from the table: %r" % r.get("records"))
        got, message = ours(db, "SELECT count(*) FROM app.s2")
        check(got == [(2,)], "current_schema DELETE: %r %s" % (got, message))
        check(db.execute_sql("DROP TABLE app_pages")["status_info"]["status"] == "OK", "paging table dropped")
        _, message = ours(db, "DROP SCHEMA app")
        check("not empty" in message, "DROP SCHEMA of tables: %r" % message)
        r = db.execute_sql("DROP SCHEMA app CASCADE")
        check(r["status_info"]["status"] == "OK" and not db.has_schema("app")["schema_exists"], "DROP SCHEMA CASCADE: %r" % r)
        server.stop()
    finally:
        server.kill_if_running()


if __name__ == "__main__":
    sys.exit(run_main(__doc__, "python_sql", ["gpudb", "duckdb", "pandas"], "gpudb, duckdb, pandas, grpcio and grpcio-tools",
                      run))
