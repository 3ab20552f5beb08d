#!/usr/bin/env python3
"""Kinetica's high-level Python API (PyPI `gpudb`, unchanged: GPUdbTable) against the server over HTTP.

Usage: test_gpudb_table.py PATH/TO/gpudb-engine

Starts the server binary with HTTP on a free port and connects with the client's default settings
(gpudb.GPUdb(host=url)), then, as a user would:

- a 40,000-row pandas frame (every column type from_df maps: long, int, int16, int8, double, float,
  boolean, timestamp, charN, nullable charN) loaded with GPUdbTable.from_df; size; get_records in
  binary and json and get_records_by_column in both, all equal to the frame; filter (counts and the
  views it returns equal pandas'); aggregate_min_max, aggregate_statistics, aggregate_unique,
  aggregate_group_by and aggregate_histogram equal pandas'; clear;
- GPUdbTable from a column list and from a GPUdbRecordType; insert_records with lists, dicts and
  GPUdbRecords; the table opened again by name from another connection; db.get_records in json and
  binary from a connection that has not seen the type (the client looks it up with /show/types);
  get_records_from_collection with record ids;
- use_multihead_io=True (the server has one rank: the client sends everything to it): inserts,
  flush, get_records, get_records_by_key;
- schemas: create/has/show/drop (cascade), tables and views in a schema, a table opened with the
  deprecated collection_name option, table metadata, clear_tables, and the errors a user meets.

GPUdbTable.to_df() runs /execute/sql: tests/python/test_sql.py tests it.

Needs gpudb[dataframe] (pandas), numpy, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import json
import math
import sys

from harness import check, close, guarded, run_main, start_server  # tests/python/harness.py

ROWS = 40000
PAGE = 20000  # the server's default max_get_records_size


def make_frame(rows):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(20261204)
    return pd.DataFrame({
        "id": rng.permutation(rows).astype(np.int64),
        "i32": rng.integers(-100000, 100000, rows).astype(np.int32),
        "i16": rng.integers(-3000, 3000, rows).astype(np.int16),
        "i8": rng.integers(-100, 100, rows).astype(np.int8),
        "f64": rng.random(rows),
        "f32": rng.random(rows).astype(np.float32),
        "flag": rng.random(rows) < 0.3,
        # datetime64[ns] at whole milliseconds: Kinetica's timestamps are ms.
        "ts": pd.to_datetime(rng.integers(1_500_000_000_000, 1_700_000_000_000, rows), unit="ms")
                .astype("datetime64[ns]"),
        "name": rng.choice(["ant", "bee", "cat", "dog", "eel"], rows),
        "note": pd.Series([None if i % 7 == 0 else "n%d" % (i % 1000) for i in range(rows)], dtype=object),
    })


def expected_rows(df):
    """The frame as the rows the server returns: sorted by id, timestamps in ms, booleans as 0/1."""
    import numpy as np
    s = df.sort_values("id")
    ts = s["ts"].astype("int64") // 1_000_000
    return [[int(r[0]), int(r[1]), int(r[2]), int(r[3]), float(r[4]), float(np.float32(r[5])), int(r[6]), int(t),
             r[8], r[9]]
            for r, t in zip(s.itertuples(index=False), ts)]


COLUMNS = ["id", "i32", "i16", "i8", "f64", "f32", "flag", "ts", "name", "note"]


def same_rows(got, want):
    """Rows equal, the float column (f32, index 5) compared as float32 (JSON carries it shortest)."""
    import numpy as np
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g[:5] + g[6:] != w[:5] + w[6:] or np.float32(g[5]) != np.float32(w[5]):
            return False
    return True


def read_all(table, encoding):
    """Every record of the table by pages of the server's maximum, sorted by id, as lists."""
    rows = []
    for offset in range(0, ROWS, PAGE):
        records = table.get_records(offset, PAGE, encoding=encoding, options={"sort_by": "id"})
        rows += [[rec[c] for c in COLUMNS] for rec in records]
    return rows


# --- The frame: from_df, reads, filters, aggregates --------------------------------------

def frame_round_trip(db):
    import gpudb
    import numpy as np

    df = make_frame(ROWS)
    table = gpudb.GPUdbTable.from_df(df, db, "frame", clear_table=True)
    check(table.size() == ROWS, "from_df: size %s, want %d" % (table.size(), ROWS))
    shown = db.show_table("frame")
    check(shown["properties"][0] == {"flag": ["boolean"], "i16": ["int16"], "i8": ["int8"], "name": ["char4"],
                                     "note": ["char4", "nullable"], "ts": ["timestamp"]},
          "from_df: column properties %s" % shown["properties"])

    want = expected_rows(df)
    for encoding in ("binary", "json"):
        got = read_all(table, encoding)
        check(same_rows(got, want), "get_records %s: rows differ from the frame (first %s vs %s)"
              % (encoding, got[:1], want[:1]))

    by_id = df.sort_values("id")
    for encoding in ("binary", "json"):
        cols = table.get_records_by_column(["id", "i32", "ts", "note", "f64 * 2 as twice"], 100, 50,
                                           encoding=encoding, options={"sort_by": "id"})
        page = by_id.iloc[100:150]
        check(list(cols["id"]) == page["id"].tolist() and list(cols["i32"]) == page["i32"].tolist(),
              "get_records_by_column %s: id/i32 %s" % (encoding, list(cols["id"])[:3]))
        check(list(cols["ts"]) == (page["ts"].astype("int64") // 1_000_000).tolist(),
              "get_records_by_column %s: ts %s" % (encoding, list(cols["ts"])[:3]))
        check(list(cols["note"]) == page["note"].tolist(), "get_records_by_column %s: note" % encoding)
        check(all(close(a, b) for a, b in zip(cols["twice"], (page["f64"] * 2).tolist())),
              "get_records_by_column %s: f64 * 2" % encoding)

    ts_mid = int(np.median(df["ts"].astype("int64") // 1_000_000))
    filters = [
        ("i32 > 0 and f64 < 0.5", (df.i32 > 0) & (df.f64 < 0.5)),
        ("name = 'cat' or name = 'eel'", df.name.isin(["cat", "eel"])),
        ("is_null(note)", df.note.isna()),
        ("i8 between -10 and 10", df.i8.between(-10, 10)),
        ("flag = 1 and i16 < 0", df.flag & (df.i16 < 0)),
        ("ts >= %d" % ts_mid, df.ts.astype("int64") // 1_000_000 >= ts_mid),
    ]
    for expression, mask in filters:
        view = table.filter(expression)
        check(view.size() == int(mask.sum()), "filter %s: view size %s, want %d"
              % (expression, view.size(), int(mask.sum())))
    view = table.filter("name = 'dog' and f32 > 0.9")
    want_ids = sorted(df[(df.name == "dog") & (df.f32 > np.float32(0.9))]["id"].tolist())
    got_ids = [rec["id"] for rec in view.get_records(0, -9999, options={"sort_by": "id"})]
    check(got_ids == want_ids, "filter view records: %d ids, want %d" % (len(got_ids), len(want_ids)))
    # A filter of a view, which is a view too.
    check(view.filter("i32 > 0").size() == int(((df.name == "dog") & (df.f32 > np.float32(0.9))
                                                & (df.i32 > 0)).sum()), "filter of a view")

    r = table.aggregate_min_max("f64")
    check(r["min"] == df.f64.min() and r["max"] == df.f64.max(), "aggregate_min_max: %s" % dict(r))
    r = table.aggregate_statistics("i32", "count,sum,mean,min,max,stdv,variance")["stats"]
    want_stats = {"count": len(df), "sum": int(df.i32.sum()), "mean": df.i32.mean(), "min": df.i32.min(),
                  "max": df.i32.max(), "stdv": df.i32.std(), "variance": df.i32.var()}
    for k, v in want_stats.items():
        check(close(r.get(k), float(v)), "aggregate_statistics %s: %s, want %s" % (k, r.get(k), v))
    r = table.aggregate_unique("name", 0, -9999)
    check(list(r["data"]["name"]) == sorted(df.name.unique()), "aggregate_unique: %s" % r["data"])
    r = table.aggregate_group_by(["name", "count(*)", "sum(i32)", "avg(f64)", "max(i16)", "min(ts)"], 0, -9999)
    g = df.assign(ms=df.ts.astype("int64") // 1_000_000).groupby("name").agg(
        count=("id", "size"), sum=("i32", "sum"), avg=("f64", "mean"), max=("i16", "max"), min=("ms", "min"))
    data = r["data"]
    check(list(data["name"]) == g.index.tolist(), "aggregate_group_by: groups %s" % list(data["name"]))
    check(list(data["count(*)"]) == g["count"].tolist() and list(data["sum(i32)"]) == g["sum"].tolist()
          and list(data["max(i16)"]) == g["max"].tolist() and list(data["min(ts)"]) == g["min"].tolist(),
          "aggregate_group_by: %s" % dict(data))
    check(all(close(a, b) for a, b in zip(data["avg(f64)"], g["avg"].tolist())), "aggregate_group_by: avg")
    r = table.aggregate_histogram("f64", 0.0, 1.0, 0.125)
    bins = np.minimum((df.f64 / 0.125).astype(int), 7)
    check([int(c) for c in r["counts"]] == np.bincount(bins, minlength=8).tolist(),
          "aggregate_histogram: %s" % r["counts"])

    table.clear()
    check(not db.has_table("frame")["table_exists"], "clear: the table is still there")


# --- Tables from types; records in every form; types looked up ---------------------------

def typed_tables(db, url):
    import gpudb
    from gpudb import GPUdbRecordColumn as Col, GPUdbColumnProperty as Prop

    columns = [["id", "int"], ["x", "double", "nullable"], ["name", "string", "char16"]]
    people = gpudb.GPUdbTable(columns, name="people", db=db)
    record_type = gpudb.GPUdbRecordType([Col("id", Col._ColumnType.INT),
                                         Col("x", Col._ColumnType.DOUBLE, [Prop.NULLABLE]),
                                         Col("name", Col._ColumnType.STRING, [Prop.CHAR16])])
    people.insert_records([[1, 1.5, "ann"], [2, None, "bob"]])
    people.insert_records([{"id": 3, "x": 2.5, "name": "cid"}, {"id": 4, "x": None, "name": "dee"}])
    people.insert_records([gpudb.GPUdbRecord(record_type, [5, -1.0, "eve"])])
    people.insert_records(6, 6.5, "fay")  # one record as arguments
    want = [[1, 1.5, "ann"], [2, None, "bob"], [3, 2.5, "cid"], [4, None, "dee"], [5, -1.0, "eve"],
            [6, 6.5, "fay"]]
    check(people.size() == 6, "people: size %s" % people.size())
    for encoding in ("binary", "json"):
        got = [[r["id"], r["x"], r["name"]] for r in people.get_records(encoding=encoding)]
        check(got == want, "people get_records %s: %s" % (encoding, got))

    # The same table by its name from another connection: type and rows.
    other = gpudb.GPUdb(host=url)
    opened = gpudb.GPUdbTable(None, name="people", db=other)
    check(opened.size() == 6, "opened people: size %s" % opened.size())
    check(opened.gpudbrecord_type == people.gpudbrecord_type, "opened people: type differs")
    check([r["name"] for r in opened.get_records()] == [w[2] for w in want], "opened people: records")
    again = gpudb.GPUdbTable(record_type, name="people", db=other)  # the same type: no error
    check(again.size() == 6, "people with its type again: size %s" % again.size())
    typed = gpudb.GPUdbTable(record_type, name="typed", db=db)
    typed.insert_records([[7, None, "gus"]])
    check([[r["id"], r["x"], r["name"]] for r in typed.get_records()] == [[7, None, "gus"]], "typed records")

    # db.get_records from connections that have not seen the type: /show/types.
    fresh = gpudb.GPUdb(host=url)
    r = fresh.get_records("people", 0, 20, "json")
    check(r["status_info"]["status"] == "OK" and r["record_type"] is not None, "get_records json: %s" % dict(r))
    check([json.loads(s)["name"] for s in r["records_json"]] == [w[2] for w in want], "get_records json rows")
    fresh = gpudb.GPUdb(host=url)
    r = fresh.get_records("ki_home.people", 2, 2, "binary")
    decoded = gpudb.GPUdbRecord.decode_binary_data(r["record_type"], r["records_binary"])
    check([[d["id"], d["x"], d["name"]] for d in decoded] == want[2:4], "get_records binary: %s" % decoded)
    types = fresh.show_types(r["type_name"], "")
    check(types["type_ids"] == [r["type_name"]] and types["type_schemas"] == [r["type_schema"]],
          "show_types: %s" % dict(types))

    records = opened.get_records_from_collection(0, -9999, options={"return_record_ids": "true"})
    check([rec["id"] for rec in records] == [w[0] for w in want], "get_records_from_collection: %s" % records)
    r = fresh.get_records_from_collection("people", 4, 10, "json", {"return_record_ids": "true"})
    check(r["record_ids"] == ["4", "5"] and r["info"]["total_number_of_records"] == "6",
          "get_records_from_collection ids: %s" % dict(r))

    # Multi-head I/O against one rank: the client sends every batch and lookup to this server.
    keyed = [["id", "int", "primary_key"], ["x", "double", "nullable"], ["tag", "string", "char8"]]
    mh = gpudb.GPUdbTable(keyed, name="mh", db=db, use_multihead_io=True, multihead_ingest_batch_size=1000)
    mh.insert_records([[i, None if i % 5 == 0 else i / 4, "t%d" % (i % 9)] for i in range(2500)])
    mh.flush_data_to_server()
    check(mh.size() == 2500, "multi-head: size %s" % mh.size())
    r = mh.get_records_by_key({"id": 42})
    check(r["status_info"]["status"] == "OK" and [[d["id"], d["x"], d["tag"]] for d in r["data"]] == [[42, 10.5, "t6"]],
          "multi-head get_records_by_key: %s" % r.get("data"))
    got = [rec["id"] for rec in mh.get_records(0, -9999, options={"sort_by": "id"})]
    check(got == list(range(2500)), "multi-head get_records: %d rows" % len(got))


# --- Schemas ------------------------------------------------------------------------------

def schemas(db):
    import gpudb

    def status(r):
        return r["status_info"]["status"], r["status_info"]["message"]

    columns = [["id", "long"], ["amount", "double"]]
    check(status(db.create_schema("sales")) == ("OK", ""), "create_schema")
    check(status(db.create_schema("sales")) == ("ERROR", "schema_name: schema 'sales' already exists"),
          "create_schema twice: %s" % (status(db.create_schema("sales")),))
    check(db.create_schema("sales", {"no_error_if_exists": "true"})["schema_name"] == "sales", "no_error_if_exists")
    check(db.has_schema("sales")["schema_exists"] and db.has_schema("ki_home")["schema_exists"]
          and not db.has_schema("nope")["schema_exists"], "has_schema")

    orders = gpudb.GPUdbTable(columns, name="sales.orders", db=db)
    orders.insert_records([[i, i * 1.5] for i in range(100)])
    home = gpudb.GPUdbTable(columns, name="orders", db=db)  # the same name in the default schema
    home.insert_records([[0, 0.0]])
    check(orders.size() == 100 and home.size() == 1, "tables of one name in two schemas: %s %s"
          % (orders.size(), home.size()))
    big = orders.filter("amount > 100", view_name="sales.big")
    check(big.size() == 33, "view in a schema: size %s" % big.size())
    check(db.show_table("sales")["table_names"] == ["sales.big", "sales.orders"],
          "show_table of a schema: %s" % db.show_table("sales")["table_names"])
    check(db.show_table("ki_home.orders")["table_names"] == ["ki_home.orders"], "show_table qualified")
    shown = db.show_schema("sales")
    check(shown["schema_names"] == ["sales"] and shown["schema_tables"] == [["sales.big", "sales.orders"]],
          "show_schema: %s" % dict(shown))

    legacy = gpudb.GPUdbTable(columns, name="t", db=db, options={"collection_name": "legacy"})
    legacy.insert_records([[1, 2.0]])
    check(legacy.qualified_name == "legacy.t" and db.has_table("legacy.t")["table_exists"]
          and db.has_schema("legacy")["schema_exists"], "collection_name: %s" % legacy.qualified_name)

    db.alter_table_metadata(["sales.orders", "orders"], {"owner": "ann"})
    meta = db.show_table_metadata(["ki_home.orders", "sales.orders"])
    check(meta["metadata_maps"] == [{"owner": "ann"}, {"owner": "ann"}], "table metadata: %s" % dict(meta))

    check(status(db.drop_schema("sales")) == ("ERROR", "schema_name: schema 'sales' is not empty (2 tables); "
                                                        "drop its tables first, or set options.cascade"),
          "drop_schema of a schema with tables: %s" % (status(db.drop_schema("sales")),))
    check(status(db.drop_schema("sales", {"cascade": "true"}))[0] == "OK", "drop_schema cascade")
    check(not db.has_table("sales.orders")["table_exists"] and not db.has_schema("sales")["schema_exists"]
          and home.size() == 1, "after drop_schema cascade")
    check(status(db.drop_schema("sales")) == ("ERROR", "schema_name: schema 'sales' does not exist"),
          "drop_schema of a missing schema")
    check(status(db.drop_schema("sales", {"no_error_if_not_exists": "true"}))[0] == "OK", "no_error_if_not_exists")
    try:
        gpudb.GPUdbTable(columns, name="nope.t", db=db)
        check(False, "a table in a missing schema was created")
    except gpudb.GPUdbException as e:
        # The client quotes the server's message inside its own.
        check("table_name: schema" in str(e) and "nope" in str(e) and "does not exist" in str(e),
              "table in a missing schema: %s" % e)

    r = db.clear_tables(["orders", "legacy.t"])
    check(r["tables"] == {"orders": "", "legacy.t": ""}, "clear_tables: %s" % dict(r))
    check(status(db.clear_tables(["orders"])) == ("ERROR", "table_names[0]: table 'orders' does not exist"),
          "clear_tables of a missing table")


def run(binary, tmp, pb, rpc):
    import gpudb

    server = start_server(binary, ["--devices=host:1"], http=True)
    url = "http://127.0.0.1:%d" % server.http_port
    try:
        db = gpudb.GPUdb(host=url)  # the client's defaults
        guarded("frame round trip", frame_round_trip, db)
        guarded("typed tables", typed_tables, db, url)
        guarded("schemas", schemas, db)
    finally:
        server.stop()


def main():
    return run_main(__doc__, "python_gpudb_table", ["gpudb", "pandas", "numpy"],
                    "gpudb[dataframe] (pandas), numpy, grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
