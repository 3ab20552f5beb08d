#!/usr/bin/env python3
"""SQL shapes users write, through Kinetica's Python client, beside DuckDB in the same run.

Usage:
  sql_shapes_bench.py --server-binary build/server/gpudb-engine [--baseline-binary OTHER]
                      [--rows 1e6] [--repeat 3] [--out benchmarks/results/sql_shapes.md]

One table t(a long, b double, s string, ts long) of --rows rows (a, b, s random; ts rising with
the row, as arrival times) goes to our server with GPUdbTable.from_df (HTTP, default settings) and
to DuckDB from the same DataFrame. Each statement runs through execute_sql_and_decode and through
DuckDB (one warm-up, then the median of --repeat); the answers must agree. The shapes: a point
filter, a TPC-H-like group-by, OR chains of 3,000 and 30,000 equalities, an OR of strings and a
number, IN of 100,000 numbers, 90 nested parentheses of arithmetic, 50 nested scalar subqueries,
the 10 largest b and the 10 latest ts (ORDER BY ... DESC LIMIT 10), the rows and a sum of the
latest 1% by ts, the string column s (4 values: a dictionary) as a group-by key over a
filter, in an IN beside a number, and as the first key of a sorted page; and t joined with a
second table p(id long, brand string, size long) of 100,000 rows (ids 0..99,999; 25 brands) on
t.a = p.id, under a WHERE `OR` of tests of both tables and under a filter of each. With --baseline-binary (another build of the server)
its times are measured in the same run, beside ours. Prints the table slowest ratio first (ours /
DuckDB; above 1 we are slower) and writes it as markdown to --out. Exit status 1 when an answer
differs.
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from harness import start_server  # noqa: E402

import duckdb  # noqa: E402
import gpudb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


# The latest 1% of the rows by ts, and the rows (set from --rows).
RECENT = 0
ROWS = 0


def shapes():
    yield "point", "SELECT count(*) FROM t WHERE a = 5"
    yield "tpch_like", ("SELECT s, sum(b * (1 - b)) AS r, avg(a) AS m, count(*) AS n FROM t "
                        "WHERE a < 50000 AND b BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 GROUP BY s ORDER BY s")
    yield "or_3000", "SELECT count(*) FROM t WHERE " + " OR ".join("a = %d" % i for i in range(3000))
    yield "or_30000", "SELECT count(*) FROM t WHERE " + " OR ".join("a = %d" % i for i in range(30000))
    yield "or_strings", "SELECT count(*) FROM t WHERE s = 'alpha' OR s = 'gamma' OR a = 7"
    yield "in_100000", "SELECT count(*) FROM t WHERE a IN (" + ", ".join(str(i) for i in range(100000)) + ")"
    yield "parens_90", ("SELECT count(*) FROM t WHERE " + "(" * 90 + "a" +
                        "".join(" + %d)" % i for i in range(90)) + " > 100000")
    yield "subqueries_50", ("SELECT count(*) FROM t WHERE a < " + "(SELECT " * 50 + "100" + " + 0)" * 50)
    yield "top10", "SELECT b FROM t ORDER BY b DESC LIMIT 10"
    yield "top10_ts", "SELECT ts FROM t ORDER BY ts DESC LIMIT 10"
    yield "recent_sum", "SELECT count(*), sum(b) FROM t WHERE ts >= %d" % RECENT
    yield "recent_rows", "SELECT ts, a FROM t WHERE ts >= %d ORDER BY ts" % RECENT
    yield "str_group", ("SELECT s, sum(b * a) AS x, avg(b + 1) AS y, count(*) AS n FROM t WHERE b > 0.1 "
                        "GROUP BY s ORDER BY s")
    yield "str_in", "SELECT count(*) FROM t WHERE s IN ('alpha', 'delta') AND a < 50000"
    yield "str_page", "SELECT s, a FROM t ORDER BY s, a LIMIT 20 OFFSET %d" % (ROWS // 2)
    yield "or_join", ("SELECT p.brand, count(*) AS n, sum(t.b * (1 - t.b)) AS r FROM t JOIN p ON t.a = p.id "
                      "WHERE (p.brand = 'B3' AND t.b < 0.1 AND t.s IN ('alpha', 'beta')) "
                      "OR (p.brand = 'B7' AND p.size > 40 AND t.b > 0.9) GROUP BY p.brand ORDER BY p.brand")
    yield "join_filters", ("SELECT t.s, count(*) AS n FROM t, p WHERE t.a = p.id AND p.size BETWEEN 5 AND 9 "
                           "AND t.s <> 'beta' GROUP BY t.s ORDER BY t.s")


def timed(run, repeat):
    run()
    times, answer = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def normalized(rows):
    # Floats to 9 significant digits: sums of 1e5 terms differ in their last bits with the order
    # of the additions.
    return [tuple(float("%.9g" % v) if isinstance(v, float) else v for v in row) for row in rows]


def ours(binary, df, dim, repeat):
    server = start_server(binary, ["--devices=host:1"], http=True)
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        gpudb.GPUdbTable.from_df(df, db, "t", clear_table=True)
        gpudb.GPUdbTable.from_df(dim, db, "p", clear_table=True)
        out = {}
        for name, sql in shapes():
            def run():
                r = db.execute_sql_and_decode(sql, limit=-9999, get_column_major=False)
                if r["status_info"]["status"] != "OK":
                    raise RuntimeError("%s: %s" % (name, r["status_info"]["message"][:300]))
                return normalized(tuple(rec.values()) for rec in r["records"])
            out[name] = timed(run, repeat)
        return out
    finally:
        server.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--baseline-binary", default="")
    ap.add_argument("--rows", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                  "sql_shapes.md"))
    args = ap.parse_args()
    n = int(args.rows)
    rng = np.random.default_rng(20261206)
    df = pd.DataFrame({"a": rng.integers(0, 100000, n).astype("int64"), "b": rng.random(n),
                       "s": rng.choice(["alpha", "beta", "gamma", "delta"], n),
                       "ts": np.arange(n, dtype="int64") * 1000 + rng.integers(0, 1000, n)})
    dim = pd.DataFrame({"id": np.arange(100000, dtype="int64"),
                        "brand": rng.choice(["B%d" % i for i in range(25)], 100000),
                        "size": rng.integers(1, 51, 100000).astype("int64")})
    global RECENT, ROWS
    RECENT = 1000 * (n - n // 100)
    ROWS = n
    con = duckdb.connect()
    con.register("df", df)
    con.execute("CREATE TABLE t AS SELECT * FROM df")
    con.register("dim", dim)
    con.execute("CREATE TABLE p AS SELECT * FROM dim")
    duck = {name: timed(lambda: normalized(con.execute(sql).fetchall()), args.repeat) for name, sql in shapes()}
    mine = ours(args.server_binary, df, dim, args.repeat)
    base = ours(args.baseline_binary, df, dim, args.repeat) if args.baseline_binary else {}

    rows, differ = [], []
    for name, _ in shapes():
        agree = mine[name][1] == duck[name][1] and (not base or base[name][1] == mine[name][1])
        if not agree:
            differ.append(name)
        rows.append((mine[name][0] / duck[name][0], name, agree))
    rows.sort(reverse=True)
    lines = ["- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "- Machine: %s, %d cores; our server `--devices=host:1`; DuckDB %s, %d threads"
             % (platform.machine(), os.cpu_count(), duckdb.__version__, os.cpu_count()),
             "- Command: `benchmarks/sql_shapes_bench.py --rows %g%s`"
             % (args.rows, " --baseline-binary ..." if base else ""),
             "",
             "| shape | ours s |%s DuckDB s | ours/DuckDB | answers |" % (" baseline s |" if base else ""),
             "|---|---:|%s---:|---:|---|" % ("---:|" if base else "")]
    for ratio, name, agree in rows:
        lines.append("| %s | %.4f |%s %.4f | %.2f | %s |" % (
            name, mine[name][0], " %.4f |" % base[name][0] if base else "", duck[name][0], ratio,
            "agree" if agree else "DIFFER"))
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    if differ:
        print("answers differ: %s" % ", ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
