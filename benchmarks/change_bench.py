#!/usr/bin/env python3
"""Joins, updates, deletes and upserts: our engine beside DuckDB, the same data in the same run.

Usage:
  change_bench.py --server-binary build/server/gpudb-engine
                  [--rows 1e7] [--dim-rows 1e6] [--repeat 3] [--threads N] [--only q1,q2]
                  [--out-dir benchmarks/results]

The data is made once with numpy (seeded) and written as Parquet files; DuckDB reads them into
native tables (read_parquet), our server loads the same files (/insert/records/fromfiles, through
Kinetica's Python client; default device: the host). Loading is not timed. Every question goes to
our server through the official client (gpudb.GPUdb, HTTP, default settings) and to DuckDB in SQL
(SET threads to --threads, default all cores), one warm-up and --repeat runs each, alternating,
the median kept; the answers (row counts) must agree.

Tables (n = --rows, m = --dim-rows):
  fact   n rows: id long 0..n-1, k6 long uniform [0, m), k7 long uniform [0, n), x double,
         s6 string ('c' + k6: a string key)
  dim6   m rows: k long, 90% of [0, m) (so a left join has unmatched rows), v double, name string
  dim7   n rows: k long, 90% of [0, n), v double
  keyed  n rows of (id long primary key, x double), for upserts

Questions (a join's answer is a view of the joined rows: ours /create/jointable, DuckDB CREATE
TEMP TABLE AS; both materialize every joined row):
  inner_n_x_m        fact join dim6 on k6 = k               (id, v)
  left_n_x_m         fact left join dim6 on k6 = k          (id, v)
  inner_n_x_n        fact join dim7 on k7 = k               (id, v)
  left_n_x_n         fact left join dim7 on k7 = k          (id, v)
  inner_string_n_x_m fact join dim6 on s6 = name            (id, v)
  update_1pct        x = x + 1 where id % 100 = 0           (/update/records, expression values)
  update_50pct       x = x + 1 where id % 2 = 0
  delete_1pct        delete where id % 100 = 0, from a fresh copy of fact (the copy is not timed)
  delete_50pct       delete where id % 2 = 0, likewise
  upsert_1e6         1e6 rows (n/10 when n < 1e7) into keyed (half of their keys held already) from a Parquet file,
                     update_on_existing_pk (DuckDB: INSERT OR REPLACE); keyed made anew each run

Prints a table, slowest ratios first (ours / DuckDB; above 1 we are slower), and writes
change_bench.json and change_bench.md under --out-dir. Exit status 0 when every answer agreed.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from harness import start_server  # noqa: E402


def make_files(rows, dim_rows, folder):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(42)
    k6 = rng.integers(0, dim_rows, rows)
    fact = pa.table({"id": np.arange(rows, dtype=np.int64), "k6": k6, "k7": rng.integers(0, rows, rows),
                     "x": rng.random(rows), "s6": pa.array(np.char.add("c", k6.astype(str)))})
    pq.write_table(fact, os.path.join(folder, "fact.parquet"))
    keys6 = rng.permutation(dim_rows)[: dim_rows * 9 // 10]
    dim6 = pa.table({"k": keys6.astype(np.int64), "v": rng.random(len(keys6)),
                     "name": pa.array(np.char.add("c", keys6.astype(str)))})
    pq.write_table(dim6, os.path.join(folder, "dim6.parquet"))
    keys7 = rng.permutation(rows)[: rows * 9 // 10]
    pq.write_table(pa.table({"k": keys7.astype(np.int64), "v": rng.random(len(keys7))}),
                   os.path.join(folder, "dim7.parquet"))
    pq.write_table(pa.table({"id": np.arange(rows, dtype=np.int64), "x": rng.random(rows)}),
                   os.path.join(folder, "keyed.parquet"))
    half = min(500000, rows // 2)
    up = np.concatenate([rng.choice(rows, half, replace=False), rows + np.arange(half)]).astype(np.int64)
    pq.write_table(pa.table({"id": up, "x": rng.random(len(up))}), os.path.join(folder, "up.parquet"))


def ok(r, what):
    if r["status_info"]["status"] != "OK":
        raise RuntimeError("%s: %s" % (what, r["status_info"]["message"]))
    return r


def load(db, table, file, options=None):
    db.clear_table(table, options={"no_error_if_not_exists": "true"})
    ok(db.insert_records_from_files(table, [file], options=options or {}), "loading " + file)


JOINS = {
    "inner_n_x_m": (["fact as f", "dim6 as d"], ["f.k6 = d.k"], "from fact f join dim6 d on f.k6 = d.k"),
    "left_n_x_m": (["fact as f", "left join dim6 as d on f.k6 = d.k"], [], "from fact f left join dim6 d on f.k6 = d.k"),
    "inner_n_x_n": (["fact as f", "dim7 as d"], ["f.k7 = d.k"], "from fact f join dim7 d on f.k7 = d.k"),
    "left_n_x_n": (["fact as f", "left join dim7 as d on f.k7 = d.k"], [], "from fact f left join dim7 d on f.k7 = d.k"),
    "inner_string_n_x_m": (["fact as f", "dim6 as d"], ["f.s6 = d.name"], "from fact f join dim6 d on f.s6 = d.name"),
}


def questions(db, con):
    """(name, ours(), duckdb(), before() or None): each returns the count it answers."""
    out = []
    for name, (tables, expressions, sql_from) in JOINS.items():
        def ours(tables=tables, expressions=expressions):
            db.clear_table("j", options={"no_error_if_not_exists": "true"})
            return ok(db.create_join_table("j", tables, ["f.id", "d.v"], expressions), "join")["count"]

        def duck(sql_from=sql_from):
            con.execute("create or replace temp table j as select f.id, d.v " + sql_from)
            return con.execute("select count(*) from j").fetchone()[0]
        out.append((name, ours, duck, None))
    for name, predicate in (("update_1pct", "id % 100 = 0"), ("update_50pct", "id % 2 = 0")):
        def ours(predicate=predicate):
            return ok(db.update_records("fact", [predicate], [{"x": "x + 1"}],
                                        options={"use_expressions_in_new_values_maps": "true"}), "update")["count_updated"]

        def duck(predicate=predicate):
            return con.execute("update fact set x = x + 1 where " + predicate).fetchone()[0]
        out.append((name, ours, duck, None))
    for name, predicate in (("delete_1pct", "id % 100 = 0"), ("delete_50pct", "id % 2 = 0")):
        def before():
            db.clear_table("fact_copy", options={"no_error_if_not_exists": "true"})
            ok(db.create_projection("fact", "fact_copy", ["*"], options={"persist": "true"}), "copy")
            con.execute("create or replace table fact_copy as select * from fact")

        def ours(predicate=predicate):
            return ok(db.delete_records("fact_copy", [predicate]), "delete")["count_deleted"]

        def duck(predicate=predicate):
            return con.execute("delete from fact_copy where " + predicate).fetchone()[0]
        out.append((name, ours, duck, before))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--rows", type=float, default=1e7)
    ap.add_argument("--dim-rows", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--only", default="", help="run only these questions (comma-separated)")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = ap.parse_args()
    rows, dim_rows = int(args.rows), int(args.dim_rows)
    import duckdb
    import gpudb
    folder = tempfile.mkdtemp(prefix="change_bench_")
    print("making the data: %d fact rows, %d dimension rows" % (rows, dim_rows), flush=True)
    make_files(rows, dim_rows, folder)
    server = start_server(args.server_binary, ["--files-dir=" + folder, "--max-get-records-size=1000"], http=True)
    results, failed = [], False
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        con = duckdb.connect()
        con.execute("set threads to %d" % args.threads)
        for t in ("fact", "dim6", "dim7"):
            load(db, t, t + ".parquet")
            con.execute("create table %s as select * from read_parquet('%s/%s.parquet')" % (t, folder, t))
        runs = questions(db, con)

        def upsert_before():
            load(db, "keyed", "keyed.parquet", {"primary_keys": "id"})
            con.execute("drop table if exists keyed")
            con.execute("create table keyed (id bigint primary key, x double)")
            con.execute("insert into keyed select * from read_parquet('%s/keyed.parquet')" % folder)

        def upsert_ours():
            r = ok(db.insert_records_from_files("keyed", ["up.parquet"], options={"update_on_existing_pk": "true"}),
                   "upsert")
            return r["count_inserted"] + r["count_updated"]

        def upsert_duck():
            return con.execute("insert or replace into keyed select * from read_parquet('%s/up.parquet')"
                               % folder).fetchone()[0]
        runs.append(("upsert_1e6", upsert_ours, upsert_duck, upsert_before))
        only = set(filter(None, args.only.split(",")))
        for name, ours, duck, before in runs:
            if only and name not in only:
                continue
            times = {"ours": [], "duckdb": []}
            answers = set()
            for i in range(args.repeat + 1):
                for side, fn in (("ours", ours), ("duckdb", duck)):
                    if before is not None and side == "ours":
                        before()
                    start = time.perf_counter()
                    answer = fn()
                    elapsed = time.perf_counter() - start
                    answers.add(int(answer))
                    if i > 0:
                        times[side].append(elapsed)
            agree = len(answers) == 1
            failed = failed or not agree
            o, d = statistics.median(times["ours"]), statistics.median(times["duckdb"])
            results.append({"query": name, "ours_s": o, "duckdb_s": d, "ratio": o / d, "answer": sorted(answers),
                            "agree": agree, "runs": times})
            print("%-20s ours %8.3f s  duckdb %8.3f s  ratio %5.2f%s" % (
                name, o, d, o / d, "" if agree else "  ANSWERS DIFFER %r" % sorted(answers)), flush=True)
    finally:
        server.stop()
    results.sort(key=lambda r: -r["ratio"])
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "rows": rows, "dim_rows": dim_rows,
            "repeat": args.repeat, "threads": args.threads, "machine": platform.platform()}
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "change_bench.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    lines = ["%s" % meta["date"], "",
             "| question | ours (s) | DuckDB (s) | ours / DuckDB | answer |", "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append("| %s | %.3f | %.3f | %.2f%s | %s |" % (r["query"], r["ours_s"], r["duckdb_s"], r["ratio"],
                                                           " (slower)" if r["ratio"] > 1 else "",
                                                           r["answer"][0] if r["agree"] else "differ"))
    with open(os.path.join(args.out_dir, "change_bench.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
