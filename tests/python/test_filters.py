#!/usr/bin/env python3
"""Kinetica's Python client (PyPI `gpudb`, unchanged) against the server over HTTP: the string, value
and table filters and statistics by range, checked against pandas.

Usage: test_filters.py PATH/TO/gpudb-engine

Starts the server binary with HTTP on a free port. A table of 4,000 rows (a char16 name, a nullable
text_search note, a nullable double, an int, a double to bin by) and a source table are made with
GPUdbTable and insert_records; then, in each of the client's encodings (BINARY, JSON, SNAPPY):

- db.filter_by_string in the modes equals, starts_with, contains (with % and _ in the text), regex and
  search, case-sensitive and not, over one and two columns: counts equal pandas';
- db.filter_by_value on an int, a double and a string column;
- db.filter_by_table in_table and not_in_table, on ints and strings;
- db.aggregate_statistics_by_range: every bin's count, sum, mean, min, max, stdv and variance, with a
  select_expression, by start/end/interval and by bin_values;
- the errors a user meets, with the server's message;

and once, the GPUdbTable methods of the same names: the views they return (size and rows), and the
statistics.

Needs gpudb[dataframe] (pandas), numpy, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import math
import re
import sys

from harness import check, close, guarded, run_main, start_server  # tests/python/harness.py

ROWS = 4000
ENCODINGS = ["BINARY", "JSON", "SNAPPY"]
COLUMNS = [["id", "long"], ["name", "string", "char16"], ["note", "string", "nullable", "text_search"],
           ["x", "double", "nullable"], ["k", "int"], ["b", "double"]]
WORDS = ["apple", "Banana", "cherry", "red", "RED", "pie", "Apple", "e-mail", "50%", "a_b"]


def make_frame():
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(20261205)
    names = rng.choice(["ann", "Bob", "cid", "DEE", "eve", "ann_1", "50%off", "bobby"], ROWS)
    notes = []
    for i in range(ROWS):
        if i % 10 == 0:
            notes.append(None)
        else:
            n = 1 + i % 4
            notes.append(" ".join(rng.choice(WORDS, n)))
    x = np.round(rng.random(ROWS) * 100, 2)
    return pd.DataFrame({
        "id": np.arange(ROWS, dtype=np.int64),
        "name": names,
        "note": pd.Series(notes, dtype=object),
        "x": pd.Series([None if i % 7 == 0 else float(v) for i, v in enumerate(x)], dtype=object),
        "k": rng.integers(0, 50, ROWS).astype(np.int32),
        "b": np.round(rng.random(ROWS) * 24 - 6, 3),
    })


def status(r):
    return r["status_info"]["status"], r["status_info"]["message"]


def words(text):
    """The words search mode reads: runs of letters, digits and '_', lowercased."""
    return [w.lower() for w in re.findall(r"[A-Za-z0-9_\u0080-\U0010ffff]+", text)] if text is not None else []


# --- References ---------------------------------------------------------------------

def string_cases(df):
    """(mode, expression, columns, options, pandas mask) for filter_by_string."""
    import pandas as pd
    name, note = df["name"], df["note"].fillna("\0")  # a null never matches
    low_name, low_note = name.str.lower(), note.str.lower()
    has_note = df["note"].notna()

    def search(keep):
        return pd.Series([keep(set(words(t))) for t in df["note"]], index=df.index)

    return [
        ("equals", "ann", ["name"], {}, name == "ann"),
        ("equals", "BOB", ["name"], {"case_sensitive": "false"}, low_name == "bob"),
        ("starts_with", "bo", ["name"], {"case_sensitive": "false"}, low_name.str.startswith("bo")),
        ("starts_with", "Ap", ["note"], {}, has_note & note.str.startswith("Ap")),
        ("contains", "an", ["name", "note"], {}, name.str.contains("an", regex=False) | (has_note & note.str.contains("an", regex=False))),
        ("contains", "n_", ["name"], {}, name.str.contains("n_", regex=False)),
        ("contains", "0%", ["name", "note"], {}, name.str.contains("0%", regex=False) | (has_note & note.str.contains("0%", regex=False))),
        ("contains", "RED", ["note"], {"case_sensitive": "false"}, has_note & low_note.str.contains("red", regex=False)),
        ("regex", "^[a-c][a-z]+$", ["name"], {}, name.str.contains(r"^[a-c][a-z]+$", regex=True)),
        ("regex", "pie$|^cherry", ["note"], {}, has_note & note.str.contains(r"pie$|^cherry", regex=True)),
        ("regex", "^b.b", ["name"], {"case_sensitive": "false"}, name.str.contains(r"^b.b", regex=True, flags=re.I)),
        ("search", "apple", [], {}, search(lambda w: "apple" in w)),
        ("search", "cherry pie", [], {}, search(lambda w: "cherry" in w or "pie" in w)),
        ("search", "apple AND NOT red", [], {}, search(lambda w: "apple" in w and "red" not in w)),
        ("search", "(banana OR cherry) AND e-mail", [], {},
         pd.Series([bool({"banana", "cherry"} & set(words(t))) and " e mail " in " %s " % " ".join(words(t))
                    for t in df["note"]], index=df.index)),
        ("search", "\"red pie\"", [], {}, pd.Series([" red pie " in " %s " % " ".join(words(t)) for t in df["note"]],
                                                    index=df.index)),
        ("search", "ch*y", [], {}, search(lambda w: any(re.fullmatch("ch.*y", x) for x in w))),
    ]


def range_stats(df, select, column, value, start, end, interval):
    """Per bin of `column` (histogram rules: the last bin closed at end) over the rows where `select`
    holds: count of rows, and count, sum, mean, min, max, stdv, variance of the non-null values."""
    import numpy as np
    bins = int(math.ceil((end - start) / interval))
    rows = df[select & df[column].between(start, end)]
    index = np.minimum(np.floor((rows[column] - start) / interval).astype(int), bins - 1)
    out = {k: [0.0] * bins for k in ("count", "sum", "mean", "min", "max", "stdv", "variance")}
    for b, group in rows.groupby(index):
        values = group[value].dropna().astype(float)
        out["count"][b] = float(len(group))
        if len(values) == 0:
            continue
        out["sum"][b] = float(values.sum())
        out["mean"][b] = float(values.mean())
        out["min"][b] = float(values.min())
        out["max"][b] = float(values.max())
        out["variance"][b] = float(values.var(ddof=1)) if len(values) > 1 else 0.0
        out["stdv"][b] = math.sqrt(out["variance"][b])
    return out


def same_stats(got, want, what):
    for key, values in want.items():
        g = got.get(key)
        check(g is not None and len(g) == len(values) and all(close(a, b) for a, b in zip(g, values)),
              "%s: %s %s, want %s" % (what, key, g, values))


# --- The calls, in one encoding -----------------------------------------------------------

def run_encoding(url, encoding, df, src):
    import gpudb
    options = gpudb.GPUdb.Options()
    options.encoding = encoding
    db = gpudb.GPUdb(host=url, options=options)

    for mode, expression, columns, opts, mask in string_cases(df):
        r = db.filter_by_string("people", "", expression, mode, columns, opts)
        what = "%s filter_by_string %s %r %s %s" % (encoding, mode, expression, columns, opts)
        if check(status(r) == ("OK", ""), "%s: %s" % (what, status(r))):
            check(r["count"] == int(mask.sum()), "%s: count %s, want %d" % (what, r["count"], int(mask.sum())))
            check(r["stats_data"] in (b"", ""), "%s: stats_data %r" % (what, r["stats_data"]))

    some_x = float(df["x"].dropna().iloc[3])
    for column, is_string, value, value_str, mask in [
            ("k", False, 7, "", df["k"] == 7),
            ("x", False, some_x, "", df["x"].apply(lambda v: v is not None and v == some_x)),
            ("name", True, 0, "50%off", df["name"] == "50%off")]:
        r = db.filter_by_value("people", "", is_string, value, value_str, column)
        check(status(r) == ("OK", "") and r["count"] == int(mask.sum()),
              "%s filter_by_value %s: %s %s, want %d" % (encoding, column, status(r), r.get("count"), int(mask.sum())))

    for column, source_column, mode, mask in [
            ("k", "k2", "in_table", df["k"].isin(src["k2"])),
            ("k", "k2", "not_in_table", ~df["k"].isin(src["k2"])),
            ("name", "label", "in_table", df["name"].isin(src["label"]))]:
        r = db.filter_by_table("people", "", column, "src", source_column, {"filter_mode": mode})
        check(status(r) == ("OK", "") and r["count"] == int(mask.sum()),
              "%s filter_by_table %s %s: %s %s, want %d" % (encoding, column, mode, status(r), r.get("count"),
                                                             int(mask.sum())))

    stats = "count,sum,mean,min,max,stdv,variance"
    r = db.aggregate_statistics_by_range("people", "k < 40", "b", "x", stats, -5, 15, 2.5)
    if check(status(r) == ("OK", ""), "%s statistics by range: %s" % (encoding, status(r))):
        same_stats(r["stats"], range_stats(df, df["k"] < 40, "b", "x", -5, 15, 2.5), "%s statistics by range" % encoding)
    r = db.aggregate_statistics_by_range("people", "", "name", "k", "sum,max", 0, 0, 0,
                                         {"bin_values": "ann,Bob,eve"})
    if check(status(r) == ("OK", ""), "%s statistics by bin_values: %s" % (encoding, status(r))):
        g = df[df["name"].isin(["ann", "Bob", "eve"])].groupby("name")["k"]
        want = [("ann", "ann"), ("Bob", "Bob"), ("eve", "eve")]
        check(r["stats"]["count"] == [float(g.size()[n]) for n, _ in want]
              and r["stats"]["sum"] == [float(g.sum()[n]) for n, _ in want]
              and r["stats"]["max"] == [float(g.max()[n]) for n, _ in want],
              "%s statistics by bin_values: %s" % (encoding, r["stats"]))

    # Errors, as the user reads them.
    errors = [
        (db.filter_by_string("people", "", "(ab", "regex", ["name"]),
         "expression: invalid regular expression: missing ): (ab"),
        (db.filter_by_string("people", "", "a", "like", ["name"]),
         "mode: expected 'search', 'equals', 'contains', 'starts_with' or 'regex', got 'like'"),
        (db.filter_by_string("people", "", "a", "contains", ["k"]), "column_names[0]: 'k' is int, not a string column"),
        (db.filter_by_string("people", "", "a", "equals", ["nope"]), "column_names[0]: no column named 'nope'"),
        (db.filter_by_value("people", "", False, 1, "", "name"),
         "column_name: 'name' is char16; give value_str with is_string true"),
        (db.filter_by_table("people", "", "k", "nope", "k2"), "source_table_name: table 'nope' does not exist"),
        (db.filter_by_table("people", "", "name", "src", "k2"),
         "source_table_column_name: 'k2' is int and column_name 'name' is char16; their types must match"),
        (db.aggregate_statistics_by_range("people", "", "b", "x", "mean", 0, 10, 0),
         "interval: must be a positive number, got 0"),
        (db.aggregate_statistics_by_range("people", "", "b", "x", "median", 0, 10, 1),
         "stats: 'median' is not a statistic by range (count, sum, mean, stdv, variance, skew, kurtosis, min, max, "
         "first, last, weighted_average)"),
    ]
    for r, message in errors:
        check(status(r) == ("ERROR", message), "%s error: %s, want %r" % (encoding, status(r), message))


# --- GPUdbTable ------------------------------------------------------------------------

def table_methods(db, df, src):
    import gpudb
    table = gpudb.GPUdbTable(None, name="people", db=db)

    def ids(view):
        return [rec["id"] for rec in view.get_records(0, -9999, options={"sort_by": "id"})]

    view = table.filter_by_string("an", "contains", ["name"])
    want = df[df["name"].str.contains("an", regex=False)]["id"].tolist()
    check(view.size() == len(want) and ids(view) == want, "GPUdbTable.filter_by_string: %d rows, want %d"
          % (view.size(), len(want)))
    view = table.filter_by_string("pie", "search", [], view_name="pies")
    want = [i for i, t in zip(df["id"], df["note"]) if "pie" in words(t)]
    check(view.qualified_name.endswith("pies") and ids(view) == want,
          "GPUdbTable.filter_by_string search: %s %d rows, want %d" % (view.qualified_name, view.size(), len(want)))
    # A filter of the view, which is a view too.
    again = view.filter_by_string("^A", "regex", ["note"])
    want = [i for i, t in zip(df["id"], df["note"]) if "pie" in words(t) and t.startswith("A")]
    check(ids(again) == want, "GPUdbTable.filter_by_string of a view: %d rows, want %d" % (again.size(), len(want)))

    view = table.filter_by_value(False, 7, "", "k")
    check(ids(view) == df[df["k"] == 7]["id"].tolist(), "GPUdbTable.filter_by_value: %d rows" % view.size())
    view = table.filter_by_value(True, 0, "DEE", "name")
    check(view.size() == int((df["name"] == "DEE").sum()), "GPUdbTable.filter_by_value string: %d" % view.size())

    view = table.filter_by_table("k", "src", "k2", options={"filter_mode": "not_in_table"})
    check(ids(view) == df[~df["k"].isin(src["k2"])]["id"].tolist(), "GPUdbTable.filter_by_table: %d rows"
          % view.size())

    r = table.aggregate_statistics_by_range("", "b", "x", "mean,max", -6, 18, 4)
    want = range_stats(df, df["k"] >= 0, "b", "x", -6, 18, 4)
    same_stats(r["stats"], {k: want[k] for k in ("count", "mean", "max")}, "GPUdbTable.aggregate_statistics_by_range")

    try:
        table.filter_by_string("a**", "regex", ["name"])
        check(False, "GPUdbTable.filter_by_string with a bad regex did not raise")
    except gpudb.GPUdbException as e:
        check("invalid regular expression: bad repetition operator: **" in str(e), "bad regex: %s" % e)


def run(binary, tmp, pb, rpc):
    import gpudb

    server = start_server(binary, ["--devices=host:1"], http=True)
    url = "http://127.0.0.1:%d" % server.http_port
    try:
        db = gpudb.GPUdb(host=url)
        df = make_frame()
        people = gpudb.GPUdbTable(COLUMNS, name="people", db=db)
        people.insert_records([[int(r.id), r.name, r.note, r.x, int(r.k), float(r.b)]
                               for r in df.itertuples(index=False)])
        check(people.size() == ROWS, "people: size %s" % people.size())
        import pandas as pd
        src = pd.DataFrame({"k2": [3, 7, 7, 11, 48, 99], "label": ["ann", "eve", "zed", "ann", "Bob", "x"]})
        source = gpudb.GPUdbTable([["k2", "int"], ["label", "string", "char16"]], name="src", db=db)
        source.insert_records([[int(k), s] for k, s in zip(src["k2"], src["label"])])
        for encoding in ENCODINGS:
            guarded("encoding %s" % encoding, run_encoding, url, encoding, df, src)
        guarded("GPUdbTable", table_methods, db, df, src)
    finally:
        server.stop()


def main():
    return run_main(__doc__, "python_filters", ["gpudb", "pandas", "numpy"],
                    "gpudb[dataframe] (pandas), numpy, grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
