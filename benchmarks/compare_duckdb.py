#!/usr/bin/env python3
"""Our engine and DuckDB side by side: the same data, the same machine, the same run.

Usage:
  compare_duckdb.py [--server-binary build/server/gpudb-engine | --server HOST:PORT]
                    [--rows 1e6,1e7] [--repeat 5] [--repeat-large 3] [--threads N]
                    [--devices host] [--http]
                    [--out-dir benchmarks/results]

For each size the data is generated once in numpy (seeded) and loaded into both:
DuckDB from the numpy arrays (CREATE TABLE ... AS, native storage in memory), ours
through /insert/records with list_encoding binary (one Avro record per row,
spec section 7), the protobuf request built by vectorized numpy code and checked
against the protobuf library on a few rows. Loading is not timed.

Table (rows n):  x double uniform [0, 1), y double uniform [0, 200),
                 k2 long uniform in [0, 100) (1e2 groups),
                 k6 long uniform in [0, 1e6) (~1e6 groups: 632k at n=1e6, 1e6 at n=1e7),
                 ts long rising with the row (1000 i plus up to 999: timestamps in the
                 order rows arrived, as a log or a time series is loaded),
                 k3 long uniform in [0, 10), c string of 8 colours, s string of
                 10,000 names of 3 to 9 characters (shared prefixes).

Queries (the same question to both; results compared, a mismatch fails loudly):
  filter_1pred   count of x > 0.5                        (/filter)
  filter_3pred   count of x > 0.5 and y < 100 and k2 < 50 (/filter)
  statistics     count,sum,min,max,mean,stdv,variance of x (/aggregate/statistics;
                 DuckDB stddev_samp/var_samp)
  groupby_1e2    k2, sum(x), count(*) by k2, ascending keys, first 1000 groups
  groupby_1e6    k6, sum(x), count(*) by k6, ascending keys, first 1000 groups
                 (both aggregate every row and order every group; the page keeps the
                 answer small, as our responses are paged)
  sort           the 100 values of x at ranks [n/2, n/2+100) in ascending order
                 (/get/records/bycolumn sort_by x, offset n/2; DuckDB ORDER BY x
                 LIMIT 100 OFFSET n/2): a page in the middle needs the order of half
                 the rows, so neither side can answer it from a small heap
  topk           the 10 largest x (sort_order descending, limit 10; DuckDB ORDER BY x
                 DESC LIMIT 10): each side may use its top-k shortcut
  recent         count of ts >= 1000 * 0.99 n (the latest 1% of the rows; /filter):
                 both sides may skip the zones (row groups) whose bounds rule them out
  latest         the 10 largest ts (as topk, on the rising column)
  or_in          count of x > 0.95 or k2 in (4 values)
  in_long        count of k6 in (1,000 values)
  arith          count of x * 2 + y / 1000 > 1.0
  str_eq         count of c = 'green'
  str_or         count of c = 'green' or c = 'purple' or s = 'ab16'
  like           count of s like 'ab1%'
  computed       k2, sum(x * (1 - y / 200)), count(*) by k2
  groupby_where  k2, sum(x * y), count(*) by k2 over the 20% of rows where k6 < 200000
  groupby_2keys  k2, c, count(*) by k2, c: the 100 largest counts (order_by)
  groupby_3keys  k2, c, k3, sum(y), count(*) by the three, first 1000 by key
  unique_str     the distinct values of s (/aggregate/unique), first 1000
  str_sort       the 100 values of s at ranks [n/2, n/2+100) (as sort)
  (joins, updates, deletes and upserts: benchmarks/change_bench.py)

Timing: ours from CreateJob (request_encoding json) to the result fetched with
GetJob (options.wait_timeout_ms) and parsed; also the execution time the job
reports (GetJob info.execution_ms: from the job's start on its stream to its end).
With --http: the client's method for the endpoint (GPUdb.filter,
aggregate_group_by, ...) over HTTP, the data still loaded through gRPC; no
kernel time (the client does not report it); output compare_duckdb_http.*.
DuckDB: wall time of con.execute(sql).fetchall() with SET threads to --threads.
One warm-up run each, then --repeat runs (--repeat-large from 1e8 rows on); the
median is reported, and every run is kept in the JSON. Our runs and DuckDB's
alternate, so a burst of load elsewhere on the machine hits both alike.

Writes, under --out-dir: compare_duckdb.json (every run), compare_duckdb.md (the
table, the slowest ratio first) and compare_duckdb.png (rows/s against rows,
log-log, one panel per query).
Exit status 0 when every result agreed.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics as pystats
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Python tests' harness: stubs, the server on free ports, a ready channel.
sys.path.insert(0, os.path.join(REPO, "tests", "python"))
from harness import channel, generate_stubs, start_server  # noqa: E402
SEED = 20261129
MAX_MESSAGE = 256 * 1024 * 1024
INSERT_BATCH = 2_000_000
GROUP_PAGE = 1000
SORT_PAGE = 100
TOP_K = 10


class Mismatch(Exception):
    pass


# --- gRPC plumbing ------------------------------------------------------------

def start_ours(binary, devices, http=False):
    """Starts the server on a free port (and HTTP on another with `http`); returns it (harness.Server)."""
    # No HTTP listener unless asked for (its fixed default port could clash), where the binary has one.
    help_text = subprocess.run([binary, "--helpfull"], capture_output=True, text=True).stdout
    return start_server(binary, ["--devices=" + devices], http=http if "http_port" in help_text else None)


class Ours:
    def __init__(self, address, pb, rpc):
        self.pb = pb
        self.channel = channel(address, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)])
        self.stub = rpc.GpudbStub(self.channel)

    def execute_json(self, endpoint, request):
        r = self.stub.Execute(self.pb.ExecuteRequest(endpoint=endpoint, request_encoding="json",
                                                     data_str=json.dumps(request)))
        if r.status != "OK":
            raise RuntimeError("%s: %s" % (endpoint, r.message))
        return json.loads(r.data_str)

    def insert_binary(self, data):
        """/insert/records with a ready-made protobuf InsertRecordsRequest."""
        r = self.stub.Execute(self.pb.ExecuteRequest(endpoint="/insert/records", request_encoding="binary",
                                                     data=data))
        if r.status != "OK":
            raise RuntimeError("/insert/records: " + r.message)
        return self.pb.InsertRecordsResponse.FromString(r.data).count_inserted

    def job(self, endpoint, request):
        """Runs one job; returns (response, seconds end to end, execution ms the job reports)."""
        pb = self.pb
        body = json.dumps(request)
        start = time.perf_counter()
        created = self.stub.CreateJob(pb.CreateJobRequest(endpoint=endpoint, request_encoding="json",
                                                          data_str=body,
                                                          options={"remove_job_on_complete": "true"}))
        if created.status != "OK":
            raise RuntimeError("CreateJob %s: %s" % (endpoint, created.message))
        job_id = pb.CreateJobResponse.FromString(created.data).job_id
        while True:
            got = self.stub.GetJob(pb.GetJobRequest(job_id=job_id, options={"wait_timeout_ms": "600000"}))
            if got.status != "OK":
                raise RuntimeError("GetJob %d: %s" % (job_id, got.message))
            job = pb.GetJobResponse.FromString(got.data)
            if not job.running:
                break
        if job.job_status != "DONE":
            raise RuntimeError("job %d (%s) ended %s: %s %s" % (job_id, endpoint, job.job_status,
                                                               dict(job.status_map), dict(job.info)))
        response = json.loads(job.job_response_str)
        seconds = time.perf_counter() - start
        return response, seconds, float(job.info["execution_ms"])


class OursHttp:
    """The same questions through Kinetica's Python client (gpudb.GPUdb over HTTP, default settings):
    each endpoint's method of the client, which encodes the request and decodes the response."""

    METHODS = {"/filter": "filter", "/aggregate/groupby": "aggregate_group_by",
               "/aggregate/unique": "aggregate_unique", "/aggregate/statistics": "aggregate_statistics",
               "/get/records/bycolumn": "get_records_by_column"}

    def __init__(self, http_port):
        import gpudb
        self.db = gpudb.GPUdb(host="http://127.0.0.1:%d" % http_port)

    def job(self, endpoint, request):
        """Runs one request; returns (response, seconds end to end, NaN: the client reports no kernel time)."""
        method = getattr(self.db, self.METHODS[endpoint])
        start = time.perf_counter()
        response = method(**request)
        seconds = time.perf_counter() - start
        if response["status_info"]["status"] != "OK":
            raise RuntimeError("%s: %s" % (endpoint, response["status_info"]["message"]))
        return response, seconds, float("nan")


# --- Loading: Avro records inside a protobuf InsertRecordsRequest, vectorized ---

def zigzag(v):
    v = v.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def varint_sizes(u):
    n = np.ones(len(u), dtype=np.int64)
    for k in range(1, 10):
        n += (u >= np.uint64(1) << np.uint64(7 * k)).astype(np.int64)
    return n


def put_varints(buf, pos, u, n):
    for k in range(int(n.max()) if len(n) else 0):
        mask = n > k
        byte = ((u[mask] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        byte |= np.where(n[mask] > k + 1, 0x80, 0).astype(np.uint8)
        buf[pos[mask] + k] = byte


def pb_string(field, text):
    raw = text.encode()
    assert len(raw) < 128
    return bytes([field << 3 | 2, len(raw)]) + raw


def insert_request_bytes(table, columns):
    """The protobuf encoding of InsertRecordsRequest{table_name, list, list_encoding="binary"}.

    `columns` is [(kind, array)] in the table's column order, kind 'double', 'long' or
    'string' (the array then a pair: codes, and the vocabulary they index).
    Each list entry is tag 0x12, the record's length (one byte: records are < 128 bytes),
    then the Avro record: doubles as 8 bytes little-endian, longs as zig-zag varints,
    strings as their zig-zag length and their UTF-8 bytes.
    """
    rows = len(columns[0][1])
    parts = []  # (kind, payload, sizes)
    length = np.zeros(rows, dtype=np.int64)
    for kind, values in columns:
        if kind == "string":
            codes, vocab = values
            encoded = [avro_record_slow([("string", v)]) for v in vocab]
            bytes_of = np.zeros((len(vocab), max(map(len, encoded))), dtype=np.uint8)
            for i, e in enumerate(encoded):
                bytes_of[i, :len(e)] = np.frombuffer(e, dtype=np.uint8)
            sizes = np.array([len(e) for e in encoded], dtype=np.int64)[codes]
            parts.append((kind, (codes, bytes_of), sizes))
            length += sizes
        elif kind == "double":
            parts.append((kind, np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(rows, 8), None))
            length += 8
        else:
            u = zigzag(values)
            n = varint_sizes(u)
            parts.append((kind, u, n))
            length += n
    if rows and int(length.max()) >= 128:
        raise ValueError("records of 128 bytes or more need a two-byte length")
    entry = length + 2
    offsets = np.zeros(rows, dtype=np.int64)
    np.cumsum(entry[:-1], out=offsets[1:])
    buf = np.zeros(int(entry.sum()), dtype=np.uint8)
    buf[offsets] = 0x12
    buf[offsets + 1] = length.astype(np.uint8)
    pos = offsets + 2
    for kind, payload, n in parts:
        if kind == "string":
            codes, bytes_of = payload
            for size in np.unique(n):
                rows_of = n == size
                buf[pos[rows_of][:, None] + np.arange(size)] = bytes_of[codes[rows_of], :size]
            pos = pos + n
        elif kind == "double":
            buf[pos[:, None] + np.arange(8)] = payload
            pos = pos + 8
        else:
            put_varints(buf, pos, payload, n)
            pos = pos + n
    return pb_string(1, table) + buf.tobytes() + pb_string(4, "binary")


def avro_record_slow(values):
    """One Avro record the plain way, to check the vectorized encoder."""
    import struct

    out = b""
    for kind, v in values:
        if kind == "double":
            out += struct.pack("<d", v)
            continue
        raw = v.encode() if kind == "string" else b""
        u = (len(raw) << 1) if kind == "string" else ((int(v) << 1) ^ (int(v) >> 63)) & ((1 << 64) - 1)
        while True:
            b = u & 0x7F
            u >>= 7
            out += bytes([b | (0x80 if u else 0)])
            if not u:
                break
        out += raw
    return out


def check_encoder(pb):
    """The vectorized encoding equals the protobuf library's, on edge values."""
    x = np.array([0.0, -1.5, 1e300, 0.123456789], dtype=np.float64)
    k = np.array([0, -1, 63, -64 * 1024 * 1024 * 1024 * 1024], dtype=np.int64)
    k6 = np.array([999999, 64, 8191, 2 ** 62], dtype=np.int64)
    vocab = ["", "a", "hello", "ü" * 30]
    s = np.array([3, 0, 2, 1], dtype=np.int64)
    cols = [("double", x), ("string", (s, vocab)), ("long", k), ("long", k6)]
    ours = insert_request_bytes("t", cols)
    req = pb.InsertRecordsRequest(table_name="t", list_encoding="binary")
    for r in range(len(x)):
        req.list.append(avro_record_slow([(kind, vocab[a[0][r]] if kind == "string" else a[r])
                                          for kind, a in cols]))
    if ours != req.SerializeToString():
        raise Mismatch("the vectorized InsertRecordsRequest encoding differs from protobuf's")


# --- The data and the queries -------------------------------------------------

def make_data(rows, seed):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.random(rows),
        "y": rng.random(rows) * 200.0,
        "k2": rng.integers(0, 100, rows, dtype=np.int64),
        "k6": rng.integers(0, 1_000_000, rows, dtype=np.int64),
        "ts": np.arange(rows, dtype=np.int64) * 1000 + rng.integers(0, 1000, rows, dtype=np.int64),
        "k3": rng.integers(0, 10, rows, dtype=np.int64),
        "c": rng.integers(0, len(COLORS), rows, dtype=np.int64),
        "s": rng.integers(0, len(NAMES), rows, dtype=np.int64),
    }


# String columns hold codes into these vocabularies: c (8 colours) and s (10,000 names of 4 to 10
# characters, some sharing prefixes, as product or user names do).
COLORS = ["red", "green", "blue", "black", "white", "yellow", "purple", "orange"]
NAMES = ["%s%d" % (p, i) for i, p in enumerate(
    ["ab", "bc", "cd", "de", "ef", "fg", "gh", "hi", "ij", "jk", "kl", "mn", "no", "op", "pq", "qr"][i % 16]
    + "xyz"[: i % 4] for i in range(10_000))]
VOCAB = {"c": COLORS, "s": NAMES}
COLUMNS = [("x", "double"), ("y", "double"), ("k2", "long"), ("k6", "long"), ("ts", "long"),
           ("k3", "long"), ("c", "string"), ("s", "string")]


def load_ours(ours, table, data):
    ours.execute_json("/create/table", {"table_name": table,
                                        "type_id": json.dumps([[n, t] for n, t in COLUMNS])})
    rows = len(data["x"])
    for begin in range(0, rows, INSERT_BATCH):
        end = min(rows, begin + INSERT_BATCH)
        body = insert_request_bytes(table, [(t, (data[n][begin:end], VOCAB[n]) if t == "string" else data[n][begin:end])
                                            for n, t in COLUMNS])
        inserted = ours.insert_binary(body)
        if inserted != end - begin:
            raise Mismatch("/insert/records inserted %d of %d rows" % (inserted, end - begin))


def load_duckdb(con, data):
    # noqa: F841 (DuckDB scans the local dict by name); strings as Python str objects
    src = {n: np.array(VOCAB[n], dtype=object)[data[n]] if t == "string" else data[n]  # noqa: F841
           for n, t in COLUMNS}
    con.execute("DROP TABLE IF EXISTS t")
    con.execute("CREATE TABLE t AS SELECT * FROM src")


def dynamic_columns(response):
    """Columns of a json_encoded_response, by header."""
    body = json.loads(response["json_encoded_response"])
    headers = body["column_headers"]
    return {h: body["column_%d" % (i + 1)] for i, h in enumerate(headers)}


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def queries(rows, table):
    """(name, endpoint, request, sql, extract_ours, extract_duck, compare)."""
    mid = rows // 2
    recent = 1000 * (rows - rows // 100)

    def count_ours(r):
        return r["count"]

    def count_duck(res):
        return res[0][0]

    def same(a, b):
        return a == b

    stats_names = ["count", "sum", "min", "max", "mean", "stdv", "variance"]

    def stats_ours(r):
        return [r["stats"][s] for s in stats_names]

    def stats_duck(res):
        return list(res[0])

    def stats_same(a, b):
        return (a[0] == b[0] and a[2] == b[2] and a[3] == b[3]
                and all(close(p, q) for p, q in zip(a[1:], b[1:])))

    def groups_ours(key):
        def extract(r):
            c = dynamic_columns(r)
            return {"total": r["total_number_of_records"],
                    "rows": list(zip(c[key], c["sum(x)"], c["count(*)"]))}
        return extract

    def groups_duck(res):
        return {"rows": [tuple(row) for row in res]}

    def groups_same(a, b):
        return (len(a["rows"]) == len(b["rows"])
                and all(p[0] == q[0] and p[2] == q[2] and close(p[1], q[1]) for p, q in zip(a["rows"], b["rows"])))

    def values_ours(r):
        return dynamic_columns(r)["x"]

    def ts_ours(r):
        return dynamic_columns(r)["ts"]

    def values_duck(res):
        return [row[0] for row in res]

    def count_query(name, expression):
        return (name, "/filter", {"table_name": table, "view_name": "", "expression": expression},
                "SELECT count(*) FROM t WHERE " + expression,
                count_ours, count_duck, same)

    def rows_ours(headers):
        def extract(r):
            c = dynamic_columns(r)
            return list(zip(*(c[h] for h in headers)))
        return extract

    def rows_duck(res):
        return [tuple(row) for row in res]

    def rows_same(a, b):
        return len(a) == len(b) and all(
            len(p) == len(q) and all(close(u, v) if isinstance(u, float) else u == v for u, v in zip(p, q))
            for p, q in zip(a, b))

    group_sql = "SELECT {k}, sum(x), count(*) FROM t GROUP BY {k} ORDER BY {k} LIMIT %d" % GROUP_PAGE
    return [
        ("filter_1pred", "/filter", {"table_name": table, "view_name": "", "expression": "x > 0.5"},
         "SELECT count(*) FROM t WHERE x > 0.5", count_ours, count_duck, same),
        ("filter_3pred", "/filter",
         {"table_name": table, "view_name": "", "expression": "x > 0.5 and y < 100 and k2 < 50"},
         "SELECT count(*) FROM t WHERE x > 0.5 AND y < 100 AND k2 < 50", count_ours, count_duck, same),
        ("statistics", "/aggregate/statistics",
         {"table_name": table, "column_name": "x", "stats": ",".join(stats_names)},
         "SELECT count(x), sum(x), min(x), max(x), avg(x), stddev_samp(x), var_samp(x) FROM t",
         stats_ours, stats_duck, stats_same),
        ("groupby_1e2", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k2", "sum(x)", "count(*)"], "offset": 0, "limit": GROUP_PAGE,
          "encoding": "json"},
         group_sql.format(k="k2"), groups_ours("k2"), groups_duck, groups_same),
        ("groupby_1e6", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k6", "sum(x)", "count(*)"], "offset": 0, "limit": GROUP_PAGE,
          "encoding": "json"},
         group_sql.format(k="k6"), groups_ours("k6"), groups_duck, groups_same),
        ("sort", "/get/records/bycolumn",
         {"table_name": table, "column_names": ["x"], "offset": mid, "limit": SORT_PAGE, "encoding": "json",
          "options": {"sort_by": "x", "sort_order": "ascending"}},
         "SELECT x FROM t ORDER BY x LIMIT %d OFFSET %d" % (SORT_PAGE, mid), values_ours, values_duck, same),
        ("topk", "/get/records/bycolumn",
         {"table_name": table, "column_names": ["x"], "offset": 0, "limit": TOP_K, "encoding": "json",
          "options": {"sort_by": "x", "sort_order": "descending"}},
         "SELECT x FROM t ORDER BY x DESC LIMIT %d" % TOP_K, values_ours, values_duck, same),
        ("recent", "/filter", {"table_name": table, "view_name": "", "expression": "ts >= %d" % recent},
         "SELECT count(*) FROM t WHERE ts >= %d" % recent, count_ours, count_duck, same),
        ("latest", "/get/records/bycolumn",
         {"table_name": table, "column_names": ["ts"], "offset": 0, "limit": TOP_K, "encoding": "json",
          "options": {"sort_by": "ts", "sort_order": "descending"}},
         "SELECT ts FROM t ORDER BY ts DESC LIMIT %d" % TOP_K, ts_ours, values_duck, same),
        # The shapes users write beyond the scan plans.
        count_query("or_in", "x > 0.95 or k2 in (3, 17, 42, 77)"),
        count_query("in_long", "k6 in (%s)" % ", ".join(str(v) for v in range(7, 1_000_000, 1000))),
        count_query("arith", "x * 2 + y / 1000 > 1.0"),
        count_query("str_eq", "c = 'green'"),
        count_query("str_or", "c = 'green' or c = 'purple' or s = 'ab16'"),
        count_query("like", "s like 'ab1%'"),
        ("computed", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k2", "sum(x * (1 - y / 200))", "count(*)"], "offset": 0,
          "limit": GROUP_PAGE, "encoding": "json"},
         "SELECT k2, sum(x * (1 - y / 200)), count(*) FROM t GROUP BY k2 ORDER BY k2",
         rows_ours(["k2", "sum(x * (1 - y / 200))", "count(*)"]), rows_duck, rows_same),
        ("groupby_where", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k2", "sum(x * y)", "count(*)"], "offset": 0, "limit": GROUP_PAGE,
          "encoding": "json", "options": {"expression": "k6 < 200000"}},
         "SELECT k2, sum(x * y), count(*) FROM t WHERE k6 < 200000 GROUP BY k2 ORDER BY k2",
         rows_ours(["k2", "sum(x * y)", "count(*)"]), rows_duck, rows_same),
        ("groupby_2keys", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k2", "c", "count(*)"], "offset": 0, "limit": 100,
          "encoding": "json", "options": {"order_by": "count(*) desc, k2, c"}},
         "SELECT k2, c, count(*) FROM t GROUP BY k2, c ORDER BY count(*) DESC, k2, c LIMIT 100",
         rows_ours(["k2", "c", "count(*)"]), rows_duck, rows_same),
        ("groupby_3keys", "/aggregate/groupby",
         {"table_name": table, "column_names": ["k2", "c", "k3", "sum(y)", "count(*)"], "offset": 0,
          "limit": GROUP_PAGE, "encoding": "json"},
         "SELECT k2, c, k3, sum(y), count(*) FROM t GROUP BY k2, c, k3 ORDER BY k2, c, k3 LIMIT %d" % GROUP_PAGE,
         rows_ours(["k2", "c", "k3", "sum(y)", "count(*)"]), rows_duck, rows_same),
        ("unique_str", "/aggregate/unique",
         {"table_name": table, "column_name": "s", "offset": 0, "limit": GROUP_PAGE, "encoding": "json"},
         "SELECT DISTINCT s FROM t ORDER BY s LIMIT %d" % GROUP_PAGE, rows_ours(["s"]), rows_duck, rows_same),
        ("str_sort", "/get/records/bycolumn",
         {"table_name": table, "column_names": ["s"], "offset": mid, "limit": SORT_PAGE, "encoding": "json",
          "options": {"sort_by": "s", "sort_order": "ascending"}},
         "SELECT s FROM t ORDER BY s LIMIT %d OFFSET %d" % (SORT_PAGE, mid), rows_ours(["s"]), rows_duck, rows_same),
    ]


def short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def run_size(ours, con, rows, repeat, seed, log, asker=None):
    """Loads `rows` rows into both (ours through gRPC), then asks every query: of ours through
    `asker` (an OursHttp), or gRPC jobs when None."""
    asker = asker or ours
    table = "duckdb_cmp_%d_%d" % (os.getpid(), rows)
    t0 = time.perf_counter()
    data = make_data(rows, seed)
    load_duckdb(con, data)
    t1 = time.perf_counter()
    load_ours(ours, table, data)
    t2 = time.perf_counter()
    log("rows %s: generated + DuckDB load %.1f s, our load %.1f s" % (f"{rows:,}", t1 - t0, t2 - t1))
    expected_groups = {k: int(con.execute("SELECT count(DISTINCT %s) FROM t" % k).fetchone()[0])
                       for k in ("k2", "k6")}
    del data
    results = []
    try:
        for name, endpoint, request, sql, get_ours, get_duck, agree in queries(rows, table):
            e2e, kern, duck = [], [], []
            for i in range(repeat + 1):  # the first run warms up and is not counted
                response, seconds, exec_ms = asker.job(endpoint, request)
                a = get_ours(response)
                start = time.perf_counter()
                res = con.execute(sql).fetchall()
                duck_seconds = time.perf_counter() - start
                b = get_duck(res)
                if not agree(a, b):
                    raise Mismatch("%s at %d rows: ours %s, DuckDB %s" % (name, rows, short(a), short(b)))
                if name in ("groupby_1e2", "groupby_1e6"):
                    key = name == "groupby_1e2" and "k2" or "k6"
                    if a["total"] != expected_groups[key]:
                        raise Mismatch("%s at %d rows: ours has %d groups, DuckDB %d" %
                                       (name, rows, a["total"], expected_groups[key]))
                if i > 0:
                    e2e.append(seconds * 1e3)
                    kern.append(exec_ms)
                    duck.append(duck_seconds * 1e3)
            entry = {"query": name, "rows": rows, "ours_ms": pystats.median(e2e),
                     "ours_kernel_ms": float("nan") if any(math.isnan(k) for k in kern) else pystats.median(kern),
                     "duckdb_ms": pystats.median(duck),
                     "runs": {"ours_ms": e2e, "ours_kernel_ms": kern, "duckdb_ms": duck}}
            if name in ("groupby_1e2", "groupby_1e6"):
                entry["groups"] = expected_groups["k2" if name == "groupby_1e2" else "k6"]
            entry["ratio"] = entry["ours_ms"] / entry["duckdb_ms"]
            entry["kernel_ratio"] = entry["ours_kernel_ms"] / entry["duckdb_ms"]
            results.append(entry)
            log("  %-13s ours %9.2f ms (kernel %9.2f)  DuckDB %9.2f ms  ratio %.2f" %
                (name, entry["ours_ms"], entry["ours_kernel_ms"], entry["duckdb_ms"], entry["ratio"]))
    finally:
        ours.execute_json("/clear/table", {"table_name": table})
        con.execute("DROP TABLE IF EXISTS t")
    return results


# --- Output -------------------------------------------------------------------

def fmt_ms(v):
    if math.isnan(v):
        return "—"
    return "%.3g" % v if v < 100 else "%.0f" % v


def fmt_ratio(v):
    return "—" if math.isnan(v) else "%.2f" % v


def fmt_rows(n):
    e = int(round(math.log10(n)))
    return "1e%d" % e if 10 ** e == n else f"{n:,}"


def markdown(results, meta):
    """The table, the slowest ratio (ours/DuckDB) first."""
    lines = [
        "| query | rows | ours end-to-end ms | ours kernel ms | DuckDB ms | ours/DuckDB | kernel/DuckDB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: -r["ratio"]):
        q = r["query"] + (" (%s groups)" % f"{r['groups']:,}" if "groups" in r else "")
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            q, fmt_rows(r["rows"]), fmt_ms(r["ours_ms"]), fmt_ms(r["ours_kernel_ms"]), fmt_ms(r["duckdb_ms"]),
            fmt_ratio(r["ratio"]), fmt_ratio(r["kernel_ratio"])))
    lines.append("")
    repeats = sorted({len(r["runs"]["ours_ms"]) for r in results})
    lines.append("Joins: see change_bench (benchmarks/change_bench.py). Medians of %s runs after a warm-up; "
                 "ratios below 1 mean we are faster. DuckDB %s, %d threads; our server `--devices=%s`, asked %s."
                 % (" or ".join(map(str, repeats)), meta["duckdb_version"], meta["threads"], meta["devices"],
                    "over HTTP by Kinetica's Python client (gpudb %s)" % meta["client"] if meta.get("client")
                    else "over gRPC (CreateJob, GetJob)"))
    return "\n".join(lines) + "\n"


def plot(results, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for r in results:
        if r["query"] not in names:
            names.append(r["query"])
    cols = 4
    rows_n = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(4.2 * cols, 3.6 * rows_n), squeeze=False)
    for ax, name in zip(axes.flat, names):
        rs = sorted((r for r in results if r["query"] == name), key=lambda r: r["rows"])
        n = [r["rows"] for r in rs]
        for key, label, style in (("ours_ms", "ours (end to end)", "o-"), ("ours_kernel_ms", "ours (kernel)", "s--"),
                                  ("duckdb_ms", "DuckDB", "^-")):
            ax.plot(n, [r["rows"] / (r[key] / 1e3) for r in rs], style, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("rows")
        ax.set_ylabel("rows/s")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("gpudb-engine vs DuckDB %s — %s, %d threads, %s" % (
        meta["duckdb_version"], meta["machine"], meta["threads"], meta["date"]), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine_name():
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            model = m.group(1).strip()
    except OSError:
        pass
    return "%s, %d cores" % (model, os.cpu_count())


def parse_rows(text):
    return [int(float(t)) for t in text.split(",") if t.strip()]


def main():
    default_build = os.environ.get("GPUDB_BUILD_DIR", os.path.join(REPO, "build"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server-binary", default=os.path.join(default_build, "server", "gpudb-engine"))
    ap.add_argument("--server", help="use a running server at HOST:PORT instead of starting one")
    ap.add_argument("--devices", default="host", help="--devices of the server started here (host, cuda, ...)")
    ap.add_argument("--rows", default="1e6,1e7", help="comma-separated sizes, e.g. 1e6,1e7,1e8")
    ap.add_argument("--repeat", type=int, default=5, help="measured runs per query (after one warm-up)")
    ap.add_argument("--repeat-large", type=int, default=3, help="measured runs per query from 1e8 rows on")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="DuckDB threads (default: every core)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out-dir", default=os.path.join(REPO, "benchmarks", "results"))
    ap.add_argument("--http", action="store_true",
                    help="ask through Kinetica's Python client over HTTP (gpudb.GPUdb) instead of gRPC jobs; "
                         "writes compare_duckdb_http.*")
    args = ap.parse_args()
    if args.repeat < 3 or args.repeat_large < 3:
        ap.error("--repeat, --repeat-large: at least 3 runs")

    import duckdb

    def log(msg):
        print(msg, flush=True)

    with tempfile.TemporaryDirectory() as stubs:
        pb, rpc = generate_stubs(stubs)
        check_encoder(pb)
        server = None
        if args.server:
            address, banner = args.server, "server at " + args.server
        else:
            server = start_ours(args.server_binary, args.devices, http=args.http)
            address, banner = server.address, server.banner
        log(banner)
        try:
            ours = Ours(address, pb, rpc)
            asker = None
            if args.http:
                if server is None:
                    ap.error("--http needs the server started here (--server-binary)")
                asker = OursHttp(server.http_port)
            con = duckdb.connect()
            con.execute("SET threads TO %d" % args.threads)
            meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "machine": machine_name(), "threads": args.threads, "devices": args.devices,
                    "duckdb_version": duckdb.__version__, "repeat": args.repeat,
                    "repeat_large": args.repeat_large, "seed": args.seed,
                    "server": banner, "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])}
            if args.http:
                from importlib.metadata import version
                meta["client"] = version("gpudb")
            results = []
            for rows in parse_rows(args.rows):
                repeat = args.repeat_large if rows >= 100_000_000 else args.repeat
                results.extend(run_size(ours, con, rows, repeat, args.seed, log, asker))
        finally:
            if server is not None:
                server.terminate(60)
    os.makedirs(args.out_dir, exist_ok=True)
    stem = os.path.join(args.out_dir, "compare_duckdb_http" if args.http else "compare_duckdb")
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    table = markdown(results, meta)
    with open(stem + ".md", "w") as f:
        f.write(table)
    plot(results, stem + ".png", meta)
    print(table)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Mismatch as e:
        print("MISMATCH: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
