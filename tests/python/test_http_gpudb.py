#!/usr/bin/env python3
"""Kinetica's official Python client (PyPI `gpudb`, unchanged) against the server's HTTP transport.

Usage: test_http_gpudb.py PATH/TO/gpudb-engine

Starts the server binary with HTTP on a free port, basic authentication (an
--auth-file) and one host device with one stream (so that a queued job can be
cancelled deterministically). Then, in each of the client's encodings (BINARY,
JSON, SNAPPY), with the client's default settings plus the credentials:
connect (the client reads /show/system/status and /show/system/properties and
checks the version), create a type and a table, insert records in binary and
in JSON, read them back (binary with type_schema, and json), filter, aggregate
statistics, group-by and unique — every result checked against references
computed here from the rows sent — then /create/job + /get/job for an async
filter and an async insert (embedded requests encoded by the client's own
schemas), a cancel through /admin/alter/jobs, and /admin/show/jobs.

Also: jobs created over HTTP read over gRPC by tag and the other way round;
malformed bodies (truncated Avro, wrong content type, bad snappy, giant
lengths, empty body, bad JSON) answered with HTTP 400 and a clear message
while the server keeps serving; 404, GET / liveness, path prefixes; 401
without, with wrong, and with Bearer credentials; several clients at once;
one client making many calls over the connections it opened first (kept
alive by the server, no new one opened), each response with the server's
x-request-time-secs in status_info['response_time'].
Finally SIGTERM, expecting exit status 0.

Needs gpudb, python-snappy, requests, grpcio, grpcio-tools. Exit status 0 means pass.
"""

import base64
import json
import os
import random
import sys
import threading

from harness import (channel, check, close, guarded, run_main, sample_stats, start_server,  # tests/python/harness.py
                     with_authorization)

USER, PASSWORD = "analyst", "s3cret:with colon"
ENCODINGS = ["BINARY", "JSON", "SNAPPY"]
ROWS = 300


def connect(url, encoding, user=USER, password=PASSWORD):
    import gpudb
    options = gpudb.GPUdb.Options()
    options.encoding = encoding
    options.username = user
    options.password = password
    return gpudb.GPUdb(host=url, options=options)


def ok(response, what):
    status = response["status_info"]
    check(status["status"] == "OK", "%s: %s" % (what, status.get("message")))
    return status["status"] == "OK"


# --- References ---------------------------------------------------------------

def make_rows(rng, first_id, count):
    rows = []
    for i in range(count):
        x = None if rng.random() < 0.1 else round(rng.uniform(-100, 100), 3)
        rows.append({"id": first_id + i, "x": x, "name": rng.choice(["ant", "bee", "cat", "dog", "eel"]),
                     "big": rng.randint(-2**40, 2**40)})
    return rows


# --- The story, in one encoding ---------------------------------------------------

def run_encoding(url, encoding, pb, rpc, channel):
    import gpudb
    from gpudb import GPUdbRecordColumn as Col, GPUdbColumnProperty as Prop
    import snappy

    db = connect(url, encoding)
    check(str(db.server_version).startswith("7.2."), "%s: server version %s" % (encoding, db.server_version))
    table = "people_" + encoding.lower()
    record_type = gpudb.GPUdbRecordType(
        [Col("id", Col._ColumnType.INT), Col("x", Col._ColumnType.DOUBLE, [Prop.NULLABLE]),
         Col("name", Col._ColumnType.STRING, [Prop.CHAR8]), Col("big", Col._ColumnType.LONG)],
        label="people")
    type_id = record_type.create_type(db)
    check(bool(type_id), "%s: create_type gave no type id" % encoding)
    ok(db.create_table(table, type_id), "%s /create/table" % encoding)

    rng = random.Random(hash(encoding) & 0xFFFF)
    rows = make_rows(rng, 0, ROWS)
    json_rows = make_rows(rng, ROWS, 50)

    # Insert in binary: one Avro record per row, encoded by the client.
    binary = [gpudb.GPUdbRecord(record_type, [r["id"], r["x"], r["name"], r["big"]]).binary_data for r in rows]
    if encoding == "JSON":  # JSON mode carries bytes as strings of code points 0-255
        binary = [b.decode("latin-1") for b in binary]
    r = db.insert_records(table, binary, list_encoding="binary")
    if ok(r, "%s insert binary" % encoding):
        check(r["count_inserted"] == ROWS, "%s insert binary: count_inserted %s" % (encoding, r["count_inserted"]))
    r = db.insert_records(table, [json.dumps(row) for row in json_rows], list_encoding="json")
    if ok(r, "%s insert json" % encoding):
        check(r["count_inserted"] == 50, "%s insert json: count_inserted %s" % (encoding, r["count_inserted"]))
    everything = rows + json_rows

    # Read back, binary (Avro records and their type_schema) unless JSON mode, then json.
    if encoding != "JSON":
        r = db.get_records(table, 0, -9999, "binary", options={"sort_by": "id"}, get_record_type=False)
        if ok(r, "%s get_records binary" % encoding):
            schema = json.loads(r["type_schema"])
            check([f["name"] for f in schema["fields"]] == ["id", "x", "name", "big"],
                  "%s type_schema fields %s" % (encoding, schema["fields"]))
            read_type = gpudb.RecordType.from_type_schema("", r["type_schema"], {})
            decoded = gpudb.GPUdbRecord.decode_binary_data(read_type, r["records_binary"])
            got = [[rec["id"], rec["x"], rec["name"], rec["big"]] for rec in decoded]
            want = [[e["id"], e["x"], e["name"], e["big"]] for e in everything]
            check(got == want, "%s get_records binary: rows differ (first %s vs %s)" % (encoding, got[:2], want[:2]))
    r = db.get_records(table, 10, 20, "json", options={"sort_by": "id"}, get_record_type=False)
    if ok(r, "%s get_records json" % encoding):
        got = [json.loads(s) for s in r["records_json"]]
        check(got == everything[10:30], "%s get_records json: %s vs %s" % (encoding, got[:1], everything[10:11]))
        check(r["total_number_of_records"] == len(everything) and r["has_more_records"],
              "%s get_records json paging: %s %s" % (encoding, r["total_number_of_records"], r["has_more_records"]))

    # Filter.
    r = db.filter(table, "", "x > 25 and name <> 'cat'")
    want = sum(1 for e in everything if e["x"] is not None and e["x"] > 25 and e["name"] != "cat")
    if ok(r, "%s filter" % encoding):
        check(r["count"] == want, "%s filter: count %s, want %d" % (encoding, r["count"], want))

    # Statistics.
    r = db.aggregate_statistics(table, "x", "count,sum,mean,min,max")
    ref = sample_stats([e["x"] for e in everything if e["x"] is not None])
    ref = {k: ref[k] for k in ("count", "sum", "mean", "min", "max")}
    if ok(r, "%s statistics" % encoding):
        for k, v in ref.items():
            check(close(r["stats"].get(k), v), "%s statistics %s: %s, want %s" % (encoding, k, r["stats"].get(k), v))

    # Group-by (dynamic schema: binary_encoded_response is the Avro generic_response).
    r = db.aggregate_group_by_and_decode(table, ["name", "count(*)", "sum(big)"], 0, -9999,
                                         options={"sort_order": "ascending"})
    if ok(r, "%s group-by" % encoding):
        names = sorted({e["name"] for e in everything})
        records = r["records"]
        if isinstance(records, dict):  # columns → rows
            records = [dict(zip(records.keys(), values)) for values in zip(*records.values())]
        got = {rec["name"]: (rec["count(*)"], rec["sum(big)"]) for rec in records}
        want = {n: (sum(1 for e in everything if e["name"] == n), sum(e["big"] for e in everything if e["name"] == n))
                for n in names}
        check(got == want, "%s group-by: %s, want %s" % (encoding, got, want))
    r = db.aggregate_group_by(table, ["name", "count(*)"], 0, -9999,
                              encoding="json" if encoding == "JSON" else "binary")
    if ok(r, "%s group-by raw" % encoding):
        check(json.loads(r["response_schema_str"])["name"] == "generic_response",
              "%s group-by: response_schema_str %s" % (encoding, r["response_schema_str"]))
        if encoding != "JSON":
            check(len(r["binary_encoded_response"]) > 0 and r["json_encoded_response"] == "",
                  "%s group-by: binary_encoded_response empty" % encoding)

    # Unique.
    r = db.aggregate_unique_and_decode(table, "name", 0, -9999)
    if ok(r, "%s unique" % encoding):
        got = r["records"]["name"] if isinstance(r["records"], dict) else [rec["name"] for rec in r["records"]]
        check(list(got) == sorted({e["name"] for e in everything}), "%s unique: %s" % (encoding, got))

    # Async jobs: the embedded request encoded with the client's own schemas.
    def create(endpoint, request, tag):
        schemas = db.gpudb_schemas[endpoint]
        if encoding == "JSON":
            return db.create_job(endpoint, "json", b"", json.dumps(request), {"job_tag": tag})
        data = db.encode_datum_cext(schemas["REQ_SCHEMA"], request, "binary")
        if encoding == "SNAPPY":
            return db.create_job(endpoint, "snappy", snappy.compress(data), "", {"job_tag": tag})
        return db.create_job(endpoint, "binary", data, "", {"job_tag": tag})

    def finished(job_id=None, tag=None):
        """The job's record once it finished: one /get/job that waits for it (wait_timeout_ms)."""
        options = {"wait_timeout_ms": "60000"}
        if tag:
            options["job_tag"] = tag
        g = db.get_job(job_id or 0, options)
        if ok(g, "%s get_job" % encoding):
            check(not g["running"], "%s get_job: still running after 60 s: %s" % (encoding, dict(g)))
        return g

    def result(endpoint, g):
        if g["response_encoding"] == "json":
            check(encoding == "JSON", "%s: response_encoding json" % encoding)
            return json.loads(g["job_response_str"])
        check(encoding != "JSON" and g["job_response_str"] == "", "%s: response_encoding binary" % encoding)
        return db.gpudb_schemas[endpoint]["RSP_SCHEMA"].decode(g["job_response"])

    tag = "http-filter-" + encoding.lower()
    c = create("/filter", {"table_name": table, "view_name": "", "expression": "id < 100", "options": {}}, tag)
    if ok(c, "%s create_job /filter" % encoding):
        check(c["info"]["job_tag"] == tag, "%s create_job tag %s" % (encoding, c["info"]))
        g = finished(tag=tag)
        check(g["job_status"] == "DONE" and g["successful"] and g["progress"] == 100,
              "%s get_job /filter: %s" % (encoding, dict(g)))
        if g["job_status"] == "DONE":
            check(result("/filter", g)["count"] == 100, "%s async filter: %s" % (encoding, result("/filter", g)))
        # The same job over gRPC, by its tag.
        reply = rpc.GpudbStub(channel).GetJob(pb.GetJobRequest(options={"job_tag": tag}))
        check(reply.status == "OK", "%s gRPC GetJob by HTTP tag: %s" % (encoding, reply.message))
        job = pb.GetJobResponse.FromString(reply.data)
        check(job.job_status == "DONE", "%s gRPC GetJob: %s" % (encoding, job.job_status))
        if encoding == "JSON":
            check(json.loads(job.job_response_str).get("count") == 100, "%s gRPC job response %r" % (
                encoding, job.job_response_str))
        else:
            check(pb.FilterResponse.FromString(job.job_response).count == 100, "%s gRPC job_response" % encoding)

    # An async insert, the records Avro inside the embedded request.
    extra = make_rows(rng, 10000, 7)
    tag = "http-insert-" + encoding.lower()
    records = [gpudb.GPUdbRecord(record_type, [e["id"], e["x"], e["name"], e["big"]]).binary_data for e in extra]
    c = create("/insert/records", {"table_name": table, "list": records, "list_str": [], "list_encoding": "binary",
                                   "options": {}} if encoding != "JSON" else
               {"table_name": table, "list": [b.decode("latin-1") for b in records], "list_str": [],
                "list_encoding": "binary", "options": {}}, tag)
    if ok(c, "%s create_job /insert/records" % encoding):
        g = finished(job_id=c["job_id"])
        check(g["job_status"] == "DONE", "%s async insert: %s" % (encoding, dict(g)))
        if g["job_status"] == "DONE":
            check(result("/insert/records", g)["count_inserted"] == 7, "%s async insert result" % encoding)
        r = db.get_records(table, 0, 100, "json", options={"expression": "id >= 10000", "sort_by": "id"},
                           get_record_type=False)
        if ok(r, "%s read async insert" % encoding):
            check([json.loads(s) for s in r["records_json"]] == extra, "%s async insert rows" % encoding)

    # A job created over gRPC, read over HTTP by its tag.
    tag = "grpc-stats-" + encoding.lower()
    created = rpc.GpudbStub(channel).CreateJob(pb.CreateJobRequest(
        endpoint="/aggregate/statistics", request_encoding="json",
        data_str=json.dumps({"table_name": table, "column_name": "id", "stats": "count,max"}), options={"job_tag": tag}))
    if check(created.status == "OK", "%s gRPC CreateJob: %s" % (encoding, created.message)):
        g = finished(tag=tag)
        check(g["job_status"] == "DONE" and g["response_encoding"] == "json",
              "%s HTTP get_job of a gRPC job: %s" % (encoding, dict(g)))
        stats = json.loads(g["job_response_str"]).get("stats", {}) if g["job_response_str"] else {}
        check(stats.get("count") == len(everything) + 7 and stats.get("max") == 10006,
              "%s gRPC job read over HTTP: %s" % (encoding, stats))

    # Cancel: a slow job holds the only stream, the next one waits and is cancelled.
    slow = {"table_name": "big", "view_name": "", "expression":
            "sqrt(abs(x * y)) + pow(abs(x), 0.5) * ln(abs(y) + 1) > 1000000", "options": {}}
    a = create("/filter", slow, "slow-a-" + encoding.lower())
    b = create("/filter", slow, "slow-b-" + encoding.lower())
    if ok(a, "%s create slow a" % encoding) and ok(b, "%s create slow b" % encoding):
        r = db.admin_alter_jobs([b["job_id"]], "cancel", {})
        if ok(r, "%s cancel by id" % encoding):
            check(list(r["job_ids"]) == [b["job_id"]] and r["status"][0] in ("CANCELLED", "CANCEL_REQUESTED"),
                  "%s cancel b: %s" % (encoding, dict(r)))
        r = db.admin_alter_jobs([], "cancel", {"job_tag": "slow-a-" + encoding.lower()})
        if ok(r, "%s cancel by tag" % encoding):
            check(list(r["job_ids"]) == [a["job_id"]] and len(r["status"]) == 1,
                  "%s cancel a: %s" % (encoding, dict(r)))
        gb = finished(job_id=b["job_id"])
        check(gb["job_status"] == "CANCELLED" and not gb["successful"], "%s b after cancel: %s" % (encoding, dict(gb)))
        ga = finished(job_id=a["job_id"])
        check(ga["job_status"] in ("CANCELLED", "DONE"), "%s a after cancel: %s" % (encoding, dict(ga)))
        # An insert cannot be cancelled.
        ins = db.admin_alter_jobs([c.get("job_id", 0)], "cancel", {})
        if ok(ins, "%s cancel an insert" % encoding):
            check(ins["status"][0].startswith("NOT_CANCEL"), "%s cancel insert: %s" % (encoding, ins["status"]))

    # /admin/show/jobs lists the async jobs, with their tags.
    r = db.admin_show_jobs({"show_async_jobs": "true"})
    if ok(r, "%s admin_show_jobs" % encoding):
        tags = json.loads(r["info"]["job_tag"])
        check(len(tags) == len(r["job_id"]) == len(r["endpoint_name"]), "%s show jobs: arrays differ" % encoding)
        for t in ["http-filter-", "http-insert-", "grpc-stats-", "slow-b-"]:
            check(t + encoding.lower() in tags, "%s show jobs: no tag %s in %s" % (encoding, t, tags))
        if b is not None and b["job_id"] in r["job_id"]:
            i = list(r["job_id"]).index(b["job_id"])
            check(r["status"][i] == "CANCELLED" and r["endpoint_name"][i] == "/filter" and r["flags"][i] == "async",
                  "%s show jobs entry: %s %s %s" % (encoding, r["status"][i], r["endpoint_name"][i], r["flags"][i]))
    return db


# --- Raw HTTP: malformed bodies, status codes, auth -------------------------------

def run_raw(url, grpc_stub, pb):
    import requests
    import snappy
    auth = (USER, PASSWORD)

    def post(path, body, content_type, **kw):
        return requests.post(url + path, data=body, headers={"Content-Type": content_type}, auth=kw.get("auth", auth),
                             timeout=60)

    def avro_long(v):
        z = (v << 1) ^ (v >> 63)
        out = bytearray()
        while z >= 0x80:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        out.append(z)
        return bytes(out)

    def avro_str(s):
        b = s.encode()
        return avro_long(len(b)) + b

    def wrapper_json(resp):
        body = resp.json()
        return body["status"], body["message"]

    def wrapper_avro(resp):
        data = resp.content
        pos = 0
        fields = []
        for _ in range(5):
            shift = z = 0
            while True:
                b = data[pos]
                pos += 1
                z |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            n = (z >> 1) ^ -(z & 1)
            fields.append(data[pos:pos + n])
            pos += n
        return fields[0].decode(), fields[1].decode()

    has_table = avro_str("nothing_here") + avro_long(0)  # has_table_request: table_name, options {}
    r = post("/has/table", has_table, "application/octet-stream")
    check(r.status_code == 200 and r.headers["Content-Type"].startswith("application/octet-stream"),
          "raw binary has/table: %d %s" % (r.status_code, r.headers.get("Content-Type")))
    check(wrapper_avro(r) == ("OK", ""), "raw binary has/table wrapper: %s" % (wrapper_avro(r),))
    r = post("/some/prefix/has/table", snappy.compress(has_table), "application/x-snappy")
    check(r.status_code == 200 and r.headers["Content-Type"].startswith("application/octet-stream"),
          "prefixed snappy has/table: %d %s" % (r.status_code, r.headers.get("Content-Type")))
    r = post("/gpudb-0/has/table", json.dumps({"table_name": "x", "options": {}}), "application/json; charset=utf-8")
    check(r.status_code == 200 and json.loads(r.json()["data_str"]) == {"table_name": "x", "table_exists": False,
                                                                         "info": {}},
          "prefixed json has/table: %d %s" % (r.status_code, r.text))

    cases = [
        ("truncated Avro", "/has/table", has_table[:5], "application/octet-stream", ["table_name", "exceeds"]),
        ("Avro cut inside a number", "/has/table", avro_str("t") + b"\x80", "application/octet-stream",
         ["options", "data ends inside a number"]),
        ("trailing bytes", "/has/table", has_table + b"\x00\x00", "application/octet-stream", ["bytes left"]),
        ("giant string length", "/has/table", avro_long(1 << 40) + b"abc", "application/octet-stream",
         ["table_name", "length", "exceeds"]),
        ("giant map count", "/has/table", avro_str("t") + avro_long(1 << 50) + b"\x02", "application/octet-stream",
         ["options", "block of"]),
        ("varint overflow", "/has/table", b"\xff" * 11, "application/octet-stream", ["table_name"]),
        ("bad snappy", "/has/table", b"\xff\xff\xff\xff\x0f garbage", "application/x-snappy", ["snappy"]),
        ("snappy of truncated Avro", "/has/table", snappy.compress(has_table[:3]), "application/x-snappy",
         ["table_name", "exceeds"]),
        ("wrong content type", "/has/table", has_table, "text/plain", ["Content-Type", "text/plain"]),
        ("empty body", "/has/table", b"", "application/octet-stream", ["body", "empty"]),
        ("malformed JSON", "/has/table", b"{\"table_name\": ", "application/json", ["malformed JSON"]),
        ("JSON of the wrong shape", "/has/table", json.dumps({"table_name": 5}), "application/json",
         ["table_name", "expected string"]),
        ("invalid UTF-8", "/has/table", avro_long(2) + b"\xc3\x28" + avro_long(0), "application/octet-stream",
         ["UTF-8"]),
    ]
    for what, path, body, content_type, parts in cases:
        r = post(path, body, content_type)
        json_family = content_type.startswith("application/json") or content_type == "text/plain"
        status, message = wrapper_json(r) if json_family else wrapper_avro(r)
        check(r.status_code == 400 and status == "ERROR", "%s: HTTP %d %s" % (what, r.status_code, status))
        check(all(p in message for p in parts), "%s: message %r lacks %s" % (what, message, parts))

    r = post("/no/such/endpoint", b"{}", "application/json")
    check(r.status_code == 404 and r.json()["status"] == "ERROR" and "/no/such/endpoint" in r.json()["message"],
          "unknown endpoint: %d %s" % (r.status_code, r.text))
    r = requests.get(url + "/", timeout=10)
    check(r.status_code == 200 and r.text == "Kinetica is running!", "GET /: %d %r" % (r.status_code, r.text))

    # Auth: none, wrong, Bearer → 401; right → 200.
    for what, headers in [("no credentials", {}),
                          ("wrong password", {"Authorization": "Basic " + base64.b64encode(
                              (USER + ":nope").encode()).decode()}),
                          ("unknown user", {"Authorization": "Basic " + base64.b64encode(
                              ("mallory:" + PASSWORD).encode()).decode()}),
                          ("bearer", {"Authorization": "Bearer abc.def"}),
                          ("garbage", {"Authorization": "Basic !!!"})]:
        headers["Content-Type"] = "application/json"
        r = requests.post(url + "/has/table", data=json.dumps({"table_name": "x"}), headers=headers, timeout=10)
        check(r.status_code == 401 and r.json()["status"] == "ERROR" and "WWW-Authenticate" in r.headers,
              "%s: HTTP %d %s" % (what, r.status_code, r.text))
    r = post("/has/table", json.dumps({"table_name": "x"}), "application/json")
    check(r.status_code == 200, "right credentials: HTTP %d %s" % (r.status_code, r.text))
    import gpudb
    try:
        connect(url, "BINARY", password="wrong")
        check(False, "gpudb client connected with a wrong password")
    except gpudb.GPUdbException as e:
        check("nauthorized" in str(e) or "401" in str(e), "gpudb client with a wrong password: %s" % e)

    # Still serving after all that, over both transports.
    r = post("/has/table", has_table, "application/octet-stream")
    check(r.status_code == 200, "server unharmed (HTTP): %d" % r.status_code)
    reply = grpc_stub.Execute(pb.ExecuteRequest(endpoint="/has/table", request_encoding="json",
                                                data_str=json.dumps({"table_name": "x"})))
    check(reply.status == "OK", "server unharmed (gRPC): %s" % reply.message)


def run_concurrent(url):
    """Several clients at once, each checking its own results."""
    errors = []
    reference = connect(url, "JSON").aggregate_statistics("people_json", "id", "count,max,sum")["stats"]

    def worker(k):
        try:
            db = connect(url, ENCODINGS[k % 3])
            for i in range(15):
                threshold = (k * 7 + i) % 300
                r = db.filter("people_binary", "", "id < %d" % threshold)
                if r["status_info"]["status"] != "OK" or r["count"] != threshold:
                    errors.append("client %d: filter id < %d gave %s" % (k, threshold, dict(r)))
                s = db.aggregate_statistics("people_json", "id", "count,max,sum")
                if s["status_info"]["status"] != "OK" or s["stats"] != reference:
                    errors.append("client %d: statistics gave %s" % (k, dict(s)))
        except Exception as e:  # noqa: a broken call is a failure
            errors.append("client %d: %r" % (k, e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    check(not errors, "concurrent clients: %s" % errors[:3])


def client_ports(http_port):
    """The local ports of the established TCP connections to 127.0.0.1:http_port (Linux's /proc/net/tcp)."""
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state == "01" and int(remote.split(":")[1], 16) == http_port:  # 01: ESTABLISHED
                ports.add(int(local.split(":")[1], 16))
    return ports


def run_session(url, http_port):
    """One client, many calls: every call answered over the connections it already has (the server keeps them
    open: no new connection in 60 calls), with the server's time in status_info['response_time']."""
    import gpudb
    from gpudb import GPUdbRecordColumn as Col

    db = connect(url, "BINARY")
    record_type = gpudb.GPUdbRecordType([Col("id", Col._ColumnType.INT)], label="session")
    ok(db.create_table("session_rows", record_type.create_type(db)), "session create_table")
    before = client_ports(http_port)
    check(len(before) > 0, "session: no connection to port %d in /proc/net/tcp" % http_port)

    def response_time(r, what):
        t = r["status_info"].get("response_time")
        check(isinstance(t, float) and 0 <= t < 60, "%s: status_info response_time %r" % (what, t))

    for i in range(60):
        if i % 3 == 2:
            r = db.insert_records("session_rows", [gpudb.GPUdbRecord(record_type, [i]).binary_data],
                                  list_encoding="binary")
            if ok(r, "session insert_records %d" % i):
                response_time(r, "session insert_records %d" % i)
        else:
            r = db.has_table("session_rows")
            if ok(r, "session has_table %d" % i):
                check(r["table_exists"], "session has_table %d: %s" % (i, dict(r)))
                response_time(r, "session has_table %d" % i)
    opened = client_ports(http_port) - before
    check(not opened, "session: after 60 calls, %d connection(s) the client did not have before (the server "
                      "closed the first ones?)" % len(opened))
    r = db.get_records("session_rows", 0, 100, "json", get_record_type=False)
    if ok(r, "session get_records"):
        check(len(r["records_json"]) == 20, "session: %d rows inserted, 20 sent" % len(r["records_json"]))


def run_tls(binary, tmp):
    """Kinetica's client over HTTPS (--tls-cert/--tls-key, the test CA trusted), with credentials: a frame
    loaded, queried and read back."""
    import gpudb
    import pandas as pd

    tls = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tls")
    users = os.path.join(tmp, "tls-users")
    with open(users, "w") as f:
        f.write("%s:%s\n" % (USER, PASSWORD))
    server = start_server(binary, ["--auth-file=" + users, "--devices=host:1", "--tls-cert=" + os.path.join(tls, "server.pem"),
                                   "--tls-key=" + os.path.join(tls, "server.key")], http=True)
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = os.path.join(tls, "ca.pem")
    try:
        check("(HTTP, TLS, authenticated)" in server.banner, "banner: %r" % server.banner)
        db = connect("https://localhost:%d" % server.http_port, "BINARY")
        frame = pd.DataFrame({"k": [1, 2, 3, 4], "s": ["a", "b", "a", "c"]})
        gpudb.GPUdbTable.from_df(frame, db, "over_tls", clear_table=True)
        back = db.to_df("SELECT s, SUM(k) AS total FROM over_tls GROUP BY s ORDER BY s")
        check(back["total"].tolist() == [4, 2, 4], "over TLS: %r" % back)
        check(db.show_system_properties()["property_map"].get("conf.use_https") == "TRUE", "conf.use_https")
    finally:
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous
        server.stop()


def run(binary, tmp, pb, rpc):
    auth_file = os.path.join(tmp, "users")
    with open(auth_file, "w") as f:
        f.write("# user:password\n%s:%s\nother:pw\n" % (USER, PASSWORD))
    server = start_server(binary, ["--auth-file=" + auth_file, "--devices=host:1", "--streams-per-device=1",
                                   "--chunk-rows=20000"], http=True)
    url = "http://127.0.0.1:%d" % server.http_port
    check("(HTTP, authenticated)" in server.banner, "the server does not say it asks for credentials: %r" % server.banner)
    try:
        import grpc

        plain = channel(server.address)
        # gRPC asks for the same credentials as HTTP.
        try:
            rpc.GpudbStub(plain).Execute(pb.ExecuteRequest(endpoint="/has/table", request_encoding="json",
                                                           data_str=json.dumps({"table_name": "big"})))
            check(False, "gRPC without credentials was served")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.UNAUTHENTICATED, "gRPC without credentials: %s" % e.code())
        ch = with_authorization(plain, "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode())
        stub = rpc.GpudbStub(ch)
        # A table big enough that the slow filter in the cancel checks takes a while.
        reply = stub.Execute(pb.ExecuteRequest(endpoint="/create/table", request_encoding="json", data_str=json.dumps(
            {"table_name": "big", "type_id": '[["x","double"],["y","double"]]'})))
        check(reply.status == "OK", "create big: %s" % reply.message)
        reply = stub.Execute(pb.ExecuteRequest(endpoint="/insert/records/random", request_encoding="json",
                                               data_str=json.dumps({"table_name": "big", "count": 3000000,
                                                                    "options": {"seed": {"value": 7}}})))
        check(reply.status == "OK", "fill big: %s" % reply.message)
        for encoding in ENCODINGS:
            guarded(encoding, run_encoding, url, encoding, pb, rpc, ch)
        run_raw(url, stub, pb)
        run_concurrent(url)
        guarded("session", run_session, url, server.http_port)
        guarded("tls", run_tls, binary, tmp)
    finally:
        server.stop()


def main():
    return run_main(__doc__, "python_http_gpudb", ["gpudb", "snappy", "requests"],
                    "gpudb, python-snappy, requests, grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
