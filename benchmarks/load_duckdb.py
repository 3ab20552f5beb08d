#!/usr/bin/env python3
"""Bulk loads, ours beside DuckDB's: the same files and the same frame, on the same machine, in the same run.

Usage:
  load_duckdb.py [--server-binary build/server/gpudb-engine] [--rows 1e6,1e7] [--repeat 3]
                 [--threads N] [--out-dir benchmarks/results]

For each size n a frame is made once in numpy (seeded): id long (0..n-1), x double [0, 1), y int
[0, 1000), k long [0, 100), s text (1000 distinct values of 2-4 characters). DuckDB writes it as a
CSV file and a Parquet file (snappy) into a folder that is our server's --files-dir.

Measured (one warm-up, then --repeat runs each, ours and DuckDB's alternating; medians):
  csv_file      ours: /insert/records/fromfiles of the CSV into a new table (its type inferred from
                every row); DuckDB: CREATE TABLE t AS SELECT * FROM read_csv('...')
  parquet_file  the same with the Parquet file; DuckDB: read_parquet
  frame         a pandas frame loaded end to end, the fastest documented way on each side. Ours:
                df.to_parquet() into memory, then Kinetica's client insert_records_from_payload with
                the bytes (file_type parquet) over HTTP; DuckDB: CREATE TABLE t AS SELECT * FROM df
                (its scan of the frame in place)
  frame_local   the same frame when the client shares the server's machine: df.to_parquet() into
                the --files-dir, then insert_records_from_files (the bytes skip the HTTP transport);
                DuckDB as for frame
Ours is timed around the client call (Kinetica's gpudb client over HTTP, binary encoding), DuckDB
around con.execute(). Each load makes a new table, dropped after the run. Both sides load every row;
the row count and sum(x) of each load are checked against the frame.

DuckDB runs with SET threads to --threads (default: the machine's cores); the server reads with
Arrow's thread pool, one thread per core.

Writes, under --out-dir: load_duckdb.json (every run). Prints a table of ms and ours/DuckDB.
Goals: files <= 1.0x, frame <= 2x. Exit status 0 when every load checked out.
"""

import argparse
import datetime
import io
import json
import os
import platform
import statistics as pystats
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "python"))
from harness import start_server  # noqa: E402

SEED = 20261204
CASES = ("csv_file", "parquet_file", "frame", "frame_local")
GOALS = {"csv_file": 1.0, "parquet_file": 1.0, "frame": 2.0, "frame_local": 2.0}


def make_frame(n):
    import pandas as pd
    rng = np.random.default_rng(SEED)
    words = np.array(["w%d" % i for i in range(1000)], dtype=object)
    return pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "x": rng.random(n),
        "y": rng.integers(0, 1000, n).astype(np.int32),
        "k": rng.integers(0, 100, n).astype(np.int64),
        "s": words[rng.integers(0, 1000, n)],
    })


class Ours:
    def __init__(self, url):
        import gpudb
        options = gpudb.GPUdb.Options()
        options.encoding = "BINARY"
        self.db = gpudb.GPUdb(host=url, options=options)
        self.count = 0

    def _check(self, r, what):
        if r["status_info"]["status"] != "OK":
            raise RuntimeError("%s: %s" % (what, r["status_info"]["message"]))
        return r

    def fresh(self):
        self.count += 1
        return "load_%d" % self.count

    def load_file(self, name):
        table = self.fresh()
        started = time.perf_counter()
        self._check(self.db.insert_records_from_files(table, [name], {}, {}, {}), "fromfiles " + name)
        return time.perf_counter() - started, table

    def load_frame(self, df):
        table = self.fresh()
        started = time.perf_counter()
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        self._check(self.db.insert_records_from_payload(table, "", buffer.getvalue(), {}, {},
                                                        {"file_type": "parquet"}), "frompayload")
        return time.perf_counter() - started, table

    def load_frame_local(self, df, files):
        table = self.fresh()
        started = time.perf_counter()
        df.to_parquet(os.path.join(files, "frame.parquet"), index=False)
        self._check(self.db.insert_records_from_files(table, ["frame.parquet"], {}, {}, {}), "fromfiles frame")
        return time.perf_counter() - started, table

    def summary(self, table):
        r = self._check(self.db.aggregate_statistics(table, "x", "count,sum"), "statistics")
        stats = r["stats"]
        self._check(self.db.clear_table(table), "clear")
        return int(stats["count"]), float(stats["sum"])


class Duck:
    def __init__(self, threads):
        import duckdb
        self.con = duckdb.connect()
        self.con.execute("SET threads = %d" % threads)
        self.con.execute("SET preserve_insertion_order = true")

    def load(self, source, df=None):
        if df is not None:
            self.con.register("frame_view", df)
        started = time.perf_counter()
        self.con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM %s" % source)
        elapsed = time.perf_counter() - started
        count, total = self.con.execute("SELECT count(*), sum(x) FROM t").fetchone()
        self.con.execute("DROP TABLE t")
        return elapsed, int(count), float(total)

    def write(self, df, csv, parquet):
        self.con.register("frame_view", df)
        self.con.execute("COPY frame_view TO '%s' (HEADER, DELIMITER ',')" % csv)
        self.con.execute("COPY frame_view TO '%s' (FORMAT PARQUET, COMPRESSION SNAPPY)" % parquet)


def median_ms(runs):
    return pystats.median(runs) * 1000.0


def run_size(n, ours, duck, files, repeat):
    df = make_frame(n)
    want_sum = float(df["x"].sum())
    csv, parquet = "bench_%d.csv" % n, "bench_%d.parquet" % n
    duck.write(df, os.path.join(files, csv), os.path.join(files, parquet))
    sizes = {"csv_file": os.path.getsize(os.path.join(files, csv)),
             "parquet_file": os.path.getsize(os.path.join(files, parquet))}
    ours_runs = {c: [] for c in CASES}
    duck_runs = {c: [] for c in CASES}
    problems = []

    def check(what, count, total):
        if count != n or abs(total - want_sum) > 1e-6 * max(1.0, abs(want_sum)):
            problems.append("%s at %d rows: count %d, sum(x) %r; expected %d, %r" % (what, n, count, total, n, want_sum))

    for i in range(repeat + 1):
        for case in CASES:
            if case.startswith("frame"):
                t_ours, table = ours.load_frame(df) if case == "frame" else ours.load_frame_local(df, files)
                t_duck, count, total = duck.load("frame_view", df)
            else:
                name = csv if case == "csv_file" else parquet
                t_ours, table = ours.load_file(name)
                reader = "read_csv" if case == "csv_file" else "read_parquet"
                t_duck, count, total = duck.load("%s('%s')" % (reader, os.path.join(files, name)))
            check("DuckDB " + case, count, total)
            check("ours " + case, *ours.summary(table))
            if i > 0:  # the first round warms both up
                ours_runs[case].append(t_ours)
                duck_runs[case].append(t_duck)
    for name in (csv, parquet):
        os.remove(os.path.join(files, name))
    return {"rows": n, "bytes": sizes, "ours_s": ours_runs, "duckdb_s": duck_runs, "problems": problems}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server-binary", default=os.path.join(REPO, "build", "server", "gpudb-engine"))
    parser.add_argument("--rows", default="1e6,1e7")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out-dir", default=os.path.join(REPO, "benchmarks", "results"))
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.rows.split(",") if s.strip()]
    import duckdb
    os.makedirs(args.out_dir, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="gpudb_load_bench_") as files:
        server = start_server(args.server_binary, ["--devices=host", "--files-dir=" + files,
                                                   "--max-message-size=2047M"], http=True)
        try:
            ours = Ours("http://127.0.0.1:%d" % server.http_port)
            duck = Duck(args.threads)
            for n in sizes:
                print("== %d rows" % n, flush=True)
                results.append(run_size(n, ours, duck, files, args.repeat))
        finally:
            server.stop()

    print()
    print("| load | rows | file MB | ours ms | DuckDB ms | ours/DuckDB | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    met = True
    for r in results:
        for case in CASES:
            o, d = median_ms(r["ours_s"][case]), median_ms(r["duckdb_s"][case])
            ratio = o / d if d > 0 else float("inf")
            met = met and ratio <= GOALS[case]
            size = "%.0f" % (r["bytes"][case] / 1e6) if case in r["bytes"] else "-"
            print("| %s | %.0e | %s | %.0f | %.0f | %.2f | %.1f |" % (case, r["rows"], size, o, d, ratio, GOALS[case]))
    problems = [p for r in results for p in r["problems"]]
    for p in problems:
        print("MISMATCH: " + p)
    with open(os.path.join(args.out_dir, "load_duckdb.json"), "w") as f:
        json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": platform.node(),
                   "cores": os.cpu_count(), "duckdb": duckdb.__version__, "threads": args.threads,
                   "results": results}, f, indent=1)
    print("goals %s" % ("met" if met else "not all met"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
