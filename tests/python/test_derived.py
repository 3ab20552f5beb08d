#!/usr/bin/env python3
"""Joins, projections and unions through Kinetica's Python client, against DuckDB in SQL.

Usage: test_derived.py PATH/TO/gpudb-engine

Starts two servers over HTTP (one host device; three with --spread-chunk-rows=50, so that the
tables spread or shard over them). On both, the official client (gpudb.GPUdb, default settings)
loads three tables: orders (5000 rows: a nullable int customer key with duplicates, a string
region with nulls, an amount), customers (400 rows, keyed by id, with the region of each as a
char16 with a dictionary (`dict`: tests of it inside joins read its codes), sharded by id) and an
empty table. DuckDB gets the same rows. Then each join runs as
/create/jointable and as SQL, and the view's rows (get_records) must equal DuckDB's, as multisets:

- inner joins by `expressions` and by "join ... on", on one int key and on two keys (int and
  string, the string being a char16 on one side and a varchar on the other); an int key joined
  with a long one;
- left, right and full outer joins, with nulls in the keys (which match nothing);
- joins that pair rows within shards (info.join_execution "shard_local" on three devices):
  orders sharded by customer with customers sharded by id (inner, left, full), and with a
  replicated copy of customers (inner, left);
- semi joins ("semi join t on ..."): the rows with a match, each once (many matches each; two keys);
  an anti join ("anti join t on ..."): the rows with none, null keys included;
- a WHERE `or` of tests of both tables (inner: each table filtered first by what it implies for
  it; past a left join: not the side that may read null);
- a join with a non-equality in its condition and a filter in expressions; a cross join of small
  tables; three tables (also in an order to be changed, and joined on an implied equality); an
  empty side;
- column_names with "alias.*", "as" names and expressions of both sides;
- the join view read by /aggregate/groupby, /filter and /aggregate/statistics like a table;
- bad requests fail naming the field: an unknown alias or column, two columns of one name, an
  outer join on a non-equality, a semi join without a condition or on a non-equality, a join name
  that exists;
- /create/projection with expressions, a filter, order_by and limit, of a table and of a join
  view; persisted with a shard key (a table: inserts go in) and not (a view);
- /create/union of orders and customers as union_all, union, intersect and except, over columns
  of different types (int with int, char16 with string, double with int);
- the same through GPUdbTable's own methods (create_join_table, create_projection, create_union).

Needs gpudb, duckdb, pandas, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import json
import math
import random
import sys

from harness import check, run_main, start_server  # tests/python/harness.py

ORDERS = [["oid", "int"], ["cust", "int", "nullable"], ["region", "string", "nullable"], ["amount", "double"],
          ["big", "long"]]
CUSTOMERS = [["id", "int", "primary_key"], ["name", "string"], ["region", "string", "char16", "dict"],
             ["rank", "int", "nullable"]]
EMPTY = [["id", "int"], ["v", "double"]]
REGIONS = ["north", "south", "east", "west", "", "North"]


def data():
    rng = random.Random(11)
    orders = []
    for i in range(5000):
        orders.append([i, None if i % 23 == 0 else rng.randrange(0, 450), None if i % 31 == 0 else rng.choice(REGIONS),
                       round(rng.uniform(0, 1000), 2), rng.randrange(0, 500)])
    customers = [[c, "name%d" % c, rng.choice(REGIONS), None if c % 9 == 0 else rng.randrange(0, 5)] for c in range(400)]
    return orders, customers


def norm(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float):
        return round(v, 6)
    return v


def rows_of(db, gpudb, name):
    records = gpudb.GPUdbTable(None, name=name, db=db).get_records(0, 1000000)
    return sorted((tuple(norm(v) for v in r.values()) for r in records), key=repr)


def duck_rows(con, sql):
    return sorted((tuple(norm(v) for v in r) for r in con.execute(sql).fetchall()), key=repr)


def answer(r):
    return r["status_info"]["status"], r["status_info"].get("message", "")


# (name, table_names, column_names, expressions, the same in SQL)
JOINS = [
    ("inner_where", ["orders as o", "customers as c"], ["o.oid", "c.name", "o.amount"], ["o.cust = c.id"],
     "select o.oid, c.name, o.amount from orders o join customers c on o.cust = c.id"),
    ("inner_on", ["orders as o", "join customers c on c.id = o.cust"], ["oid", "name", "c.region as cregion"], [],
     "select oid, name, c.region from orders o join customers c on c.id = o.cust"),
    ("two_keys", ["orders as o", "inner join customers as c on o.cust = c.id and o.region = c.region"],
     ["o.*", "c.rank"], [],
     "select o.*, c.rank from orders o join customers c on o.cust = c.id and o.region = c.region"),
    ("int_long", ["orders as o", "customers as c"], ["o.oid", "c.id"], ["o.big = c.id"],
     "select o.oid, c.id from orders o join customers c on o.big = c.id"),
    ("left", ["orders as o", "left join customers as c on o.cust = c.id"],
     ["o.oid", "c.name", "c.rank", "o.amount * 2 + c.rank as score"], [],
     "select o.oid, c.name, c.rank, o.amount * 2 + c.rank from orders o left join customers c on o.cust = c.id"),
    ("right", ["orders as o", "right outer join customers as c on o.cust = c.id"], ["o.oid", "c.id", "o.region"], [],
     "select o.oid, c.id, o.region from orders o right join customers c on o.cust = c.id"),
    ("full_strings", ["customers as a", "full outer join orders as b on a.region = b.region"],
     ["a.id", "b.oid"], ["b.oid < 300 or b.oid is null"],
     "select a.id, b.oid from customers a full join orders b on a.region = b.region "
     "where b.oid < 300 or b.oid is null"),
    ("non_equi", ["orders as o", "join customers c on o.cust = c.id and o.amount > c.rank * 200"],
     ["oid", "id"], ["o.region <> 'east'"],
     "select oid, id from orders o join customers c on o.cust = c.id and o.amount > c.rank * 200 "
     "where o.region <> 'east'"),
    ("cross", ["customers as a", "customers as b"], ["a.id as x", "b.id as y"], ["a.id < 20", "b.id < 15"],
     "select a.id, b.id from customers a, customers b where a.id < 20 and b.id < 15"),
    ("three", ["orders as o", "customers as c", "customers as d"], ["o.oid", "c.id as cid", "d.name"],
     ["o.cust = c.id", "c.rank = d.id"],
     "select o.oid, c.id, d.name from orders o join customers c on o.cust = c.id join customers d on c.rank = d.id"),
    # Joined in the order of least estimated rows, not the order given: a
    # table with no equality to the first joins later; d joins o on the
    # equality that o.cust = c.id and c.id = d.id imply.
    ("reordered", ["customers as c", "customers as d", "orders as o"], ["o.oid", "c.name", "d.rank"],
     ["o.cust = d.id", "o.amount > 980", "c.rank = o.cust % 5"],
     "select o.oid, c.name, d.rank from customers c, customers d, orders o "
     "where o.cust = d.id and o.amount > 980 and c.rank = o.cust % 5"),
    ("implied", ["customers as c", "orders as o", "customers as d"], ["o.oid", "c.id as cid", "d.name"],
     ["o.cust = c.id", "c.id = d.id", "o.region = 'north'", "d.rank <> c.rank - 1"],
     "select o.oid, c.id, d.name from customers c, orders o, customers d "
     "where o.cust = c.id and c.id = d.id and o.region = 'north' and d.rank <> c.rank - 1"),
    # An `or` of tests of both tables: each table is first filtered by what
    # it implies for it alone (o: region = 'north' or amount < 100 or region
    # is null; c: rank = 1 or rank is null or region = 'east'), the rows
    # joined then by the whole; nulls on both sides.
    ("or_of_both", ["orders as o", "customers as c"], ["o.oid", "c.id", "o.amount"],
     ["o.cust = c.id", "(o.region = 'north' and c.rank = 1) or (o.amount < 100 and c.rank is null) "
      "or (o.region is null and c.region = 'east' and o.amount > 10)"],
     "select o.oid, c.id, o.amount from orders o join customers c on o.cust = c.id "
     "where (o.region = 'north' and c.rank = 1) or (o.amount < 100 and c.rank is null) "
     "or (o.region is null and c.region = 'east' and o.amount > 10)"),
    # The same past a left join: the customers may read null, so what the
    # `or` implies for them must not filter them before the join (an order
    # whose customer's rank is 3 would read null and pass `c.rank is null`).
    ("or_of_left", ["orders as o", "left join customers as c on o.cust = c.id"], ["o.oid", "c.id"],
     ["(o.amount < 300 and c.rank = 2) or (o.amount > 700 and c.rank is null)"],
     "select o.oid, c.id from orders o left join customers c on o.cust = c.id "
     "where (o.amount < 300 and c.rank = 2) or (o.amount > 700 and c.rank is null)"),
    # A semi join: the orders that have a customer of rank above 2, each once.
    ("semi", ["orders as o", "semi join customers as c on o.cust = c.id"], ["o.oid", "o.amount"],
     ["c.rank > 2", "o.amount < 500"],
     "select o.oid, o.amount from orders o where o.amount < 500 and exists "
     "(select * from customers c where c.id = o.cust and c.rank > 2)"),
    # An anti join: the orders of no customer of rank above 2 (a null customer key too).
    ("anti", ["orders as o", "anti join customers as c on o.cust = c.id"], ["o.oid", "o.cust"],
     ["c.rank > 2", "o.amount < 500"],
     "select o.oid, o.cust from orders o where o.amount < 500 and not exists "
     "(select * from customers c where c.id = o.cust and c.rank > 2)"),
    ("semi_duplicates", ["customers as c", "semi join orders as o on c.id = o.cust and c.region = o.region"],
     ["c.*"], [],
     "select c.* from customers c where exists (select * from orders o where c.id = o.cust and c.region = o.region)"),
    ("empty_left", ["orders as o", "left join empty as e on o.cust = e.id"], ["o.oid", "e.v"], [],
     "select o.oid, e.v from orders o left join empty e on o.cust = e.id"),
    ("empty_inner", ["empty as e", "orders as o"], ["o.oid", "e.v"], ["o.cust = e.id"],
     "select o.oid, e.v from empty e join orders o on o.cust = e.id"),
    # Shard by shard on several devices: both sharded on the keys, or one side replicated.
    ("local_inner", ["orders_by_cust as o", "customers as c"], ["o.oid", "c.name"], ["o.cust = c.id"],
     "select o.oid, c.name from orders o join customers c on o.cust = c.id"),
    ("local_left", ["orders_by_cust as o", "left join customers as c on o.cust = c.id"], ["o.oid", "c.rank"], [],
     "select o.oid, c.rank from orders o left join customers c on o.cust = c.id"),
    ("local_full", ["orders_by_cust as o", "full join customers as c on c.id = o.cust"], ["o.oid", "c.id"], [],
     "select o.oid, c.id from orders o full join customers c on c.id = o.cust"),
    ("local_replicated", ["orders as o", "left join customer_copies as c on o.region = c.region"],
     ["o.oid", "c.id"], ["o.oid < 200"],
     "select o.oid, c.id from orders o left join customers c on o.region = c.region where o.oid < 200"),
    ("local_replicated_inner", ["orders as o", "customer_copies as c"], ["o.oid", "c.name"],
     ["o.cust = c.id and o.amount > 100"],
     "select o.oid, c.name from orders o join customers c on o.cust = c.id where o.amount > 100"),
]

# The joins that pair rows within shards when the tables are distributed.
SHARD_LOCAL = {"local_inner", "local_left", "local_full", "local_replicated", "local_replicated_inner"}


# (name, table, column_names, options, SQL)
PROJECTIONS = [
    ("p_plain", "orders", ["oid", "amount * 2 as twice", "region"], {},
     "select oid, amount * 2, region from orders"),
    ("p_top", "orders", ["oid", "cust"], {"expression": "region = 'north'", "order_by": "amount desc, oid", "limit": "25"},
     "select oid, cust from orders where region = 'north' order by amount desc, oid limit 25"),
    ("p_join", "j_left", ["name", "score"], {"expression": "score > 100"},
     "select c.name, o.amount * 2 + c.rank from orders o left join customers c on o.cust = c.id "
     "where o.amount * 2 + c.rank > 100"),
]

# (mode, SQL)
UNIONS = [
    ("union_all", "select cust, region, amount from orders union all select id, region, rank from customers"),
    ("union", "select cust, region, amount from orders union select id, region, rank from customers"),
    ("intersect", "select cust, region, amount from orders intersect select id, region, rank from customers"),
    ("except", "select cust, region, amount from orders except select id, region, rank from customers"),
]


def check_projections_and_unions(db, gpudb, con, devices):
    for name, table, columns, options, sql in PROJECTIONS:
        status, message = answer(db.create_projection(table, name, columns, options=options))
        check(status == "OK", "%s %s: %s" % (devices, name, message))
        if status == "OK":
            got, want = rows_of(db, gpudb, name), duck_rows(con, sql)
            if "order_by" in options:  # the order is part of the answer
                got = [tuple(norm(v) for v in r.values())
                       for r in gpudb.GPUdbTable(None, name=name, db=db).get_records(0, 1000)]
                want = [tuple(norm(v) for v in r) for r in con.execute(sql).fetchall()]
            check(got == want, "%s %s: %d rows, DuckDB %d; %r vs %r" % (devices, name, len(got), len(want),
                                                                        got[:2], want[:2]))
    # Persisted with a shard key: a table that takes inserts.
    status, message = answer(db.create_projection("customers", "p_kept", ["id", "name"],
                                                  options={"persist": "true", "shard_key": "id"}))
    check(status == "OK", "%s p_kept: %s" % (devices, message))
    kept = gpudb.GPUdbTable(None, name="p_kept", db=db)
    kept.insert_records([[1000, "new"]])
    check(kept.size() == 401, "%s: the persisted projection holds %d rows" % (devices, kept.size()))
    status, message = answer(db.create_projection("orders", "p_bad", ["oid", "nope"]))
    check(status == "ERROR" and message.startswith("column_names[1]"), "%s: projection error %r" % (devices, message))
    for mode, sql in UNIONS:
        name = "u_" + mode
        r = db.create_union(name, ["orders", "customers"], [["cust", "region", "amount"], ["id", "region", "rank"]],
                            ["c", "r", "v"], options={"mode": mode})
        status, message = answer(r)
        check(status == "OK", "%s %s: %s" % (devices, name, message))
        if status == "OK":
            got, want = rows_of(db, gpudb, name), duck_rows(con, sql)
            check(got == want, "%s %s: %d rows, DuckDB %d; %r vs %r" % (devices, name, len(got), len(want),
                                                                        got[:2], want[:2]))
    status, message = answer(db.create_union("u_bad", ["orders", "customers"], [["cust"], ["id", "rank"]], ["c"]))
    check(status == "ERROR" and message.startswith("input_column_names[1]"), "%s: union error %r" % (devices, message))
    status, message = answer(db.create_union("u_bad", ["orders"], [["cust"]], ["c"], options={"mode": "outer"}))
    check(status == "ERROR" and message.startswith("options.mode"), "%s: union mode error %r" % (devices, message))


def check_high_level(db, gpudb, con, devices):
    """The same through GPUdbTable's own methods, which return tables of their results."""
    j = gpudb.GPUdbTable.create_join_table(db, "hl_join", ["orders as o", "customers as c"], ["o.oid", "c.name"],
                                           ["o.cust = c.id", "o.amount < 100"])
    want = con.execute("select count(*) from orders o join customers c on o.cust = c.id "
                       "where o.amount < 100").fetchone()[0]
    check(j.size() == want, "%s: GPUdbTable.create_join_table: %d rows, DuckDB %d" % (devices, j.size(), want))
    orders = gpudb.GPUdbTable(None, name="orders", db=db)
    p = orders.create_projection(["oid", "amount"], options={"expression": "amount > 990"},
                                 projection_name="hl_projection")
    want = con.execute("select count(*) from orders where amount > 990").fetchone()[0]
    check(p.size() == want, "%s: GPUdbTable.create_projection: %d rows, DuckDB %d" % (devices, p.size(), want))
    u = gpudb.GPUdbTable.create_union(db, "hl_union", ["orders", "customers"], [["region"], ["region"]], ["region"],
                                      options={"mode": "union"})
    want = con.execute("select count(*) from (select region from orders union select region from customers)").fetchone()[0]
    check(u.size() == want, "%s: GPUdbTable.create_union: %d rows, DuckDB %d" % (devices, u.size(), want))


def run(binary, work, pb, rpc):
    import duckdb
    import gpudb
    import pandas as pd
    orders, customers = data()
    con = duckdb.connect()
    con.register("orders_df", pd.DataFrame(orders, columns=[c[0] for c in ORDERS]))
    con.register("customers_df", pd.DataFrame(customers, columns=[c[0] for c in CUSTOMERS]))
    con.execute("create table orders as select oid::int oid, cust::int cust, region, amount, big::bigint big "
                "from orders_df")
    con.execute("create table customers as select id::int id, name, region, rank::int rank from customers_df")
    con.execute("create table empty (id int, v double)")
    servers = []
    try:
        for devices in ("host:1", "host:3"):
            server = start_server(binary, ["--devices=" + devices, "--spread-chunk-rows=50"], http=True)
            servers.append(server)
            db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
            t = gpudb.GPUdbTable(ORDERS, name="orders", db=db)
            for b in range(0, len(orders), 1000):
                t.insert_records(orders[b:b + 1000])
            gpudb.GPUdbTable(CUSTOMERS, name="customers", db=db).insert_records(customers)
            gpudb.GPUdbTable(EMPTY, name="empty", db=db)
            by_cust = [["oid", "int"], ["cust", "int", "nullable", "shard_key"]] + ORDERS[2:]
            t = gpudb.GPUdbTable(by_cust, name="orders_by_cust", db=db)
            for b in range(0, len(orders), 1000):
                t.insert_records(orders[b:b + 1000])
            gpudb.GPUdbTable(CUSTOMERS, name="customer_copies", db=db,
                             options={"is_replicated": "true"}).insert_records(customers)
            for name, tables, columns, expressions, sql in JOINS:
                r = db.create_join_table("j_" + name, tables, columns, expressions)
                status, message = answer(r)
                check(status == "OK", "%s %s: %s" % (devices, name, message))
                if status != "OK":
                    continue
                want = duck_rows(con, sql)
                got = rows_of(db, gpudb, "j_" + name)
                check(r["count"] == len(want), "%s %s: count %s, DuckDB %d" % (devices, name, r["count"], len(want)))
                execution = r["info"].get("join_execution")
                expected = "shard_local" if devices != "host:1" and name in SHARD_LOCAL else "one_device"
                check(execution == expected, "%s %s: executed %s, expected %s" % (devices, name, execution, expected))
                check(got == want, "%s %s: %d rows differ from DuckDB's %d; first %r vs %r" % (
                    devices, name, len(got), len(want), got[:2], want[:2]))

            # The join view read like a table.
            r = db.aggregate_group_by("j_left", ["name", "count(*)", "sum(rank)"], 0, 10000, encoding="json")
            check(r["status_info"]["status"] == "OK", "%s: group-by on a join: %s" % (devices, answer(r)))
            if r["status_info"]["status"] == "OK":
                cols = json.loads(r["json_encoded_response"])
                got = sorted((tuple(norm(v) for v in row) for row in zip(cols["column_1"], cols["column_2"],
                                                                        cols["column_3"])), key=repr)
                want = duck_rows(con, "select c.name, count(*), sum(c.rank) from orders o left join customers c "
                                      "on o.cust = c.id group by c.name")
                check(got == want, "%s: group-by on a join: %d groups, DuckDB %d; %r vs %r" % (
                    devices, len(got), len(want), got[:2], want[:2]))
            r = db.filter("j_inner_where", "j_filtered", "amount > 500 and name like 'name1%'")
            want = con.execute("select count(*) from orders o join customers c on o.cust = c.id "
                               "where amount > 500 and name like 'name1%'").fetchone()[0]
            check(r.get("count") == want, "%s: filter on a join: %s, DuckDB %d" % (devices, r.get("count"), want))
            r = db.aggregate_statistics("j_two_keys", "amount", "count,sum,mean")
            want = con.execute("select count(*), sum(o.amount), avg(o.amount) from orders o join customers c "
                               "on o.cust = c.id and o.region = c.region").fetchone()
            check(r["status_info"]["status"] == "OK" and abs(r["stats"]["sum"] - want[1]) < 1e-6 * max(1, want[1])
                  and r["stats"]["count"] == want[0], "%s: statistics on a join: %r vs %r" % (devices, r.get("stats"), want))

            # Bad requests name the field.
            bad = [
                (["orders as o", "customers as c"], ["o.oid"], ["o.cust = x.id"], "expressions[0]"),
                (["orders as o", "customers as c"], ["o.nope"], ["o.cust = c.id"], "column_names[0]"),
                (["orders as o", "customers as c"], ["o.region", "c.region"], ["o.cust = c.id"], "column_names"),
                (["orders as o", "left join customers c on o.cust < c.id"], ["o.oid"], [], "table_names[1]"),
                (["orders as o", "nosuch as c"], ["o.oid"], [], "table_names[1]"),
                (["orders as o", "orders as o"], ["o.oid"], [], "table_names[1]"),
                (["orders as o", "semi join customers as c"], ["o.oid"], [], "table_names[1]"),
                (["orders as o", "semi join customers as c on o.cust < c.id"], ["o.oid"], [], "table_names[1]"),
                (["orders as o", "anti join customers as c"], ["o.oid"], [], "table_names[1]"),
            ]
            for tables, columns, expressions, field in bad:
                r = db.create_join_table("j_bad", tables, columns, expressions)
                status, message = answer(r)
                check(status == "ERROR" and message.startswith(field), "%s: %r gave %r" % (devices, tables, message))
            check_projections_and_unions(db, gpudb, con, devices)
            check_high_level(db, gpudb, con, devices)
            status, message = answer(db.create_join_table("j_left", ["orders"], ["oid"], []))
            check(status == "ERROR" and "join_table_name" in message, "%s: an existing join name: %r" % (devices, message))
            server.stop()
    finally:
        for server in servers:
            server.kill_if_running()


if __name__ == "__main__":
    sys.exit(run_main(__doc__, "python_derived", ["gpudb", "duckdb", "pandas"],
                      "gpudb, duckdb, pandas, grpcio and grpcio-tools", run))
