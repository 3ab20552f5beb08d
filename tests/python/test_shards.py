#!/usr/bin/env python3
"""Tables over several devices answer as one device does, through Kinetica's Python client.

Usage: test_shards.py PATH/TO/gpudb-engine

Starts two servers over HTTP: one with one host device (--devices=host:1) and one with four
(--devices=host:4, --spread-chunk-rows=50 so that even these small tables spread). On both, with
the official client (gpudb.GPUdb, default settings), the same data goes into four tables of one
type (every kind of column, nulls, strings with shared prefixes, a key holding half the rows):

- spread: no shard key (rows in chunks over the devices);
- by_k: sharded by the skewed int key k;
- by_s_k: sharded by two columns, k and a nullable string;
- replicated: is_replicated, a copy on every device.

The rows arrive in batches of 1, 7, 300, 1200 and 1492. Every read endpoint then gets the same
requests on both servers (filters and the views they make, paged and sorted reads, reads of
expressions, group-by with every aggregate, having, order_by and paging, unique, min/max,
histograms, statistics with percentiles and cardinality, statistics by range, filter by table with
a replicated source) and the responses must be equal: the same rows in the same order, floating
point sums to 1e-9. On the four-device server /show/table must report where the rows are: every
row of one key on one shard, the spread table on every device, the replicated table whole on each;
then eight clients at once insert into the spread and sharded tables between reads of them, and
every call must answer and every row be there once.

Needs gpudb, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import json
import math
import random
import sys

from harness import check, guarded, run_main, start_server  # tests/python/harness.py

TABLES = ["spread", "by_k", "by_s_k", "replicated"]
BATCHES = [1, 7, 300, 1200, 1492]
WORDS = ["apple", "apricot", "banana", "band", "bandana", "cherry", "", "kiwi", "Kiwi", "melon", "me"]


def type_definition():
    return json.dumps({"type": "record", "name": "t", "fields": [
        {"name": "id", "type": "long"},
        {"name": "k", "type": ["int", "null"]},
        {"name": "s", "type": ["string", "null"]},
        {"name": "c", "type": "string"},
        {"name": "d", "type": ["double", "null"]},
        {"name": "f", "type": "float"},
        {"name": "ts", "type": "long"},
    ]})


def properties(shard_key):
    props = {"k": ["nullable"], "s": ["nullable"], "c": ["char8"], "d": ["nullable"], "ts": ["timestamp"]}
    for column in shard_key:
        props[column] = props.get(column, []) + ["shard_key"]
    return props


def make_rows(count):
    rng = random.Random(20261205)
    ids = list(range(count))
    rng.shuffle(ids)
    rows = []
    for i in ids:
        r = rng.random()
        k = 7 if r < 0.5 else (None if r < 0.6 else rng.randrange(0, 200))
        s = None if rng.random() < 0.1 else rng.choice(WORDS) + ("" if rng.random() < 0.5 else str(rng.randrange(5)))
        d = None if rng.random() < 0.08 else round(rng.gauss(0, 1000), 3)
        rows.append({"id": i, "k": k, "s": s, "c": rng.choice(["ab", "abc", "b", "zz9", ""]), "d": d,
                     "f": float(rng.randrange(-500, 500)) / 4, "ts": 1_600_000_000_000 + rng.randrange(10**9)})
    return rows


def plain(value):
    """A response as plain data: JSON strings inside it parsed, timings dropped."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in ("status_info", "request_time_secs")}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return plain(json.loads(value))
        except ValueError:
            return value
    return value


def same(a, b, path="response"):
    """'' when a and b are equal (floats to 1e-9), else where they differ."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)):
                return ""
        return "%s: %r != %r" % (path, a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return "%s: keys %s != %s" % (path, sorted(a), sorted(b))
        for k in a:
            why = same(a[k], b[k], "%s.%s" % (path, k))
            if why:
                return why
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "%s: %d items != %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            why = same(x, y, "%s[%d]" % (path, i))
            if why:
                return why
        return ""
    return "" if a == b else "%s: %r != %r" % (path, a, b)


def load(db, rows):
    for t in TABLES:
        shard_key = {"by_k": ["k"], "by_s_k": ["s", "k"]}.get(t, [])
        r = db.create_type(type_definition=type_definition(), label="t_" + t, properties=properties(shard_key))
        options = {"is_replicated": "true"} if t == "replicated" else {}
        db.create_table(table_name=t, type_id=r["type_id"], options=options)
        begin = 0
        for size in BATCHES:
            batch = [json.dumps(row) for row in rows[begin:begin + size]]
            r = db.insert_records(table_name=t, data=batch, list_encoding="json", options={})
            check(r["count_inserted"] == size, "%s: inserted %s of %d" % (t, r["count_inserted"], size))
            begin += size


def requests(t):
    """(what, method, kwargs) of every read compared, on table t."""
    out = []
    add = lambda what, method, **kw: out.append(("%s %s" % (t, what), method, dict(table_name=t, **kw)))
    add("filter", "filter", view_name="", expression="k = 7 or d > 100")
    add("filter view", "filter", view_name="v_" + t, expression="(k > 20 and d < 500) or s like 'ban%'")
    add("filter_by_range", "filter_by_range", view_name="r_" + t, column_name="d", lower_bound=-500,
        upper_bound=500)
    add("filter_by_list", "filter_by_list", view_name="l_" + t,
        column_values_map={"s": ["apple", "kiwi", "Kiwi3", ""]})
    add("filter_by_string contains", "filter_by_string", view_name="", expression="an", mode="contains",
        column_names=["s"])
    add("filter_by_string regex", "filter_by_string", view_name="x_" + t, expression="^b.*a[0-9]?$", mode="regex",
        column_names=["s", "c"])
    add("filter_by_value", "filter_by_value", view_name="", is_string=False, value=7, value_str="",
        column_name="k")
    for view in ("v_", "r_", "l_", "x_"):
        out.append(("%s view %s read" % (t, view), "get_records",
                    dict(table_name=view + t, offset=0, limit=-9999, encoding="json", options={})))
    add("get_records all", "get_records", offset=0, limit=-9999, encoding="json", options={})
    add("get_records page", "get_records", offset=1000, limit=37, encoding="json", options={})
    add("get_records sort_by", "get_records", offset=0, limit=100, encoding="json",
        options={"sort_by": "d", "sort_order": "descending"})
    add("get_records order_by", "get_records", offset=5, limit=50, encoding="json",
        options={"order_by": "s asc, k desc"})
    add("get_records order_by ties", "get_records", offset=40, limit=300, encoding="json",
        options={"order_by": "c", "expression": "k > 100 or is_null(k)"})
    add("get_records expression", "get_records", offset=0, limit=-9999, encoding="json",
        options={"expression": "k > 100"})
    add("get_records_from_collection ids", "get_records_from_collection", offset=17, limit=200, encoding="json",
        options={"return_record_ids": "true"})
    add("get_records_by_column", "get_records_by_column", column_names=["id", "d * 2 as dd", "upper(s) as us", "ts"],
        offset=10, limit=100, encoding="json", options={"order_by": "ts desc"})
    add("get_records_by_column expression", "get_records_by_column", column_names=["id", "s", "f + k as fk"],
        offset=0, limit=-9999, encoding="json", options={"expression": "not is_null(s) and f > 0"})
    add("group_by k", "aggregate_group_by",
        column_names=["k", "count(*)", "sum(d)", "min(s)", "max(f)", "avg(d)", "count_distinct(s)", "count(d)"],
        offset=0, limit=-9999, encoding="json", options={})
    add("group_by s c having", "aggregate_group_by", column_names=["s", "c", "count(*)", "sum(k)"],
        offset=3, limit=50, encoding="json", options={"having": "count(*) > 2", "order_by": "count(*) desc, s, c"})
    add("group_by one group", "aggregate_group_by",
        column_names=["count(*)", "sum(id)", "avg(f)", "min(ts)", "max(d)", "count_distinct(k)", "min(c)"],
        offset=0, limit=-9999, encoding="json", options={})
    add("group_by variances", "aggregate_group_by",
        column_names=["k", "var_pop(d)", "stddev(f)", "arg_min(d, id)"], offset=0, limit=-9999, encoding="json",
        options={"expression": "k <> 7"})
    add("group_by variances merged", "aggregate_group_by",
        column_names=["k", "var_pop(d)", "var_samp(d)", "stddev(f)", "stddev_samp(f)", "count(*)"], offset=0,
        limit=-9999, encoding="json", options={})
    add("group_by variances one group", "aggregate_group_by",
        column_names=["var_samp(d)", "stddev_pop(ts)", "var_pop(ts)", "stddev_samp(k)"], offset=0, limit=-9999,
        encoding="json", options={})
    add("group_by arg_min arg_max", "aggregate_group_by",
        column_names=["c", "arg_min(d, id)", "arg_max(f, s)", "arg_min(k, ts)", "count(*)"], offset=0, limit=-9999,
        encoding="json", options={})
    add("group_by arg ties", "aggregate_group_by", column_names=["k", "arg_max(f, id)", "arg_min(c, s)"], offset=0,
        limit=-9999, encoding="json", options={"expression": "k is not null"})
    add("group_by expression keys", "aggregate_group_by",
        column_names=["k / 50 as band", "lower(s) as ls", "count(*) as n", "avg(f)"], offset=0, limit=-9999,
        encoding="json", options={"sort_order": "descending", "expression": "d > -800"})
    add("unique s", "aggregate_unique", column_name="s", offset=0, limit=-9999, encoding="json", options={})
    add("unique k", "aggregate_unique", column_name="k", offset=2, limit=20, encoding="json",
        options={"expression": "d > 0", "sort_order": "descending"})
    add("min_max d", "aggregate_min_max", column_name="d")
    add("min_max s", "aggregate_min_max", column_name="s")
    add("min_max k+f", "aggregate_min_max", column_name="k + f")
    add("histogram", "aggregate_histogram", column_name="d", start=-3000, end=3000, interval=250, options={})
    add("histogram weighted", "aggregate_histogram", column_name="k", start=0, end=200, interval=7,
        options={"value_column": "f"})
    add("statistics d", "aggregate_statistics", column_name="d",
        stats="count,sum,min,max,mean,stdv,variance,skew,kurtosis,cardinality,percentile(50),percentile(90),"
              "percentile_rank(0)", options={})
    add("statistics s", "aggregate_statistics", column_name="s", stats="count,cardinality", options={})
    add("statistics weighted", "aggregate_statistics", column_name="k", stats="weighted_average,mean",
        options={"weight_column_name": "f"})
    add("statistics by range", "aggregate_statistics_by_range", select_expression="d > 0", column_name="k",
        value_column_name="d", stats="count,mean,sum,min", start=0, end=200, interval=20, options={})
    add("statistics by range first last", "aggregate_statistics_by_range", select_expression="", column_name="d",
        value_column_name="f", stats="count,first,last,skew,kurtosis,weighted_average,variance,max",
        start=-2000, end=2000, interval=100, options={"order_column_name": "k", "weight_column_name": "id"})
    add("statistics by range listed", "aggregate_statistics_by_range", select_expression="not is_null(k)",
        column_name="c", value_column_name="d", stats="count,mean,stdv,first,last", start=0, end=0, interval=0,
        options={"bin_values": "ab,abc,b,zz9", "order_column_name": "ts"})
    add("filter_by_table", "filter_by_table", view_name="", column_name="k", source_table_name="replicated",
        source_table_column_name="k", options={"filter_mode": "not_in_table"})
    add("filter_by_table view", "filter_by_table", view_name="ft_" + t, column_name="s",
        source_table_name="by_s_k", source_table_column_name="s", options={})
    out.append(("%s filter_by_table view read" % t, "get_records",
                dict(table_name="ft_" + t, offset=0, limit=-9999, encoding="json", options={})))
    return out


def layout_checks(db, rows):
    """Where the four-device server put the rows."""
    def info(name):
        r = db.show_table(table_name=name, options={})
        return r["additional_info"][0], r["table_descriptions"][0], r["sizes"][0]

    def counts(a):
        return [int(n) for n in a["shard_rows"].split(",")]

    total = len(rows)
    a, _, size = info("spread")
    check(a["distribution"] == "spread" and size == total, "spread: %s, %s rows" % (a, size))
    check(len(counts(a)) == 4 and sum(counts(a)) == total and min(counts(a)) > 0,
          "spread rows per device: %s" % a["shard_rows"])
    a, _, size = info("by_k")
    check(a["distribution"] == "sharded" and a["shard_key"] == "k", "by_k: %s" % a)
    sevens = sum(1 for r in rows if r["k"] == 7)
    check(sum(counts(a)) == total and max(counts(a)) >= sevens, "by_k rows per device: %s" % a["shard_rows"])
    # Every row of one key on one shard: the view of k = 7 has rows on one device only.
    db.filter(table_name="by_k", view_name="sevens", expression="k = 7", options={})
    a, description, size = info("sevens")
    check(size == sevens and sorted(counts(a))[:-1] == [0, 0, 0], "k = 7 on one shard: %s" % a["shard_rows"])
    check("VIEW" in description, "sevens is a view: %s" % description)
    a, _, _ = info("by_s_k")
    check(a["shard_key"] == "k,s" and sum(counts(a)) == total, "by_s_k: %s" % a)
    a, description, size = info("replicated")
    check(counts(a) == [total] * 4 and size == total and "REPLICATED" in description,
          "replicated: %s %s, %s rows" % (a, description, size))
    b = [int(x) for x in a["shard_bytes"].split(",")]
    check(int(a["device_bytes"]) == sum(b) and min(b) > 0, "replicated bytes: %s" % a)


def concurrent_clients(url, rows):
    """Eight clients at once on the four-device server: inserts into the spread and sharded tables
    between filters, group-bys and sorted reads of them; every call answers OK and every row
    inserted is there once."""
    import threading
    import gpudb

    errors = []
    inserted = {"spread": 0, "by_k": 0}
    lock = threading.Lock()

    def client(n):
        db = gpudb.GPUdb(host=url)
        rng = random.Random(n)
        for i in range(25):
            t = "spread" if (n + i) % 2 else "by_k"
            op = i % 5
            if op == 0:
                batch = [json.dumps(dict(r, id=100000 + n * 1000 + i * 10 + j)) for j, r in enumerate(rng.sample(rows, 10))]
                r = db.insert_records(table_name=t, data=batch, list_encoding="json", options={})
                with lock:
                    inserted[t] += 10
            elif op == 1:
                r = db.filter(table_name=t, view_name="", expression="k = %d or d > 0" % rng.randrange(200), options={})
            elif op == 2:
                r = db.aggregate_group_by(table_name=t, column_names=["k", "count(*)", "avg(d)", "count_distinct(s)"],
                                          offset=0, limit=-9999, encoding="json", options={})
            elif op == 3:
                r = db.get_records(table_name=t, offset=rng.randrange(100), limit=50, encoding="json",
                                   options={"sort_by": "ts", "sort_order": "descending"})
            else:
                r = db.aggregate_statistics(table_name=t, column_name="d", stats="count,mean,percentile(50)", options={})
            if r["status_info"]["status"] != "OK":
                with lock:
                    errors.append(r["status_info"]["message"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    check(not any(th.is_alive() for th in threads), "concurrent clients: a client did not finish in 120 s")
    check(not errors, "concurrent clients: %d errors, first %s" % (len(errors), errors[:1]))
    db = gpudb.GPUdb(host=url)
    for t, n in inserted.items():
        size = db.show_table(table_name=t, options={})["sizes"][0]
        check(size == len(rows) + n, "%s: %d rows after %d inserted concurrently" % (t, size, n))
        ids = db.aggregate_unique(table_name=t, column_name="id", offset=0, limit=-9999, encoding="json",
                                  options={})
        check(json.loads(ids["json_encoded_response"])["column_1"].__len__() == len(rows) + n,
              "%s: every id once" % t)


def run(binary, tmp, pb, rpc):
    import gpudb

    one = start_server(binary, ["--devices=host:1"], http=True)
    four = start_server(binary, ["--devices=host:4", "--spread-chunk-rows=50"], http=True)
    try:
        dbs = [gpudb.GPUdb(host="http://127.0.0.1:%d" % s.http_port) for s in (one, four)]
        rows = make_rows(sum(BATCHES))
        for db in dbs:
            load(db, rows)
        guarded("layout", layout_checks, dbs[1], rows)
        compared = 0
        for t in TABLES:
            for what, method, kwargs in requests(t):
                answers = []
                for db in dbs:
                    r = getattr(db, method)(**kwargs)
                    status = r["status_info"]
                    answers.append(plain(dict(r)) if status["status"] == "OK" else {"error": status["message"]})
                check("error" not in answers[0], "%s: %s" % (what, answers[0]))
                why = same(answers[0], answers[1])
                check(not why, "%s: one device and four differ: %s" % (what, why))
                compared += 1
        print("compared %d responses" % compared, flush=True)
        guarded("concurrent clients", concurrent_clients, "http://127.0.0.1:%d" % four.http_port, rows)
        # Errors read the same too.
        for db in dbs[1:]:
            for method, kwargs, want in [
                ("aggregate_group_by", dict(table_name="by_k", column_names=["k", "sum(s)"], offset=0, limit=10,
                                            encoding="json", options={}),
                 "column_names[1]: 'sum(s)' needs a numeric argument, not string"),
                ("filter", dict(table_name="spread", view_name="", expression="nope > 1", options={}),
                 "expression: unknown column 'nope'"),
            ]:
                status = getattr(db, method)(**kwargs)["status_info"]
                check(status["status"] == "ERROR" and want in status["message"],
                      "%s: %s" % (want, dict(status)))
    finally:
        one.stop()
        four.stop()


def main():
    return run_main(__doc__, "python_shards", ["gpudb"], "gpudb, grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
