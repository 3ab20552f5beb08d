#!/usr/bin/env python3
"""SQL through Kinetica's Python client, against DuckDB running the same statements.

Usage: test_sql.py PATH/TO/gpudb-engine

Starts a server over HTTP; loads one table (3,000 rows: an int key with duplicates and nulls, a
string with nulls and shared prefixes, a double, a long) and an empty one, the same rows into
DuckDB. Every statement of the corpus below runs through `execute_sql_and_decode` and through
DuckDB; the answers must be equal, as multisets of rows unless the statement orders them (then
in order), doubles to 1e-9. Then the client's other SQL paths: `GPUdbTable.to_df()` (paged
through `execute_sql` 10,000 rows at a time, here with a 250-row server maximum so that it
pages), `gpudb.dbapi` (connect, cursor, execute, fetchall) and errors: a syntax error names line
and column with a caret, an unknown table, a column not in GROUP BY, an unsupported feature
(named).

Changes: CREATE TABLE AS (a projection, groups, a join, an ordered LIMIT), CREATE TABLE, INSERT VALUES (with and without a column list), UPDATE, DELETE and DROP
TABLE through execute_sql, the table then equal to DuckDB's after the same statements; a duplicate
primary key, an upsert (options.update_on_existing_pk), count_affected. Parameters ($1, $2) from
gpudb.dbapi's execute and executemany.

Joins: a second table of 50 rows with duplicate keys, joined inner, left, right, full, by commas
and WHERE, to itself, three ways, under GROUP BY.

Needs gpudb, duckdb, pandas, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import math
import random
import sys

from harness import check, run_main, start_server  # tests/python/harness.py

COLUMNS = [["id", "int"], ["k", "int", "nullable"], ["s", "string", "nullable"], ["x", "double"],
           ["big", "long"]]
WORDS = ["apple", "apricot", "banana", "band", "", "cherry", "Kiwi", "kiwi"]

# Statements both engines answer alike (ORDER BY ones compared in order).
CORPUS = [
    "SELECT * FROM t",
    "SELECT id, x FROM t WHERE x > 500",
    "SELECT id FROM t WHERE k = 3 OR k IN (5, 7, 11)",
    "SELECT id FROM t WHERE k NOT IN (1, 2) AND x < 100",
    "SELECT id FROM t WHERE k IS NULL",
    "SELECT id FROM t WHERE s IS NOT NULL AND s LIKE 'ap%'",
    "SELECT id FROM t WHERE s ILIKE 'KIWI'",
    "SELECT id FROM t WHERE s NOT LIKE '%an%'",
    "SELECT id FROM t WHERE x BETWEEN 100 AND 200",
    "SELECT id FROM t WHERE NOT (x > 10)",
    "SELECT id, x * 2 + big / 10.0 AS v FROM t WHERE big % 7 = 0",
    "SELECT id, -x AS neg FROM t WHERE id < 50",
    "SELECT id, CASE WHEN x > 500 THEN 'big' WHEN x > 100 THEN 'mid' ELSE 'small' END AS size FROM t",
    "SELECT id, CASE k WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS word FROM t",
    "SELECT id, COALESCE(k, -1) AS k2 FROM t",
    "SELECT id, abs(x - 500) AS d, round(x) AS r FROM t WHERE id < 100",
    "SELECT id, lower(s) AS l, upper(s) AS u, length(s) AS n FROM t WHERE s IS NOT NULL",
    "SELECT id FROM t ORDER BY x DESC LIMIT 10",
    "SELECT id, x FROM t ORDER BY x LIMIT 5 OFFSET 20",
    "SELECT id FROM t ORDER BY id DESC LIMIT 7",
    "SELECT count(*) FROM t",
    "SELECT count(*) FROM t WHERE x > 900",
    "SELECT sum(x), min(x), max(x), avg(x) FROM t",
    "SELECT count(k) FROM t",
    "SELECT count(DISTINCT k) FROM t",
    "SELECT k, count(*) FROM t GROUP BY k",
    "SELECT k, count(*) AS n, sum(x) AS total FROM t GROUP BY k HAVING count(*) > 60",
    "SELECT s, max(big), min(x) FROM t GROUP BY s",
    "SELECT k, s, count(*) FROM t WHERE x > 300 GROUP BY k, s",
    "SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY n DESC, k LIMIT 5",
    "SELECT k, avg(x) AS a FROM t WHERE k IS NOT NULL GROUP BY k ORDER BY k",
    "SELECT DISTINCT k FROM t",
    "SELECT DISTINCT s, k FROM t WHERE id < 500",
    "SELECT stddev_samp(x), var_samp(x), stddev_pop(x), var_pop(x) FROM t",
    "SELECT k, stddev(x) AS sd FROM t GROUP BY k",
    "SELECT * FROM empty",
    "SELECT count(*) FROM empty",
    "SELECT id FROM t WHERE x > 2000",
    "SELECT t.id, t.x FROM t WHERE t.k = 4",
    "SELECT u.id FROM t AS u WHERE u.big < 20",
    "SELECT id, CAST(k AS DOUBLE) / 2 AS half FROM t WHERE k IS NOT NULL AND id < 40",
    # Joins (u: 50 rows, keys 0..44 with two of each below 5, a string and a nullable rank).
    "SELECT t.id, u.name FROM t JOIN u ON t.k = u.k WHERE t.x > 900",
    "SELECT t.id, u.name FROM t LEFT JOIN u ON t.k = u.k WHERE t.id < 100",
    "SELECT t.id, u.name FROM t RIGHT JOIN u ON t.k = u.k AND t.s = u.name",
    "SELECT t.id, u.k FROM t FULL OUTER JOIN u ON t.k = u.k WHERE t.id < 50 OR t.id IS NULL",
    "SELECT u.name, count(*) AS n, avg(t.x) AS a FROM t JOIN u ON t.k = u.k GROUP BY u.name",
    "SELECT t.id, u.rank FROM t, u WHERE t.k = u.k AND t.big < 10",
    "SELECT * FROM t JOIN u ON t.k = u.k WHERE t.id < 30",
    "SELECT a.id, b.id FROM t AS a JOIN t AS b ON a.id = b.big WHERE a.id < 20",
    "SELECT t.id, u.name, v.name FROM t JOIN u ON t.k = u.k JOIN u AS v ON u.rank = v.k WHERE t.id < 200",
    "SELECT name, sum(x) AS total FROM t JOIN u ON t.k = u.k WHERE rank IS NOT NULL GROUP BY name ORDER BY total DESC LIMIT 3",
]


def data():
    rng = random.Random(5)
    rows = []
    for i in range(3000):
        rows.append([i, None if i % 19 == 0 else rng.randrange(0, 40), None if i % 23 == 0 else rng.choice(WORDS),
                     round(rng.uniform(0, 1000), 3), rng.randrange(0, 1000)])
    return rows


def norm(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
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
    server = start_server(binary, ["--max-get-records-size=250"], http=True)
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        t = gpudb.GPUdbTable(COLUMNS, name="t", db=db)
        for b in range(0, len(rows), 1000):
            t.insert_records(rows[b:b + 1000])
        gpudb.GPUdbTable([["id", "int"], ["v", "double"]], name="empty", db=db)
        gpudb.GPUdbTable([["id", "int"], ["k", "int"], ["name", "string"], ["rank", "int", "nullable"]], name="u",
                         db=db).insert_records(u_rows)
        db_all = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        for sql in CORPUS:
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
            if "ORDER BY" not in sql:
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
                            ("top", "SELECT id, big FROM t ORDER BY big DESC, id LIMIT 7")]:
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
                           ("SELECT * FROM t JOIN empty USING (id)", ["USING", "not supported"]),
                           ("SELECT id FROM t JOIN u ON t.k = u.k", ["'id'", "several tables"]),
                           ("SELECT id FROM t WHERE id IN (SELECT id FROM empty)", ["subqueries"]),
                           ("SELECT nope FROM t", ["unknown column 'nope'"])]:
            _, message = ours(db, sql)
            check(all(w in message for w in words), "%s: error %r does not name %r" % (sql, message, words))
        server.stop()
    finally:
        server.kill_if_running()


if __name__ == "__main__":
    sys.exit(run_main(__doc__, "python_sql", ["gpudb", "duckdb", "pandas"], "gpudb, duckdb, pandas, grpcio and grpcio-tools",
                      run))
