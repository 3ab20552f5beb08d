#!/usr/bin/env python3
"""Test of scripts/gpudb-cli, the command-line client, against a real server.

Usage: test_cli.py PATH/TO/gpudb-engine

Starts the server binary on a free port with two host devices and runs the CLI as a subprocess
for each command, checking what it prints and its exit codes: tables created and filled with
`run`, jobs submitted with tags and followed to their results (a filter's count and a view's
statistics checked against references computed here from the rows read back with
`--output json`), the binary and snappy request encodings (snappy with cramjam/python-snappy when
installed and with the built-in literal-only encoder), `submit --no-wait` then `get --wait` and
`watch` (plain lines and a live bar on a pseudo-terminal), `list`, `cancel`, idempotent
submission, remove-on-complete, and errors (an ERROR wrapper exits 1 with the server's message,
an unreachable server exits 2, bad arguments 64).

Needs grpcio and grpcio-tools (the CLI runs with this test's Python). Exit status 0 means pass.
"""

import json
import os
import random
import re
import subprocess
import sys
import threading
import time

from harness import (REPO, channel, check, close, free_port, guarded, run_main, sample_stats,  # tests/python/harness.py
                     start_server)

CLI = os.path.join(REPO, "scripts", "gpudb-cli")
MAX_ROWS = 20000  # the server's default most rows per read


# Runs the CLI with this Python, cramjam and python-snappy hidden, so that its built-in snappy
# encoder (a block of literals) is the one used.
NO_SNAPPY_PACKAGES = ("import runpy, sys; sys.modules['cramjam'] = None; sys.modules['snappy'] = None; "
                      "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")


class Cli:
    def __init__(self, server, cache_dir):
        self.server = server
        self.env = dict(os.environ, GPUDB_CLI_CACHE=cache_dir)
        self.env.pop("GPUDB_SERVER", None)

    def __call__(self, *args, stdin=None, server=None, no_snappy=False, stderr_tty=False, timeout=180):
        """Runs `gpudb-cli --server S ARGS...`; returns (exit code, stdout, stderr)."""
        command = [sys.executable]
        if no_snappy:
            command += ["-c", NO_SNAPPY_PACKAGES]
        command += [CLI, "--server", server or self.server] + [str(a) for a in args]
        if stderr_tty:
            return self._run_with_tty_stderr(command, timeout)
        proc = subprocess.run(command, input=stdin, capture_output=True, text=True, env=self.env,
                              timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def _run_with_tty_stderr(self, command, timeout):
        import pty

        master, slave = pty.openpty()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                env=self.env, text=True)
        os.close(slave)
        chunks = []

        def read_tty():
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO once the child has closed the terminal
                    return
                if not data:
                    return
                chunks.append(data)

        reader = threading.Thread(target=read_tty, daemon=True)
        reader.start()
        out, _ = proc.communicate(timeout=timeout)
        reader.join(10)
        os.close(master)
        return proc.returncode, out, b"".join(chunks).decode("utf-8", errors="replace")

    def ok(self, *args, **kwargs):
        """Runs the CLI and checks that it exits 0; returns its stdout."""
        rc, out, err = self(*args, **kwargs)
        check(rc == 0, "gpudb-cli %s: exit %d, stderr %r" % (" ".join(map(str, args)), rc, err[-2000:]))
        return out

    def json(self, *args, **kwargs):
        out = self.ok(*(list(args) + ["--output", "json"]), **kwargs)
        try:
            return json.loads(out)
        except ValueError:
            check(False, "gpudb-cli %s --output json: not JSON: %r" % (" ".join(map(str, args)), out[:500]))
            return {}


def parse_table(text):
    """(headers, rows of cell strings) of the first table in the CLI's output."""
    lines = text.splitlines()
    for i in range(1, len(lines)):
        if re.fullmatch(r"-+(\+-+)*", lines[i]):
            headers = [h.strip() for h in lines[i - 1].split(" | ")]
            rows = []
            for line in lines[i + 1:]:
                if not line.startswith(" "):
                    break
                rows.append([c.strip() for c in line.split(" | ")])
            return headers, rows
    return [], []


def table_dict(text):
    """A two-column table (field | value, stat | value) as a dict."""
    _, rows = parse_table(text)
    return {row[0]: row[1] for row in rows if len(row) == 2}


def first_line_job(out):
    """(job id, tag) from the first line `job N tag T` that submit prints."""
    match = re.match(r"job (\d+) tag (\S+)", out)
    check(match is not None, "submit did not print 'job N tag T' first: %r" % out[:200])
    return (int(match.group(1)), match.group(2)) if match else (0, "")


def read_rows(cli, table):
    rows = []
    offset = 0
    while True:
        page = cli.json("run", "/get/records", "table_name=" + table, "offset=%d" % offset,
                        "limit=%d" % MAX_ROWS, "encoding=json")
        records = [json.loads(t) for t in page.get("records_json", [])]
        rows.extend(records)
        offset += len(records)
        if not page.get("has_more_records") or not records:
            return rows, page.get("total_number_of_records")


def story(cli, pb, rpc, address, tmp):
    seed = random.randrange(1, 2 ** 31)
    print("test_cli: seed %d" % seed, flush=True)

    # --- usage
    rc, out, err = cli("--help")
    check(rc == 0 and all(c in out for c in ("submit", "run", "get", "watch", "list", "cancel")),
          "--help: exit %d, %r" % (rc, out[:300]))
    rc, _, err = cli("submit")
    check(rc == 64 and "ENDPOINT" in err, "submit without an endpoint: exit %d, %r" % (rc, err))

    # --- the script run as a program: its #! line, and a re-run with <repo>/.venv's Python when the
    # python3 on PATH has no grpc
    if os.access(CLI, os.X_OK) and os.path.exists(os.path.join(REPO, ".venv", "bin", "python")):
        proc = subprocess.run([CLI, "--server", cli.server, "run", "/show/table", "table_name="],
                              capture_output=True, text=True, env=cli.env, timeout=120)
        check(proc.returncode == 0 and "(0 tables)" in proc.stdout,
              "scripts/gpudb-cli run directly: exit %d, %r %r" % (proc.returncode, proc.stdout, proc.stderr))

    # --- a table, filled with random rows and a few explicit ones
    table = "cli_points"
    columns = '[["id","long"],["x","int"],["y","double","nullable"],["name","char8"]]'
    out = cli.ok("run", "/create/table", "table_name=" + table, "type_id=" + columns)
    check(table_dict(out).get("table_name") == table, "create/table output: %r" % out)
    count = 20000
    out = cli.ok("run", "insert/records/random", "table_name=" + table, "count=%d" % count,
                 "options.seed.value=%d" % seed, "options.y.null_percentage=20", "options.y.min=-100",
                 "options.y.max=100")
    check(table_dict(out).get("count") == str(count), "insert/records/random output: %r" % out)
    explicit = [{"id": 10 ** 9 + i, "x": 7 * i + 1, "y": (None if i == 2 else i / 4.0), "name": "cli-%d" % i}
                for i in range(3)]
    request = {"table_name": table, "list_encoding": "json", "list_str": [json.dumps(r) for r in explicit]}
    out = cli.ok("run", "/insert/records", "--json", "-", stdin=json.dumps(request))
    check(table_dict(out).get("count_inserted") == "3", "insert/records from stdin: %r" % out)
    total = count + len(explicit)

    rows, reported = read_rows(cli, table)
    check(len(rows) == total and reported == total, "read back %d rows (total %r), expected %d" %
          (len(rows), reported, total))
    check(all(r in rows for r in explicit), "the explicit rows were not read back as inserted")
    # A direct gRPC read agrees on the number of rows.
    ch = channel(address)
    stub = rpc.GpudbStub(ch)
    r = stub.Execute(pb.ExecuteRequest(endpoint="/get/records", request_encoding="json",
                                       data_str=json.dumps({"table_name": table, "limit": 1, "encoding": "json"})),
                     timeout=60)
    check(r.status == "OK" and json.loads(r.data_str).get("total_number_of_records") == total,
          "direct get/records: %s %s" % (r.status, r.message))

    # --- the records table: columns in type order; binary (Avro) and json give the same table
    out = cli.ok("run", "/get/records", "table_name=" + table, "limit=10", "encoding=json",
                 "options.expression=id >= 1000000000")
    headers, cells = parse_table(out)
    check(headers == ["id", "x", "y", "name"], "records table headers %r" % headers)
    check(sorted(cells) == sorted([[str(r["id"]), str(r["x"]), "null" if r["y"] is None else repr(r["y"]),
                                    r["name"]] for r in explicit]), "records table rows %r" % cells)
    check("(3 rows" in out, "records table footer: %r" % out)
    json_table = cli.ok("run", "/get/records", "table_name=" + table, "offset=100", "limit=25", "encoding=json")
    binary_table = cli.ok("run", "/get/records", "table_name=" + table, "offset=100", "limit=25", "encoding=binary")
    binary_both = cli.ok("run", "/get/records", "table_name=" + table, "offset=100", "limit=25", "encoding=binary",
                         "--encoding", "binary")
    check(json_table == binary_table == binary_both and "(25 rows of %d; more available)" % total in json_table,
          "get/records tables differ between encodings:\n%s\n%s\n%s" % (json_table, binary_table, binary_both))

    # --- a filter as a job with a tag, followed to its result
    expression = "x > 0 and y < 50"
    expected = [r for r in rows if r["x"] > 0 and r["y"] is not None and r["y"] < 50]
    rc, out, err = cli("submit", "/filter", "--tag", "cli-filter-1", "table_name=" + table, "view_name=cli_view",
                       "expression=" + expression, "options.job_user_data=from-the-cli")
    check(rc == 0, "submit /filter: exit %d, %r" % (rc, err))
    filter_id, tag = first_line_job(out)
    check(tag == "cli-filter-1", "submit /filter: tag %r" % tag)
    check(table_dict(out).get("count") == str(len(expected)), "filter count: %r, expected %d" % (out, len(expected)))
    check("DONE 100%" in err, "submit's progress lines (stderr not a terminal): %r" % err)

    # --- statistics of the view, as a job with a tag: the stat / value table
    stats = "count,sum,min,max,mean,stdv,variance"
    want = sample_stats([r["y"] for r in expected])
    rc, out, err = cli("submit", "aggregate/statistics", "table_name=cli_view", "column_name=y", "stats=" + stats,
                       "--tag", "cli-stats-1")
    check(rc == 0, "submit /aggregate/statistics: exit %d, %r" % (rc, err))
    stats_id, _ = first_line_job(out)
    headers, cells = parse_table(out)
    check(headers == ["stat", "value"] and [c[0] for c in cells] == stats.split(","),
          "stats table: %r" % out)
    got = {c[0]: float(c[1]) for c in cells if len(c) == 2}
    for name, value in want.items():
        check(name in got and close(got[name], value), "statistics %s: %r, expected %r" % (name, got.get(name), value))
    # The same through Execute, as JSON, in each encoding (binary and snappy answer in protobuf).
    for encoding in ("json", "binary", "snappy"):
        result = cli.json("run", "/aggregate/statistics", "table_name=cli_view", "column_name=y", "stats=" + stats,
                          "--encoding", encoding)
        got = result.get("stats", {})
        check(all(name in got and close(got[name], value) for name, value in want.items()),
              "run /aggregate/statistics --encoding %s: %r" % (encoding, got))
    # A request from a JSON file, a field overridden on the command line.
    request_file = os.path.join(tmp, "stats.json")
    with open(request_file, "w") as f:
        json.dump({"table_name": "cli_view", "column_name": "y", "stats": "count,max"}, f)
    result = cli.json("run", "/aggregate/statistics", "--json", request_file, "column_name=x")
    check(result.get("stats", {}).get("count") == len(expected) and
          result["stats"].get("max") == max(r["x"] for r in expected), "--json FILE with an override: %r" % result)

    # --- binary and snappy encodings of jobs
    for encoding in ("binary", "snappy"):
        rc, out, err = cli("submit", "/filter", "table_name=" + table, "view_name=cli_view_" + encoding,
                           "expression=" + expression, "--encoding", encoding)
        check(rc == 0 and table_dict(out).get("count") == str(len(expected)),
              "submit /filter --encoding %s: exit %d, %r %r" % (encoding, rc, out, err))
    rc, out, err = cli("run", "/filter", "table_name=" + table, "expression=" + expression, "--encoding", "snappy",
                       no_snappy=True)
    check(rc == 0 and table_dict(out).get("count") == str(len(expected)),
          "run /filter --encoding snappy with the built-in encoder: exit %d, %r %r" % (rc, out, err))
    # Wrapper messages (map<string, DoubleMap>) in binary and snappy: the same seed gives the same rows.
    for encoding in ("json", "binary", "snappy"):
        name = "cli_seeded_" + encoding
        cli.ok("run", "/create/table", "table_name=" + name, "type_id=" + columns, "--encoding", encoding)
        cli.ok("run", "/insert/records/random", "table_name=" + name, "count=500", "options.seed.value=%d" % seed,
               "options.y.null_percentage=20", "options.y.min=-100", "options.y.max=100", "--encoding", encoding,
               no_snappy=(encoding == "snappy"))
    seeded = [read_rows(cli, "cli_seeded_" + e)[0] for e in ("json", "binary", "snappy")]
    check(len(seeded[0]) == 500 and seeded[0] == seeded[1] == seeded[2],
          "the same seeded insert in json, binary and snappy gave different rows")
    check(seeded[0] == rows[:500], "the seeded insert did not repeat the first rows of the table")

    # --- submit --no-wait, then get --wait and watch
    def create_job(endpoint, request, tag=None):
        """Submits over gRPC directly (faster than starting the CLI, so the job is surely queued)."""
        r = stub.CreateJob(pb.CreateJobRequest(endpoint=endpoint, request_encoding="json",
                                               data_str=json.dumps(request),
                                               options={"job_tag": tag} if tag else {}), timeout=60)
        check(r.status == "OK", "CreateJob %s: %s" % (endpoint, r.message))
        return pb.CreateJobResponse.FromString(r.data).job_id

    def job_running(job_id):
        r = stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=60)
        return r.status == "OK" and pb.GetJobResponse.FromString(r.data).running

    big = "cli_big"
    big_rows = 0

    def behind_long_insert(count, tag, insert_tag=None):
        """A long insert of `count` rows into the big table, then a statistics job tagged `tag` queued
        behind it (a write orders the later jobs of its table after it): (insert id, job id)."""
        nonlocal big_rows
        insert_id = create_job("/insert/records/random", {"table_name": big, "count": count}, insert_tag)
        big_rows += count
        return insert_id, create_job("/aggregate/statistics", {"table_name": big, "column_name": "v", "stats": "count"},
                                     tag)

    cli.ok("run", "/create/table", "table_name=" + big, "type_id=" + '[["v","double"]]')
    rc, out, err = cli("submit", "/insert/records/random", "table_name=" + big, "count=1000000",
                       "options.v.min=0", "options.v.max=1", "--no-wait", "--tag", "cli-big-insert")
    insert_id, tag = first_line_job(out)
    check(rc == 0 and tag == "cli-big-insert" and out.count("\n") == 1, "submit --no-wait: exit %d, %r" % (rc, out))
    big_rows += 1000000
    # A statistics job queued behind a long insert (a write to its table).
    create_job("/insert/records/random", {"table_name": big, "count": 8000000}, "cli-long-insert-1")
    big_rows += 8000000
    big_stats_id = create_job("/aggregate/statistics", {"table_name": big, "column_name": "v", "stats": "count,max"},
                              "cli-big-stats")
    rc, out, err = cli("get", big_stats_id)
    check(rc == 0 and re.search(r"^job %d  tag cli-big-stats  /aggregate/statistics  (RUNNING|DONE) \d+%%$"
                                % big_stats_id, out, re.M), "get: exit %d, %r" % (rc, out))
    # wait_timeout_ms: the answer comes when the job is done.
    was_running = job_running(big_stats_id)
    rc, out, err = cli("get", "--tag", "cli-big-stats", "--wait", 120)
    check(rc == 0 and "DONE 100%" in out and table_dict(out).get("count") == str(big_rows),
          "get --tag --wait (job running before: %s): exit %d, %r %r" % (was_running, rc, out, err))
    rc, out, err = cli("watch", big_stats_id)
    check(rc == 0 and "DONE 100%" in out and table_dict(out).get("count") == str(big_rows),
          "watch of a finished job: exit %d, %r %r" % (rc, out, err))
    # get --wait that runs out: the job is still RUNNING.
    create_job("/insert/records/random", {"table_name": big, "count": 8000000})
    big_rows += 8000000
    short_id = create_job("/aggregate/statistics", {"table_name": big, "column_name": "v", "stats": "count"})
    rc, out, err = cli("get", short_id, "--wait", 0.01)
    check(rc == 0 and re.search(r"/aggregate/statistics  (RUNNING \d+|DONE 100)%", out), "get --wait 0.01: %r" % out)
    # watch of a queued job: plain progress lines; then a live bar on a terminal.
    for progress_on_tty in (False, True):
        insert_rows = 16000000  # long enough to outlast the CLI's start-up (about 0.5 s) on most hosts
        for attempt in range(3):
            tag = "cli-watched-%d-%d" % (progress_on_tty, attempt)
            behind_long_insert(insert_rows, tag)
            rc, out, err = cli("watch", "--tag", tag, stderr_tty=progress_on_tty)
            if "RUNNING" in err:
                break
            insert_rows *= 2  # the job ended before the CLI watched it: again, behind an insert twice as long
            print("test_cli: %s ended before the CLI watched it; again behind %d rows" % (tag, insert_rows), flush=True)
        check(rc == 0 and "DONE 100%" in out and table_dict(out).get("count") == str(big_rows),
              "watch --tag (tty %s): exit %d, %r %r" % (progress_on_tty, rc, out, err))
        if progress_on_tty:
            check("\r" in err and re.search(r"tag %s \[[^\]]{10,}\] 100%%  DONE" % tag, err) is not None,
                  "watch on a terminal did not draw a progress bar: %r" % err)
        else:
            check("\r" not in err and re.search(r"^tag %s: RUNNING \d+%%$" % tag, err, re.M) is not None
                  and re.search(r"^tag %s: DONE 100%%$" % tag, err, re.M) is not None,
                  "watch's plain progress lines: %r" % err)
    # The json view of a job: the get_job_response record with the result decoded.
    record = cli.json("get", big_stats_id)
    check(record.get("job_status") == "DONE" and record.get("job_id") == big_stats_id
          and record.get("response", {}).get("stats", {}).get("count") == 9000000,
          "get --output json: %r" % record)

    # --- list: the jobs with their tags, user data and flags
    rc, out, err = cli("list", "--all")
    check(rc == 0, "list --all: exit %d, %r" % (rc, err))
    headers, cells = parse_table(out)
    check(headers == ["job_id", "status", "endpoint", "received", "tag", "user_data", "flags"],
          "list headers %r" % headers)
    by_id = {int(c[0]): c for c in cells if c and c[0].isdigit()}
    row = by_id.get(filter_id)
    check(row is not None and row[1] == "DONE" and row[2] == "/filter" and row[4] == "cli-filter-1"
          and row[5] == "from-the-cli" and row[6] == "async", "list --all: the filter job's row %r" % row)
    check(row is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", row[3]) is not None,
          "list: received %r" % (row and row[3]))
    check(stats_id in by_id and by_id[stats_id][4] == "cli-stats-1", "list --all: the stats job %r" %
          by_id.get(stats_id))
    listed = cli.json("list", "--all")
    tags = json.loads((listed.get("info") or {}).get("job_tag") or "[]")
    ids = listed.get("job_id", [])
    check(len(tags) == len(ids) and dict(zip(ids, tags)).get(filter_id) == "cli-filter-1",
          "list --output json: ids %r tags %r" % (ids[:20], tags[:20]))
    rc, out, err = cli("list", "--all", "--worker-info")
    headers, cells = parse_table(out)
    check(rc == 0 and headers[-1:] == ["worker"], "list --worker-info: exit %d, headers %r" % (rc, headers))
    row = [c for c in cells if c and c[0] == str(filter_id)]
    check(len(row) == 1 and len(row[0]) == 8 and row[0][7] not in ("", "null"), "list --worker-info: %r" % row)
    rc, out, err = cli("list")
    check(rc == 0 and filter_id not in {int(c[0]) for c in parse_table(out)[1] if c and c[0].isdigit()},
          "list without --all shows a finished async job: %r" % out)

    # --- cancel: a job queued behind a long insert
    insert_rows = 20000000
    for attempt in range(3):
        insert_tag = "cli-insert-before-cancel-%d" % attempt
        long_insert_id, cancel_id = behind_long_insert(insert_rows, "cli-to-cancel-%d" % attempt, insert_tag)
        rc, out, err = cli("cancel", cancel_id)
        headers, cells = parse_table(out)
        if not (cells and len(cells[0]) > 1 and cells[0][1].startswith("NOT_CANCELLED")):
            break
        insert_rows *= 2  # the job ended before the CLI's cancel came: again, behind an insert twice as long
        print("test_cli: job %d ended before the CLI cancelled it; again behind %d rows" % (cancel_id, insert_rows),
              flush=True)
    check(rc == 0 and headers == ["job_id", "status"] and len(cells) == 1 and cells[0][0] == str(cancel_id),
          "cancel: exit %d, %r %r" % (rc, out, err))
    status = cells[0][1] if cells and len(cells[0]) > 1 else ""
    check(status in ("CANCELLED", "CANCEL_REQUESTED"), "cancel of a queued job: status %r" % status)
    rc, out, err = cli("get", cancel_id, "--wait", 120)
    check(rc == 1 and "CANCELLED" in out and "cancelled" in err, "get of a cancelled job: exit %d, %r %r" %
          (rc, out, err))
    rc, out, err = cli("cancel", "--tag", insert_tag)
    _, cells = parse_table(out)
    check(rc == 0 and len(cells) == 1 and cells[0][0] == str(long_insert_id)
          and cells[0][1].startswith(("NOT_CANCELLABLE", "NOT_CANCELLED")),
          "cancel of an insert: exit %d, %r %r" % (rc, out, err))
    result = cli.json("cancel", "--tag", "cli-filter-1")
    check(result.get("job_ids") == [filter_id] and result.get("status", [""])[0].startswith("NOT_CANCELLED"),
          "cancel --tag of a finished job: %r" % result)
    rc, out, err = cli("cancel", 987654321, insert_id)
    _, cells = parse_table(out)
    check(rc == 0 and len(cells) == 2 and cells[0][1].startswith("NOT_FOUND")
          and cells[1][1].startswith("NOT_CANCELLED: already finished"),
          "cancel of an unknown job and of a finished one: exit %d, %r %r" % (rc, out, err))

    # --- a job's timeout: queued behind a long insert, it never starts
    insert_rows = 8000000
    for attempt in range(3):
        create_job("/insert/records/random", {"table_name": big, "count": insert_rows})
        rc, out, err = cli("submit", "/aggregate/statistics", "table_name=" + big, "column_name=v", "stats=count",
                           "--timeout-ms", 1)
        if rc != 0:
            break
        insert_rows *= 2  # the insert ended before the CLI's job came: again, behind an insert twice as long
        print("test_cli: the job ran before its timeout; again behind %d rows" % insert_rows, flush=True)
    check(rc == 1 and "timeout_ms" in err, "submit --timeout-ms 1: exit %d, %r %r" % (rc, out, err))

    # --- idempotent submission and remove-on-complete
    first = cli.ok("submit", "/filter", "table_name=" + table, "expression=x > 10", "--request-id", "cli-req-1")
    again = cli.ok("submit", "/filter", "table_name=" + table, "expression=x > 10", "--request-id", "cli-req-1")
    check(first_line_job(first) == first_line_job(again), "--request-id: %r then %r" % (first[:40], again[:40]))
    out = cli.ok("submit", "/filter", "table_name=" + table, "expression=x > 10", "--tag", "cli-once",
                 "--remove-on-complete")
    check(table_dict(out).get("count") == str(sum(1 for r in rows if r["x"] > 10)), "--remove-on-complete: %r" % out)
    rc, out, err = cli("get", "--tag", "cli-once")
    check(rc == 1 and "cli-once" in err, "get after remove-on-complete: exit %d, %r" % (rc, err))

    # --- errors
    rc, out, err = cli("run", "/filter", "table_name=no_such_table", "expression=x > 0")
    check(rc == 1 and "no_such_table" in err and "does not exist" in err, "run of an unknown table: exit %d, %r" %
          (rc, err))
    rc, out, err = cli("submit", "/filter", "table_name=no_such_table", "expression=x > 0", "--tag", "cli-failing")
    check(rc == 1 and "no_such_table" in err, "submit of an unknown table: exit %d, %r %r" % (rc, out, err))
    rc, out, err = cli("get", "--tag", "cli-failing")  # a job that ended ERROR, or none if refused at once
    check(rc == 1 and ("no_such_table" in err or "cli-failing" in err), "get of a failed job: exit %d, %r" %
          (rc, err))
    rc, out, err = cli("run", "/no/such/endpoint", "x=1")
    check(rc == 1 and "/no/such/endpoint" in err, "unknown endpoint: exit %d, %r" % (rc, err))
    rc, out, err = cli("run", "/filter", "tabel_name=x")
    check(rc == 64 and "tabel_name" in err, "misspelt field: exit %d, %r" % (rc, err))
    rc, out, err = cli("run", "/insert/records/random", "table_name=x", "count=many")
    check(rc == 64 and "count" in err, "a number that is not: exit %d, %r" % (rc, err))
    rc, out, err = cli("run", "/has/table", "table_name=x", server="127.0.0.1:%d" % free_port())
    check(rc == 2 and "UNAVAILABLE" in err and "Traceback" not in err, "unreachable server: exit %d, %r" % (rc, err))
    rc, out, err = cli("get")
    check(rc == 64, "get without a job: exit %d" % rc)
    has = cli.json("run", "has/table", "table_name=" + table)
    check(has.get("table_exists") is True, "has/table after the errors: %r" % has)

    # --- sql: a statement, and statements read from standard input (as a prompt would)
    rc, out, err = cli("sql", "SELECT count(*) AS n FROM %s" % table)
    if "does not run" not in err:  # a build without libpg_query has no /execute/sql
        check(rc == 0 and re.search(r"\bn\b", out) and "(1 row" in out, "sql: exit %d, %r %r" % (rc, out, err))
        rc, out, err = cli("sql", stdin="CREATE TABLE cli_sql (a INT, b VARCHAR(8));\n"
                                        "INSERT INTO cli_sql VALUES (1, 'x'), (2, 'y');\n"
                                        "SELECT a, b FROM cli_sql ORDER BY a DESC;\nSELECT nope FROM cli_sql;\n")
        check(rc == 1 and "count_affected: 2" in out and out.index(" 2 | y") < out.index(" 1 | x")
              and "unknown column 'nope'" in err, "sql from stdin: exit %d, %r %r" % (rc, out, err))
    ch.close()


def credentials(binary, tmp):
    """Against a server with --auth-file and TLS: plain gRPC fails; with the CA (GPUDB_TLS_CA), refused without
    credentials, served with --user or a bearer token, and `list` shows the caller's own jobs only."""
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write("ann:secret\nBearer tok-1 carol\n")
    tls = os.path.join(REPO, "tests", "data", "tls")
    server = start_server(binary, ["--devices=host:1", "--auth-file=" + users, "--tls-cert=" + os.path.join(tls, "server.pem"),
                                   "--tls-key=" + os.path.join(tls, "server.key")])
    try:
        cli = Cli(server.address.replace("127.0.0.1", "localhost"), os.path.join(tmp, "cache"))
        rc, out, err = cli("--user", "ann:secret", "sql", "select 1")
        check(rc != 0, "plain gRPC to a TLS server: exit %d" % rc)
        cli.env["GPUDB_TLS_CA"] = os.path.join(tls, "ca.pem")
        rc, out, err = cli("sql", "select 1")
        check(rc != 0 and "--user" in err and "UNAUTHENTICATED" in err, "no credentials: exit %d, %r" % (rc, err))
        rc, out, err = cli("--user", "ann:wrong", "sql", "select 1")
        check(rc != 0 and "wrong user name or password" in err, "wrong password: exit %d, %r" % (rc, err))
        check(" 1" in cli.ok("--user", "ann:secret", "sql", "select 1"), "ann's query")
        ann_job = first_line_job(cli.ok("--user", "ann:secret", "submit", "/has/table", "table_name=t"))[0]
        cli.env["GPUDB_TOKEN"] = "tok-1"
        carol_job = first_line_job(cli.ok("submit", "/has/table", "table_name=t"))[0]
        listed = cli.json("list", "--all")
        users = dict(zip(listed.get("job_id", []), listed.get("auth_id", [])))
        check(users.get(carol_job) == "carol" and ann_job not in users and set(users.values()) == {"carol"},
              "carol's list --all: %r (ann's job %r, carol's %r)" % (users, ann_job, carol_job))
    finally:
        server.stop()


def run(binary, tmp, pb, rpc):
    server = start_server(binary, ["--devices=host:2"])
    cli = Cli(server.address, os.path.join(tmp, "cache"))
    started = time.monotonic()
    try:
        story(cli, pb, rpc, server.address, tmp)
    finally:
        server.stop()
    guarded("credentials", credentials, binary, tmp)
    print("test_cli: %.1f s" % (time.monotonic() - started))


def main():
    return run_main(__doc__, "python_cli", [], "grpcio and grpcio-tools (the CLI runs with this test's Python)", run)


if __name__ == "__main__":
    sys.exit(main())
