#!/usr/bin/env python3
"""End-to-end test with a real external client.

Usage: test_e2e.py PATH/TO/gpudb-engine

Generates Python stubs from the service definition (harness.py: $GPUDB_PROTO,
else proto/gpudb.proto), starts the server binary on a free port with two host
devices, runs a short user story over gRPC (a table from the compact column
list, a seeded random insert, a filter as a job polled by tag, statistics
through Execute in json, /get/records, one error case), checks every result
against references computed here from the rows read back, then stops the
server with SIGTERM and expects exit status 0.

Needs the packages grpcio and grpcio-tools. Exit status 0 means pass.
"""

import json
import struct
import sys

from harness import channel, check, close, poll_until, run_main, sample_stats, start_server  # tests/python/harness.py

MAX_ROWS = 20000  # the server's default most rows per read


# --- Avro binary (spec section 7), to read records_binary ---------------------

class AvroReader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def long(self):
        shift, z = 0, 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            z |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return (z >> 1) ^ -(z & 1)

    def double(self):
        v = struct.unpack_from("<d", self.data, self.pos)[0]
        self.pos += 8
        return v

    def string(self):
        n = self.long()
        v = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return v


def decode_point(data):
    """A record of [id long, x int, y double nullable, name char8]."""
    r = AvroReader(data)
    row = {"id": r.long(), "x": r.long()}
    row["y"] = r.double() if r.long() == 0 else None
    row["name"] = r.string()
    assert r.pos == len(data), "bytes left after the last column"
    return row


def run_story(pb, rpc, address):
    ch = channel(address)
    stub = rpc.GpudbStub(ch)

    def execute_json(endpoint, request):
        return stub.Execute(pb.ExecuteRequest(endpoint=endpoint, request_encoding="json",
                                              data_str=json.dumps(request)), timeout=60)

    def ok_json(endpoint, request, data_type):
        r = execute_json(endpoint, request)
        if not check(r.status == "OK", "%s: status %s: %s" % (endpoint, r.status, r.message)):
            return {}
        check(r.data_type == data_type, "%s: data_type %r, expected %r" % (endpoint, r.data_type, data_type))
        check(r.data == b"", "%s: json response has binary data" % endpoint)
        return json.loads(r.data_str)

    # A table from the compact column list.
    table = "py_points"
    columns = '[["id","long"],["x","int"],["y","double","nullable"],["name","char8"]]'
    created = ok_json("/create/table", {"table_name": table, "type_id": columns}, "create_table_response")
    check(created.get("table_name") == table, "create/table: table_name %r" % created.get("table_name"))

    # Seeded random rows, through Execute in binary.
    count = 30000
    random = pb.InsertRecordsRandomRequest(table_name=table, count=count)
    random.options["seed"].values["value"] = 12345
    random.options["y"].values["null_percentage"] = 20
    random.options["y"].values["min"] = -100
    random.options["y"].values["max"] = 100
    r = stub.Execute(pb.ExecuteRequest(endpoint="/insert/records/random", request_encoding="binary",
                                       data=random.SerializeToString()), timeout=60)
    check(r.status == "OK", "insert/records/random: %s" % r.message)
    check(r.data_type == "insert_records_random_response", "insert/records/random: data_type %r" % r.data_type)
    inserted = pb.InsertRecordsRandomResponse.FromString(r.data)
    check(inserted.count == count, "insert/records/random: count %d" % inserted.count)

    # Every row back, in json pages.
    rows = []
    offset = 0
    while True:
        page = ok_json("/get/records", {"table_name": table, "offset": offset, "limit": MAX_ROWS,
                                        "encoding": "json"}, "get_records_response")
        records = [json.loads(text) for text in page.get("records_json", [])]
        check(page.get("total_number_of_records") == count,
              "get/records: total %r" % page.get("total_number_of_records"))
        rows.extend(records)
        offset += len(records)
        if not page.get("has_more_records") or not records:
            break
    if not check(len(rows) == count, "read back %d rows, expected %d" % (len(rows), count)):
        return
    nulls = sum(1 for row in rows if row["y"] is None)
    check(0.17 * count < nulls < 0.23 * count, "%d nulls in y, expected about 20%%" % nulls)
    check(all(row["y"] is None or -100 <= row["y"] <= 100 for row in rows), "y outside [-100, 100]")
    check(all(1 <= len(row["name"]) <= 8 for row in rows), "name longer than char8")
    # The same seed draws the same rows.
    again = "py_points_again"
    ok_json("/create/table", {"table_name": again, "type_id": columns}, "create_table_response")
    ok_json("/insert/records/random",
            {"table_name": again, "count": 100,
             "options": {"seed": {"value": 12345}, "y": {"null_percentage": 20, "min": -100, "max": 100}}},
            "insert_records_random_response")
    first = ok_json("/get/records", {"table_name": again, "limit": 100, "encoding": "json"},
                    "get_records_response")
    check([json.loads(t) for t in first.get("records_json", [])] == rows[:100],
          "the same seed gave different rows")

    # A filter as a job, polled by its tag.
    expression = "x > 0 and y < 50"
    expected = [row for row in rows if row["x"] > 0 and row["y"] is not None and row["y"] < 50]
    tag = "py-filter-1"
    r = stub.CreateJob(pb.CreateJobRequest(
        endpoint="/filter", request_encoding="json",
        data_str=json.dumps({"table_name": table, "view_name": "py_view", "expression": expression}),
        options={"job_tag": tag}), timeout=60)
    check(r.status == "OK" and r.data_type == "create_job_response", "create/job: %s %s" % (r.status, r.message))
    job = pb.CreateJobResponse.FromString(r.data)
    check(job.info.get("job_tag") == tag, "create/job: tag %r" % job.info.get("job_tag"))
    # Polled as a client without waits does, until the job is no longer running (bounded).
    polled = []

    def finished():
        r = stub.GetJob(pb.GetJobRequest(options={"job_tag": tag}), timeout=60)
        check(r.status == "OK" and r.data_type == "get_job_response", "get/job: %s %s" % (r.status, r.message))
        polled[:] = [pb.GetJobResponse.FromString(r.data)]
        if polled[0].running:
            check(polled[0].job_status == "RUNNING" and not polled[0].successful, "get/job while running: %s" % polled[0])
            return False
        return True

    check(poll_until(finished, timeout=60), "filter job still running after 60 s")
    state = polled[0]
    check(state.job_status == "DONE" and state.successful and state.progress == 100 and not state.running,
          "filter job did not finish well: %s" % state)
    check(state.endpoint == "/filter", "get/job: endpoint %r" % state.endpoint)
    check(state.response_encoding == "json", "get/job: response_encoding %r" % state.response_encoding)
    filtered = json.loads(state.job_response_str or "{}")
    check(filtered.get("count") == len(expected), "filter count %r, expected %d" % (filtered.get("count"),
                                                                                 len(expected)))

    # Statistics of the view, through Execute in json.
    stats = ok_json("/aggregate/statistics", {"table_name": "py_view", "column_name": "y",
                                               "stats": "count,sum,min,max,mean,stdv,variance"},
                    "aggregate_statistics_response").get("stats", {})
    want = sample_stats([row["y"] for row in expected])
    for name, value in want.items():
        check(name in stats and close(stats[name], value), "statistics %s: %r, expected %r" %
              (name, stats.get(name), value))

    # The view's rows: json with an expression, and binary (decoded here).
    view = ok_json("/get/records", {"table_name": "py_view", "limit": MAX_ROWS, "encoding": "json",
                                    "options": {"expression": "id % 2 = 0"}}, "get_records_response")
    got = [json.loads(t) for t in view.get("records_json", [])]
    check(sorted(got, key=json.dumps) == sorted([row for row in expected if row["id"] % 2 == 0], key=json.dumps),
          "get/records with an expression: %d rows" % len(got))
    request = pb.GetRecordsRequest(table_name="py_view", offset=0, limit=MAX_ROWS, encoding="binary")
    r = stub.Execute(pb.ExecuteRequest(endpoint="/get/records", request_encoding="binary",
                                       data=request.SerializeToString()), timeout=60)
    check(r.status == "OK", "get/records binary: %s" % r.message)
    records = pb.GetRecordsResponse.FromString(r.data)
    decoded = [decode_point(b) for b in records.records_binary]
    check(len(decoded) == min(MAX_ROWS, len(expected)), "get/records binary: %d rows" % len(decoded))
    if len(expected) <= MAX_ROWS:
        check(sorted(decoded, key=json.dumps) == sorted(expected, key=json.dumps),
              "get/records binary rows are not the filter's")
    check(records.total_number_of_records == len(expected),
          "get/records binary: total %d" % records.total_number_of_records)

    print("python_e2e: %d rows, %d in the view" % (len(rows), len(expected)), flush=True)

    # One error: an unknown table; the server keeps serving.
    r = execute_json("/filter", {"table_name": "no_such_table", "view_name": "", "expression": "x > 0"})
    check(r.status == "ERROR" and r.data_type == "none", "filter of an unknown table: status %r" % r.status)
    check("no_such_table" in r.message and "does not exist" in r.message, "error message %r" % r.message)
    has = ok_json("/has/table", {"table_name": table}, "has_table_response")
    check(has.get("table_exists") is True, "has/table after the error: %r" % has)
    ch.close()


def run(binary, tmp, pb, rpc):
    server = start_server(binary, ["--devices=host:2"])
    try:
        run_story(pb, rpc, server.address)
    finally:
        server.stop()


def main():
    return run_main(__doc__, "python_e2e", [], "grpcio and grpcio-tools", run)


if __name__ == "__main__":
    sys.exit(main())
