#!/usr/bin/env python3
"""One table over one device and over several, side by side: the same data, queries and run.

Usage:
  shard_bench.py --server-binary build/server/gpudb-engine
                 [--devices host:1,host:2] [--threads-per-device 1] [--rows 1e7] [--repeat 5]
                 [--out-dir benchmarks/results]

For each --devices value a server is started (HTTP, memory only, OMP_NUM_THREADS set to
--threads-per-device so that a host device is one core), the same table is made with
/insert/records/random (seeded: the same rows on every server) and the queries below run
through Kinetica's Python client (gpudb.GPUdb, default settings), one warm-up then --repeat runs,
the median kept. The first --devices value is the baseline: each other one reports its speedup
(baseline time / its time), and its answers must equal the baseline's.

Table (rows n): x double [0, 1), y double [0, 200), k2 long [0, 100), k3 long [0, 1000),
                k6 long [0, 1e6), s char16 (random letters). No shard key: spread over the
                devices in chunks (--spread-chunk-rows, 2^20 rows by default).

Queries (shapes users write, not only the fast ones):
  scan           count of x > 0.5 and y < 100                  (/filter)
  scan_in        count of k3 in (1, 5, 7, 9, 11, 500)          (/filter)
  scan_string    count of s like '%ab%'                        (/filter)
  arithmetic     mean, stdv of x * 2 + y / 3                   (/aggregate/statistics)
  groupby_1e2    k2, count(*), sum(x), avg(y) by k2            (/aggregate/groupby)
  groupby_2keys  k2, k3, count(*), max(y) by k2, k3 (1e5 groups; first 1000)
  groupby_1e6    k6, count(*), sum(x) by k6 (first 1000 groups)
  topk           the 10 largest x with their k6                (/get/records/bycolumn, sort_by x desc)
  page_sorted    rows [n/2, n/2 + 100) ordered by y             (/get/records/bycolumn, offset n/2)

Prints a table (slowest speedups first) and writes shard_bench.json and shard_bench.md under
--out-dir. Exit status 0 when every answer matched.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from harness import start_server  # noqa: E402

TYPE = json.dumps({"type": "record", "name": "bench", "fields": [
    {"name": "x", "type": "double"}, {"name": "y", "type": "double"}, {"name": "k2", "type": "long"},
    {"name": "k3", "type": "long"}, {"name": "k6", "type": "long"}, {"name": "s", "type": "string"}]})


def queries(rows):
    half = rows // 2
    return [
        ("scan", "filter", dict(view_name="", expression="x > 0.5 and y < 100", options={})),
        ("scan_in", "filter", dict(view_name="", expression="k3 in (1, 5, 7, 9, 11, 500)", options={})),
        ("scan_string", "filter", dict(view_name="", expression="s like '%ab%'", options={})),
        ("arithmetic", "aggregate_statistics", dict(column_name="x * 2 + y / 3", stats="mean,stdv", options={})),
        ("groupby_1e2", "aggregate_group_by", dict(column_names=["k2", "count(*)", "sum(x)", "avg(y)"], offset=0,
                                                   limit=1000, encoding="json", options={})),
        ("groupby_2keys", "aggregate_group_by", dict(column_names=["k2", "k3", "count(*)", "max(y)"], offset=0,
                                                     limit=1000, encoding="json", options={})),
        ("groupby_1e6", "aggregate_group_by", dict(column_names=["k6", "count(*)", "sum(x)"], offset=0, limit=1000,
                                                   encoding="json", options={})),
        ("topk", "get_records_by_column", dict(column_names=["x", "k6"], offset=0, limit=10, encoding="json",
                                               options={"sort_by": "x", "sort_order": "descending"})),
        ("page_sorted", "get_records_by_column", dict(column_names=["y", "k2"], offset=half, limit=100,
                                                      encoding="json", options={"sort_by": "y"})),
    ]


def answer(r):
    """The part of a response that must agree between servers."""
    keep = {}
    for k in ("count", "stats", "json_encoded_response", "total_number_of_records"):
        if k in r:
            v = r[k]
            keep[k] = json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v
    return keep


def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


def run_devices(binary, devices, threads, rows, repeat):
    import gpudb
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    server = start_server(binary, ["--devices=" + devices], http=True)
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        type_id = db.create_type(type_definition=TYPE, label="bench",
                                 properties={"s": ["char16"]})["type_id"]
        db.create_table(table_name="bench", type_id=type_id, options={})
        started = time.perf_counter()
        r = db.insert_records_random(table_name="bench", count=rows, options={
            "seed": {"value": 7}, "x": {"min": 0, "max": 1}, "y": {"min": 0, "max": 200},
            "k2": {"min": 0, "max": 99}, "k3": {"min": 0, "max": 999}, "k6": {"min": 0, "max": 999999}})
        if r["status_info"]["status"] != "OK":
            raise RuntimeError(r["status_info"]["message"])
        load_s = time.perf_counter() - started
        placement = db.show_table(table_name="bench", options={})["additional_info"][0].get("shard_rows", "")
        out = {"devices": devices, "load_s": load_s, "placement": placement, "queries": {}}
        for name, method, kwargs in queries(rows):
            runs, result = [], None
            for i in range(repeat + 1):
                t0 = time.perf_counter()
                r = getattr(db, method)(table_name="bench", **kwargs)
                elapsed = time.perf_counter() - t0
                if r["status_info"]["status"] != "OK":
                    raise RuntimeError("%s: %s" % (name, r["status_info"]["message"]))
                if i > 0:
                    runs.append(elapsed)
                result = answer(dict(r))
            out["queries"][name] = {"median_s": statistics.median(runs), "runs": runs, "answer": result}
        return out
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-binary", required=True)
    p.add_argument("--devices", default="host:1,host:2")
    p.add_argument("--threads-per-device", type=int, default=1)
    p.add_argument("--rows", default="1e7")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = p.parse_args()
    rows = int(float(args.rows))
    specs = args.devices.split(",")
    results = [run_devices(args.server_binary, d, args.threads_per_device, rows, args.repeat) for d in specs]
    base = results[0]
    ok = True
    lines = []
    for other in results[1:]:
        table = []
        for name, q in other["queries"].items():
            b = base["queries"][name]
            same = close(b["answer"], q["answer"])
            ok = ok and same
            table.append((b["median_s"] / q["median_s"], name, b["median_s"], q["median_s"], same))
        table.sort()
        lines.append("%s rows, %d thread(s) per device; %s (rows per device %s) against %s:" % (
            args.rows, args.threads_per_device, other["devices"], other["placement"], base["devices"]))
        lines.append("| query | %s ms | %s ms | speedup | answers |" % (base["devices"], other["devices"]))
        lines.append("|---|---:|---:|---:|---|")
        for speedup, name, b, o, same in table:
            lines.append("| %s | %.1f | %.1f | %.2fx | %s |" % (name, b * 1000, o * 1000, speedup,
                                                                "equal" if same else "DIFFER"))
        lines.append("")
        lines.append("load (insert_records_random; not a target: dominated by the zeroing of fresh pages, which "
                     "varies from run to run on a VM): %s %.2f s, %s %.2f s" % (
                         base["devices"], base["load_s"], other["devices"], other["load_s"]))
    text = "\n".join(lines)
    print(text)
    os.makedirs(args.out_dir, exist_ok=True)
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": platform.platform(),
            "cpus": os.cpu_count(), "rows": rows, "threads_per_device": args.threads_per_device}
    with open(os.path.join(args.out_dir, "shard_bench.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    with open(os.path.join(args.out_dir, "shard_bench.md"), "w") as f:
        f.write("%s; %s, %d CPUs\n\n%s\n" % (meta["date"], meta["machine"], meta["cpus"], text))
    if not ok:
        print("FAIL: answers differ between device counts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
