#!/usr/bin/env python3
"""TPC-H queries 1, 3, 4, 5, 6, 10, 12, 14 and 19 in SQL, and shapes users write on its tables: our engine beside DuckDB, the same data in the same run.

Usage:
  tpch_bench.py --server-binary build/server/gpudb-engine
                [--sf 1] [--repeat 3] [--threads N] [--only q1,q6] [--data-dir DIR]
                [--out-dir benchmarks/results]

The data comes from tpchgen-cli (PyPI: a Rust port of TPC-H's dbgen that writes the same rows;
benchmarks/requirements.txt), as CSV files in --data-dir (made when missing). Both engines get the
same tables with the same types (DECIMAL(15,2) as DOUBLE; dates as DATE, ours a char16 'YYYY-MM-DD'
date string): DuckDB reads the files with read_csv, our server with /insert/records/fromfiles.
Loading is not timed. The shapes (SHAPES, named s_*): group-bys of many groups ordered by an
aggregate with a LIMIT, of a computed key, of two keys, HAVING, aggregates without GROUP BY
(strings among them), count(DISTINCT), LIKE over unique text, CASE in WHERE, EXTRACT, a join to a
small table, functions in WHERE and in a sum (round, abs, greatest, coalesce, sqrt). Each query (the specification's text with its validation parameters) goes to
our server through Kinetica's Python client (execute_sql_and_decode, HTTP, default settings) and to
DuckDB (SET threads to --threads, default all cores): one warm-up and --repeat runs each,
alternating, the median kept. The answers must agree: the same rows in the same order, numbers to
a relative 1e-6.

Prints a table, slowest ratios first (ours / DuckDB; above 1 we are slower), and writes
tpch_bench.json, tpch_bench.md and tpch_bench.png (both engines' times per query) under
--out-dir. Exit status 0 when every answer agreed.
"""

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from harness import start_server  # noqa: E402

TABLES = {
    "region": "r_regionkey INT, r_name CHAR(25), r_comment VARCHAR(152)",
    "nation": "n_nationkey INT, n_name CHAR(25), n_regionkey INT, n_comment VARCHAR(152)",
    "part": "p_partkey INT, p_name VARCHAR(55), p_mfgr CHAR(25), p_brand CHAR(10), p_type VARCHAR(25), "
            "p_size INT, p_container CHAR(10), p_retailprice DECIMAL(15,2), p_comment VARCHAR(23)",
    "supplier": "s_suppkey INT, s_name CHAR(25), s_address VARCHAR(40), s_nationkey INT, s_phone CHAR(15), "
                "s_acctbal DECIMAL(15,2), s_comment VARCHAR(101)",
    "partsupp": "ps_partkey INT, ps_suppkey INT, ps_availqty INT, ps_supplycost DECIMAL(15,2), "
                "ps_comment VARCHAR(199)",
    "customer": "c_custkey INT, c_name VARCHAR(25), c_address VARCHAR(40), c_nationkey INT, c_phone CHAR(15), "
                "c_acctbal DECIMAL(15,2), c_mktsegment CHAR(10), c_comment VARCHAR(117)",
    "orders": "o_orderkey INT, o_custkey INT, o_orderstatus CHAR(1), o_totalprice DECIMAL(15,2), "
              "o_orderdate DATE, o_orderpriority CHAR(15), o_clerk CHAR(15), o_shippriority INT, "
              "o_comment VARCHAR(79)",
    "lineitem": "l_orderkey INT, l_partkey INT, l_suppkey INT, l_linenumber INT, l_quantity DECIMAL(15,2), "
                "l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), l_tax DECIMAL(15,2), "
                "l_returnflag CHAR(1), l_linestatus CHAR(1), l_shipdate DATE, l_commitdate DATE, "
                "l_receiptdate DATE, l_shipinstruct CHAR(25), l_shipmode CHAR(10), l_comment VARCHAR(44)",
}

# The specification's queries with their validation parameters.
QUERIES = {
    "q1": """
select l_returnflag, l_linestatus, sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge, avg(l_quantity) as avg_qty,
       avg(l_extendedprice) as avg_price, avg(l_discount) as avg_disc, count(*) as count_order
from lineitem
where l_shipdate <= date '1998-12-01' - interval '90' day
group by l_returnflag, l_linestatus
order by l_returnflag, l_linestatus""",
    "q3": """
select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate, o_shippriority
from customer, orders, lineitem
where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
  and o_orderdate < date '1995-03-15' and l_shipdate > date '1995-03-15'
group by l_orderkey, o_orderdate, o_shippriority
order by revenue desc, o_orderdate
limit 10""",
    "q4": """
select o_orderpriority, count(*) as order_count
from orders
where o_orderdate >= date '1993-07-01' and o_orderdate < date '1993-07-01' + interval '3' month
  and exists (select * from lineitem where l_orderkey = o_orderkey and l_commitdate < l_receiptdate)
group by o_orderpriority
order by o_orderpriority""",
    "q5": """
select n_name, sum(l_extendedprice * (1 - l_discount)) as revenue
from customer, orders, lineitem, supplier, nation, region
where c_custkey = o_custkey and l_orderkey = o_orderkey and l_suppkey = s_suppkey
  and c_nationkey = s_nationkey and s_nationkey = n_nationkey and n_regionkey = r_regionkey
  and r_name = 'ASIA' and o_orderdate >= date '1994-01-01'
  and o_orderdate < date '1994-01-01' + interval '1' year
group by n_name
order by revenue desc""",
    "q6": """
select sum(l_extendedprice * l_discount) as revenue
from lineitem
where l_shipdate >= date '1994-01-01' and l_shipdate < date '1994-01-01' + interval '1' year
  and l_discount between 0.06 - 0.01 and 0.06 + 0.01 and l_quantity < 24""",
    "q10": """
select c_custkey, c_name, sum(l_extendedprice * (1 - l_discount)) as revenue, c_acctbal, n_name, c_address,
       c_phone, c_comment
from customer, orders, lineitem, nation
where c_custkey = o_custkey and l_orderkey = o_orderkey and o_orderdate >= date '1993-10-01'
  and o_orderdate < date '1993-10-01' + interval '3' month and l_returnflag = 'R'
  and c_nationkey = n_nationkey
group by c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment
order by revenue desc
limit 20""",
    "q12": """
select l_shipmode,
       sum(case when o_orderpriority = '1-URGENT' or o_orderpriority = '2-HIGH' then 1 else 0 end)
         as high_line_count,
       sum(case when o_orderpriority <> '1-URGENT' and o_orderpriority <> '2-HIGH' then 1 else 0 end)
         as low_line_count
from orders, lineitem
where o_orderkey = l_orderkey and l_shipmode in ('MAIL', 'SHIP') and l_commitdate < l_receiptdate
  and l_shipdate < l_commitdate and l_receiptdate >= date '1994-01-01'
  and l_receiptdate < date '1994-01-01' + interval '1' year
group by l_shipmode
order by l_shipmode""",
    "q14": """
select 100.00 * sum(case when p_type like 'PROMO%' then l_extendedprice * (1 - l_discount) else 0 end)
       / sum(l_extendedprice * (1 - l_discount)) as promo_revenue
from lineitem, part
where l_partkey = p_partkey and l_shipdate >= date '1995-09-01'
  and l_shipdate < date '1995-09-01' + interval '1' month""",
    "q19": """
select sum(l_extendedprice * (1 - l_discount)) as revenue
from lineitem, part
where (p_partkey = l_partkey and p_brand = 'Brand#12'
       and p_container in ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
       and l_quantity >= 1 and l_quantity <= 1 + 10 and p_size between 1 and 5
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#23'
       and p_container in ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
       and l_quantity >= 10 and l_quantity <= 10 + 10 and p_size between 1 and 10
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#34'
       and p_container in ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
       and l_quantity >= 20 and l_quantity <= 20 + 10 and p_size between 1 and 15
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')""",
}

# Shapes users write on these tables beyond the specification's queries (ties broken in the
# ORDER BY, so that both engines give the same rows).
SHAPES = {
    "s_top_groups": "select o_orderkey, sum(o_totalprice) as s from orders group by o_orderkey "
                    "order by s desc, o_orderkey limit 5",
    "s_top_sorted_groups": "select l_orderkey, sum(l_quantity) as q from lineitem group by l_orderkey "
                           "order by q desc, l_orderkey limit 5",
    "s_top_counts": "select o_custkey, count(*) as n from orders group by o_custkey order by n desc, o_custkey limit 5",
    "s_computed_key": "select o_totalprice * 2 as p, count(*) as n from orders group by o_totalprice * 2 "
                      "order by p desc limit 5",
    "s_two_keys": "select l_suppkey, l_partkey, count(*) as n from lineitem group by l_suppkey, l_partkey "
                  "order by n desc, l_suppkey, l_partkey limit 5",
    "s_having": "select o_custkey, count(*) as n from orders group by o_custkey having count(*) > 40 order by 1",
    "s_no_group": "select avg(l_quantity), min(l_extendedprice), max(l_discount) from lineitem",
    "s_no_group_strings": "select count(*), sum(l_quantity), min(l_shipdate), max(l_comment) from lineitem",
    "s_count_distinct": "select count(distinct o_custkey) from orders",
    "s_like_words": "select count(*) from orders where o_comment like '%special%requests%'",
    "s_like_part": "select count(*) from part where p_name like '%green%'",
    "s_case_where": "select count(*) from orders where case when o_orderpriority = '1-URGENT' "
                    "then o_totalprice else 0 end > 100000",
    "s_extract_year": "select extract(year from o_orderdate) as y, sum(o_totalprice) as s from orders "
                      "group by extract(year from o_orderdate) order by 1",
    "s_join_small": "select n_name, count(*) as n from customer join nation on c_nationkey = n_nationkey "
                    "group by n_name order by 2 desc, 1",
    "s_functions": "select count(*) from lineitem where round(l_extendedprice / 1000) > 30 "
                   "and abs(l_quantity - 25) < 20 and greatest(l_discount, l_tax) > 0.02",
    "s_coalesce_sum": "select l_returnflag, sum(coalesce(l_discount, 0) * sqrt(l_quantity)) from lineitem "
                      "group by l_returnflag order by 1",
}


def make_data(sf, folder):
    """The CSV files of every table at scale factor `sf`, made by tpchgen-cli when missing."""
    if all(os.path.exists(os.path.join(folder, t + ".csv")) for t in TABLES):
        return
    os.makedirs(folder, exist_ok=True)
    tool = shutil.which("tpchgen-cli") or os.path.join(os.path.dirname(sys.executable), "tpchgen-cli")
    subprocess.run([tool, "csv", "-s", str(sf), "--output-dir", folder], check=True)


def ok(r, what):
    if r["status_info"]["status"] != "OK":
        raise RuntimeError("%s: %s" % (what, r["status_info"]["message"]))
    return r


def same(a, b):
    if len(a) != len(b):
        return False
    for p, q in zip(a, b):
        for u, v in zip(p, q):
            if isinstance(u, (int, float)) and isinstance(v, (int, float)):
                if abs(float(u) - float(v)) > 1e-6 * max(1.0, abs(float(u)), abs(float(v))):
                    return False
            elif str(u).strip() != str(v).strip():
                return False
    return True


def plot(results, path, meta):
    """Both engines' median times per query, side by side (log scale), misses first."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rs = [r for r in results if "error" not in r]
    if not rs:
        return
    fig, ax = plt.subplots(figsize=(1.1 * len(rs) + 2, 3.8))
    x = range(len(rs))
    ax.bar([i - 0.2 for i in x], [r["ours_s"] for r in rs], 0.4, label="ours (host device)")
    ax.bar([i + 0.2 for i in x], [r["duckdb_s"] for r in rs], 0.4, label="DuckDB (%d threads)" % meta["threads"])
    for i, r in zip(x, rs):
        ax.annotate("%.2fx" % r["ratio"], (i, max(r["ours_s"], r["duckdb_s"])), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(x))
    ax.set_xticklabels([r["query"] for r in rs])
    ax.set_yscale("log")
    ax.set_ylabel("seconds (median)")
    ax.set_title("TPC-H SF%g through Kinetica's Python client beside DuckDB" % meta["sf"])
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--sf", type=float, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--only", default="", help="run only these queries (comma-separated)")
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = ap.parse_args()
    import duckdb
    import gpudb
    sf_text = ("%g" % args.sf)
    folder = args.data_dir or os.path.join("/tmp", "tpch_sf" + sf_text)
    print("making the data (scale factor %s) in %s" % (sf_text, folder), flush=True)
    make_data(args.sf, folder)
    server = start_server(args.server_binary, ["--files-dir=" + folder], http=True)
    results, failed = [], False
    try:
        db = gpudb.GPUdb(host="http://127.0.0.1:%d" % server.http_port)
        con = duckdb.connect()
        con.execute("set threads to %d" % args.threads)
        for t, columns in TABLES.items():
            start = time.perf_counter()
            ok(db.execute_sql("DROP TABLE IF EXISTS %s" % t), "drop")
            ok(db.execute_sql("CREATE TABLE %s (%s)" % (t, columns)), "create " + t)
            ok(db.insert_records_from_files(t, [t + ".csv"]), "loading " + t)
            ours_s = time.perf_counter() - start
            duck_columns = columns.replace("DECIMAL(15,2)", "DOUBLE")
            con.execute("create or replace table %s (%s)" % (t, duck_columns))
            con.execute("insert into %s select * from read_csv('%s/%s.csv', header = true)" % (t, folder, t))
            print("loaded %-8s ours %.1f s" % (t, ours_s), flush=True)
        only = set(filter(None, args.only.split(",")))
        for name, sql in list(QUERIES.items()) + list(SHAPES.items()):
            if only and name not in only:
                continue
            times = {"ours": [], "duckdb": []}
            answers = {}
            error = ""
            for i in range(args.repeat + 1):
                start = time.perf_counter()
                r = db.execute_sql_and_decode(sql, limit=-9999, get_column_major=False)
                elapsed = time.perf_counter() - start
                if r["status_info"]["status"] != "OK":
                    error = r["status_info"]["message"]
                    break
                answers["ours"] = [tuple(rec.values()) for rec in r["records"]]
                if i > 0:
                    times["ours"].append(elapsed)
                start = time.perf_counter()
                rows = con.execute(sql).fetchall()
                elapsed = time.perf_counter() - start
                answers["duckdb"] = [tuple(v.isoformat() if isinstance(v, datetime.date) else v for v in row)
                                     for row in rows]
                if i > 0:
                    times["duckdb"].append(elapsed)
            if error:
                failed = True
                results.append({"query": name, "error": error})
                print("%-4s ERROR %s" % (name, error), flush=True)
                continue
            agree = same(answers["ours"], answers["duckdb"])
            failed = failed or not agree
            o, d = statistics.median(times["ours"]), statistics.median(times["duckdb"])
            results.append({"query": name, "ours_s": o, "duckdb_s": d, "ratio": o / d, "rows": len(answers["ours"]),
                            "agree": agree, "runs": times})
            print("%-4s ours %8.3f s  duckdb %8.3f s  ratio %6.2f  %d rows%s" % (
                name, o, d, o / d, len(answers["ours"]),
                "" if agree else "  ANSWERS DIFFER: %r vs %r" % (answers["ours"][:2], answers["duckdb"][:2])),
                flush=True)
    finally:
        server.stop()
    results.sort(key=lambda r: -r.get("ratio", math.inf))
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "sf": args.sf, "repeat": args.repeat,
            "threads": args.threads, "machine": platform.platform()}
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "tpch_bench.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    lines = ["%s, scale factor %s" % (meta["date"], sf_text), "",
             "| query | ours (s) | DuckDB (s) | ours / DuckDB | rows |", "|---|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            lines.append("| %s | error | | | %s |" % (r["query"], r["error"].splitlines()[0]))
            continue
        lines.append("| %s | %.3f | %.3f | %.2f%s | %s |" % (r["query"], r["ours_s"], r["duckdb_s"], r["ratio"],
                                                           " (slower)" if r["ratio"] > 1 else "",
                                                           r["rows"] if r["agree"] else "differ"))
    with open(os.path.join(args.out_dir, "tpch_bench.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot(results, os.path.join(args.out_dir, "tpch_bench.png"), meta)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
