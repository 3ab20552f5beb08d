#!/usr/bin/env python3
"""Rewrites one CPU section of benchmarks/RESULTS.md from a benchmark's output.

  update_results.py kernels benchmarks/results/kernels_bench.json --command CMD
  update_results.py load    benchmarks/results/load_bench.txt --status N --command CMD
  update_results.py duckdb  benchmarks/results/compare_duckdb.json --command CMD
  update_results.py duckdb_http benchmarks/results/compare_duckdb_http.json --command CMD
  update_results.py shards  benchmarks/results/shard_bench.json --command CMD
  update_results.py tpch    benchmarks/results/tpch_bench.json --command CMD

Each section lies between `<!-- cpu:NAME:begin -->` and `<!-- cpu:NAME:end -->`
(NAME = kernels, load, duckdb, duckdb_http, shards, changes, tpch); everything outside the markers is left as it is.
A missing marker pair is an error (the file's structure is kept by hand).
Used by scripts/bench.sh.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "RESULTS.md")


def machine():
    model = platform.machine()
    try:
        m = re.search(r"Model name:\s*(.+)", subprocess.run(["lscpu"], capture_output=True, text=True).stdout)
        if m:
            model = m.group(1).strip()
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
        mem = ", %.0f GiB" % (kb / 2 ** 20)
    except (OSError, AttributeError):
        pass
    osname = ""
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'PRETTY_NAME="([^"]+)"', f.read())
            osname = ", " + m.group(1) if m else ""
    except OSError:
        pass
    return "%s, %d cores%s%s" % (model, os.cpu_count(), mem, osname)


def header(command, extra="", date=None):
    """Date (when measured; default now), machine and command lines."""
    date = date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["- Date: " + date, "- Machine: " + machine(), "- Command: `%s`" % command]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def si(v, unit=""):
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= scale:
            return "%.3g%s%s" % (v / scale, suffix, unit)
    return "%.3g %s" % (v, unit) if unit else "%.3g" % v


def fmt_rows(n):
    e = len(str(n)) - 1
    return "1e%d" % e if 10 ** e == n else str(n)


def kernels_section(path, command):
    with open(path) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    date = None
    try:
        when = datetime.datetime.fromisoformat(ctx["date"]).astimezone(datetime.timezone.utc)
        date = when.strftime("%Y-%m-%d %H:%M UTC")
    except (KeyError, ValueError):
        pass
    lines = [header(command, "- Threads: %s (Thrust on OpenMP); Google Benchmark, real time; about 0.2 s per "
                             "benchmark" % ctx.get("host_threads", "?"), date),
             "| benchmark | rows | time | rows/s | bytes/s | copy GB/s | copy_ratio | notes |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    known = {"items_per_second", "bytes_per_second", "copy_GB/s", "copy_ratio"}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b["name"]
        m = re.search(r"/rows:(\d+)", name)
        rows = fmt_rows(int(m.group(1))) if m else ""
        short = re.sub(r"/rows:\d+|/real_time", "", name)
        if b.get("error_occurred"):
            lines.append("| %s | %s | error: %s | | | | | |" % (short, rows, b.get("error_message", "")))
            continue
        notes = ", ".join("%s=%.4g" % (k, v) for k, v in b.items()
                          if isinstance(v, float) and k not in known
                          and k not in ("real_time", "cpu_time") and not k.endswith("_time"))
        lines.append("| %s | %s | %.3g %s | %s | %s | %.1f | %.3f | %s |" % (
            short, rows, b["real_time"], b.get("time_unit", "ns"), si(b.get("items_per_second", 0)),
            si(b.get("bytes_per_second", 0), "B"), b.get("copy_GB/s", 0), b.get("copy_ratio", 0), notes))
    return "\n".join(lines) + "\n"


def load_section(path, status, command):
    with open(path) as f:
        text = f.read().rstrip("\n").splitlines()
    tail = text[-80:]
    body = header(command, "- Exit status: %d%s" % (status, "" if status == 0 else " (failed; output below)"))
    return body + "\n```\n" + "\n".join(tail) + "\n```\n"


def duckdb_section(path, command):
    sys.path.insert(0, HERE)
    import compare_duckdb

    with open(path) as f:
        data = json.load(f)
    meta, results = data["meta"], data["results"]
    extra = ("- DuckDB %s (PyPI), %d threads; our server `--devices=%s`, same process tree, same data "
             "(seed %d)" % (meta["duckdb_version"], meta["threads"], meta["devices"], meta["seed"]))
    def listed(rs):
        return ", ".join("%s@%s (%.2f)" % (r["query"], compare_duckdb.fmt_rows(r["rows"]), r["ratio"])
                         for r in rs) or "none"

    summary = ("End to end, ours/DuckDB at or below 1 (the target): %s. Above 1: %s."
               % (listed([r for r in results if r["ratio"] <= 1]), listed([r for r in results if r["ratio"] > 1])))
    png = os.path.splitext(os.path.basename(path))[0] + ".png"
    return (header(command, extra, meta.get("date")) + "\n" + compare_duckdb.markdown(results, meta) + "\n"
            + summary + "\n\n"
            + "![rows/s against rows, ours and DuckDB](results/%s)\n" % png)


def table_section(path, command, extra):
    """A benchmark's own markdown table (<name>.md beside its JSON, after its date line), under
    the header; `extra(meta)` is the header's last line."""
    with open(path) as f:
        meta = json.load(f)["meta"]
    with open(os.path.splitext(path)[0] + ".md") as f:
        table = f.read().split("\n", 2)[2]  # after the date line and a blank line
    return header(command, extra(meta), meta.get("date")) + "\n" + table


def shards_section(path, command):
    return table_section(path, command, lambda meta: "- %d rows, %d thread(s) per host device (OMP_NUM_THREADS)"
                         % (meta["rows"], meta["threads_per_device"]))


def changes_section(path, command):
    return table_section(path, command, lambda meta: "- %d fact rows, %d dimension rows; DuckDB with %d threads; "
                         "median of %d runs" % (meta["rows"], meta["dim_rows"], meta["threads"], meta["repeat"]))


def tpch_section(path, command):
    return table_section(path, command, lambda meta: "- TPC-H scale factor %g (tpchgen-cli), DuckDB with %d threads; "
                         "median of %d runs; answers cross-checked" % (meta["sf"], meta["threads"], meta["repeat"])) + (
        "\n![seconds per query, ours and DuckDB](results/tpch_bench.png)\n")


def splice(name, content):
    with open(RESULTS) as f:
        text = f.read()
    begin, end = "<!-- cpu:%s:begin -->" % name, "<!-- cpu:%s:end -->" % name
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        sys.exit("update_results.py: %s has no %s ... %s markers" % (RESULTS, begin, end))
    text = text[:i + len(begin)] + "\n" + content + text[j:]
    with open(RESULTS, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("section", choices=["kernels", "load", "duckdb", "duckdb_http", "shards", "changes", "tpch"])
    ap.add_argument("path")
    ap.add_argument("--command", required=True)
    ap.add_argument("--status", type=int, default=0)
    args = ap.parse_args()
    if args.section == "kernels":
        content = kernels_section(args.path, args.command)
    elif args.section == "load":
        content = load_section(args.path, args.status, args.command)
    elif args.section == "shards":
        content = shards_section(args.path, args.command)
    elif args.section == "changes":
        content = changes_section(args.path, args.command)
    elif args.section == "tpch":
        content = tpch_section(args.path, args.command)
    else:
        content = duckdb_section(args.path, args.command)
    splice(args.section, content)


if __name__ == "__main__":
    main()
