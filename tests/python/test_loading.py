#!/usr/bin/env python3
"""Bulk loads and export with Kinetica's official Python client (PyPI `gpudb`, unchanged) over HTTP.

Usage: test_loading.py PATH/TO/gpudb-engine

Starts the server with --files-dir on a temporary folder. In the client's BINARY and JSON encodings,
with a pandas frame of every kind of column (integers, reals with NaN, text with None, booleans,
timestamps):
- insert_records_from_payload with the frame as CSV text (a new table: its type inferred), and as
  Parquet bytes (the fast way to load a frame);
- insert_records_from_files of the frame written as CSV and Parquet under the files folder;
- export_records_to_files to CSV and Parquet, read back with pandas;
every table read back with get_records and compared with the frame. Also: a bad row fails the load
with its line number and leaves the table as it was; error_handling=skip counts the bad rows and
keeps them in a bad-record table; paths outside the files folder are refused. Finally gpudb-cli's
`load FILE TABLE` (a payload, and --server-file), its progress lines and its exit status.

Needs gpudb, pandas, pyarrow, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import io
import json
import math
import os
import subprocess
import sys

from harness import REPO, check, guarded, run_main, start_server  # tests/python/harness.py

ROWS = 1000


def connect(url, encoding):
    import gpudb
    options = gpudb.GPUdb.Options()
    options.encoding = encoding
    return gpudb.GPUdb(host=url, options=options)


def frame(rows):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(7)
    x = rng.random(rows)
    x[::13] = np.nan
    names = ["n%d" % (i % 97) for i in range(rows)]
    for i in range(0, rows, 17):
        names[i] = None
    return pd.DataFrame({
        "id": np.arange(rows, dtype=np.int64) * 3 - 5,
        "x": x,
        "name": names,
        "flag": rng.random(rows) < 0.5,
        "ts": pd.Timestamp("2024-03-01 12:00:00") + pd.to_timedelta(rng.integers(0, 10**9, rows), unit="ms"),
    })


def expected_rows(df):
    """The frame's rows as the server returns them: nulls for NaN and None, timestamps in ms."""
    import pandas as pd
    ms = ((df["ts"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)).tolist()
    rows = []
    for i in range(len(df)):
        x = float(df["x"].iloc[i])
        name = df["name"].iloc[i]
        rows.append({"id": int(df["id"].iloc[i]), "x": None if math.isnan(x) else x,
                     "name": None if name is None or (isinstance(name, float) and math.isnan(name)) else name,
                     "flag": int(bool(df["flag"].iloc[i])), "ts": int(ms[i])})
    return rows


def ok(response, what):
    status = response["status_info"]
    check(status["status"] == "OK", "%s: %s" % (what, status.get("message")))
    return status["status"] == "OK"


def error_of(response):
    status = response["status_info"]
    return status.get("message", "") if status["status"] == "ERROR" else None


def read_back(db, table):
    r = db.get_records(table, 0, -9999, "json")
    if not ok(r, "get_records %s" % table):
        return []
    return [json.loads(record) for record in r["records_json"]]


def same_rows(got, want, what):
    if not check(len(got) == len(want), "%s: %d rows, expected %d" % (what, len(got), len(want))):
        return
    for g, w in zip(got, want):
        for key, value in w.items():
            v = g.get(key)
            if isinstance(value, float) and v is not None:
                good = math.isclose(v, value, rel_tol=1e-12)
            elif key == "flag" and isinstance(v, bool):
                good = int(v) == value
            else:
                good = v == value
            if not check(good, "%s: row %s column %s: %r, expected %r" % (what, w["id"], key, v, value)):
                return


def run_encoding(url, encoding, files):
    import pandas as pd
    db = connect(url, encoding)
    df = frame(ROWS)
    want = expected_rows(df)
    tag = encoding.lower()

    # CSV text into a new table: the type is inferred from the data.
    r = db.insert_records_from_payload("csv_" + tag, df.to_csv(index=False), b"", {}, {}, {})
    if ok(r, "payload csv"):
        check(r["count_inserted"] == ROWS, "payload csv: %s inserted" % r["count_inserted"])
        same_rows(read_back(db, "csv_" + tag), want, "payload csv")

    # Parquet bytes of the frame: the fast way to load one.
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    r = db.insert_records_from_payload("pq_" + tag, "", buffer.getvalue(), {}, {}, {"file_type": "parquet"})
    if ok(r, "payload parquet"):
        check(r["count_inserted"] == ROWS, "payload parquet: %s inserted" % r["count_inserted"])
        same_rows(read_back(db, "pq_" + tag), want, "payload parquet")

    # Files under --files-dir; the second load appends.
    df.to_csv(os.path.join(files, "frame_%s.csv" % tag), index=False)
    df.to_parquet(os.path.join(files, "frame_%s.parquet" % tag), index=False)
    r = db.insert_records_from_files("files_" + tag, ["frame_%s.csv" % tag, "frame_%s.parquet" % tag], {}, {}, {})
    if ok(r, "insert_records_from_files"):
        check(r["count_inserted"] == 2 * ROWS, "from files: %s inserted" % r["count_inserted"])
        check(r["files"] == ["frame_%s.csv" % tag, "frame_%s.parquet" % tag], "from files: files %r" % r["files"])
        same_rows(read_back(db, "files_" + tag), want + want, "from files")

    # Export, read back by pandas.
    for kind, name in (("delimited_text", "out_%s.csv" % tag), ("parquet", "out_%s.parquet" % tag)):
        r = db.export_records_to_files("pq_" + tag, name, {"file_type": kind})
        if not ok(r, "export %s" % kind):
            continue
        check(r["count_exported"] == ROWS and r["files"] == [name], "export %s: %r" % (kind, r))
        path = os.path.join(files, name)
        back = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, na_values=["\\N"],
                                                                         keep_default_na=False, parse_dates=["ts"])
        same_rows(expected_rows(back), want, "export %s read by pandas" % kind)

    # A bad row: the load fails naming its line, and the table is as it was.
    bad_csv = "id,x,name,flag,ts\n1,0.5,a,true,2024-01-01\n2,oops,b,false,2024-01-02\n"
    message = error_of(db.insert_records_from_payload("csv_" + tag, bad_csv, b"", {}, {}, {}))
    check(message is not None and "line 3" in message and "'oops' is not a valid double" in message,
          "bad row: %r" % message)
    check(len(read_back(db, "csv_" + tag)) == ROWS, "bad row: the table changed")
    r = db.insert_records_from_payload("csv_" + tag, bad_csv, b"", {}, {},
                                       {"error_handling": "skip", "bad_record_table_name": "bad_" + tag})
    if ok(r, "skip"):
        check(r["count_inserted"] == 1 and r["count_skipped"] == 1, "skip: %r" % r)
        bad = read_back(db, "bad_" + tag)
        check(len(bad) == 1 and bad[0]["line_number"] == 3, "bad-record table: %r" % bad)

    # Refused paths.
    message = error_of(db.insert_records_from_files("nope_" + tag, ["../x.csv"], {}, {}, {}))
    check(message is not None and "'..' is not allowed" in message, "'..': %r" % message)
    message = error_of(db.export_records_to_files("pq_" + tag, "/etc/out.csv", {}))
    check(message is not None and "outside the server's files directory" in message, "outside: %r" % message)


def run_cli(address, tmp, files):
    """gpudb-cli load: a local file sent as a payload, and a file under --files-dir, each followed
    with progress lines; a bad row exits 1 naming its line."""
    cli = [sys.executable, os.path.join(REPO, "scripts", "gpudb-cli"), "--server", address, "--progress", "lines"]
    local = os.path.join(tmp, "cli.tsv")
    with open(local, "w") as f:
        f.write("id\tname\n" + "".join("%d\tn%d\n" % (i, i) for i in range(5000)))
    with open(os.path.join(files, "cli.csv"), "w") as f:
        f.write("id,name\n7,x\n")
    for args, table, rows in ((["load", local, "cli_t"], "cli_t", 5000),
                              (["load", "cli.csv", "cli_t", "--server-file"], "cli_t", 1)):
        done = subprocess.run(cli + args + ["--output", "json"], capture_output=True, text=True, timeout=120)
        check(done.returncode == 0, "gpudb-cli %s: exit %d: %s" % (" ".join(args), done.returncode, done.stderr))
        check("DONE 100%" in done.stderr, "gpudb-cli %s: no progress to DONE: %r" % (args, done.stderr))
        result = guarded("gpudb-cli output", json.loads, done.stdout) or {}
        check(result.get("count_inserted") == rows, "gpudb-cli %s: %r" % (args, result))
    with open(local, "w") as f:
        f.write("id\tname\n1\ta\nx\tb\n")
    done = subprocess.run(cli + ["load", local, "cli_t"], capture_output=True, text=True, timeout=120)
    check(done.returncode == 1 and "line 3: column 'id'" in done.stderr,
          "gpudb-cli load of a bad row: exit %d: %r" % (done.returncode, done.stderr))


def run(binary, tmp, pb, rpc):
    files = os.path.join(tmp, "files")
    os.makedirs(files)
    server = start_server(binary, ["--devices=host:1", "--files-dir=" + files], http=True)
    try:
        url = "http://127.0.0.1:%d" % server.http_port
        for encoding in ("BINARY", "JSON"):
            guarded(encoding, run_encoding, url, encoding, files)
        guarded("gpudb-cli load", run_cli, server.address, tmp, files)
    finally:
        server.stop()


def main():
    return run_main(__doc__, "python_loading", ["gpudb", "pandas", "pyarrow"],
                    "gpudb, pandas, pyarrow, grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
