#!/usr/bin/env python3
"""Nothing acknowledged is lost: the server binary with a data directory, killed and restarted.

Usage: test_durability.py PATH/TO/gpudb-engine [--cycles N]

- kill -9 at random moments while 4 clients (Kinetica's gpudb client over HTTP, one connection
  each) insert batches of 5 rows with known ids: after each restart every acknowledged row is there
  exactly once, and every batch is there whole or not at all (--cycles, default 8; the fault
  script runs 60);
- SIGTERM then restart: tables, schemas and finished async jobs (by id and by tag, over gRPC)
  with their results; a job still queued at the SIGTERM's grace end reads cancelled, one caught by
  kill -9 reads "interrupted by a server restart";
- a full file system (the log past RLIMIT_FSIZE: writes fail with EFBIG, a real kernel error):
  inserts fail with a clear error, reads go on, nothing acknowledged before is lost, and inserts
  resume once the limit is lifted;
- a table's own sync level (/alter/wal through Kinetica's client) is kept;
- a second server on the same directory is refused.
"""

import json
import os
import random
import resource
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, channel, fail, poll_until, run_main, start_server  # noqa: E402

BATCH = 5
CLIENTS = 4


def cycles():
    for i, a in enumerate(sys.argv):
        if a == "--cycles" and i + 1 < len(sys.argv):
            n = int(sys.argv[i + 1])
            del sys.argv[i:i + 2]
            return n
    return 8


def connect(server):
    import gpudb
    return gpudb.GPUdb(host="http://%s:%d" % (server.host, server.http_port))


def all_ids(db, table):
    import gpudb
    t = gpudb.GPUdbTable(None, name=table, db=db)
    size = t.size()
    ids = []
    while len(ids) < size:
        cols = t.get_records_by_column(["id"], len(ids), 1000000)
        got = list(cols["id"])
        if not got:
            break
        ids.extend(got)
    return ids


def kill_cycles(binary, work, n):
    import gpudb
    data = os.path.join(work, "kill9")
    args = ["--data-dir=" + data, "--max-get-records-size=1000000"]
    acked, maybe = set(), set()  # batches by their first id
    rng = random.Random(20261205)
    for cycle in range(n + 1):
        server = start_server(binary, args, http=True)
        try:
            db = connect(server)
            if cycle == 0:
                gpudb.GPUdbTable([["id", "long"], ["s", "string"]], name="t", db=db)
            else:
                ids = all_ids(db, "t")
                counts = {}
                for i in ids:
                    counts[i] = counts.get(i, 0) + 1
                dup = [i for i, c in counts.items() if c > 1]
                check(not dup, "cycle %d: rows present more than once: %s" % (cycle, dup[:5]))
                missing = [b for b in acked if b not in counts]
                check(not missing, "cycle %d: %d acknowledged batches lost, e.g. %s" % (cycle, len(missing),
                                                                                         sorted(missing)[:5]))
                firsts = {i - i % BATCH for i in counts}
                torn = [f for f in firsts if any(f + k not in counts for k in range(BATCH))]
                check(not torn, "cycle %d: batches half applied: %s" % (cycle, torn[:5]))
                unknown = [f for f in firsts if f not in acked and f not in maybe]
                check(not unknown, "cycle %d: rows never sent: %s" % (cycle, unknown[:5]))
                # What was in flight is decided now: there, or not.
                acked |= {f for f in firsts if f in maybe}
                maybe = set()
            if cycle == n:
                server.stop()
                break
            stop = threading.Event()
            lock = threading.Lock()

            def client(c):
                try:
                    table = gpudb.GPUdbTable(None, name="t", db=connect(server))
                except Exception:
                    return
                k = 0
                while not stop.is_set():
                    first = ((c * 1000 + cycle) * 100000 + k) * BATCH
                    k += 1
                    with lock:
                        maybe.add(first)
                    try:
                        table.insert_records([[first + j, "v%d" % (first + j)] for j in range(BATCH)])
                    except Exception:
                        return  # killed: this batch stays undecided
                    with lock:
                        maybe.discard(first)
                        acked.add(first)

            threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 0.6))
            server.kill()
            stop.set()
            for t in threads:
                t.join(30)
        finally:
            if server.proc.poll() is None:
                server.kill()
    print("kill -9: %d cycles, %d batches acknowledged, all there" % (n, len(acked)), flush=True)


def jobs_survive_sigterm(binary, work, pb, rpc):
    data = os.path.join(work, "term")
    args = ["--data-dir=" + data]
    server = start_server(binary, args, http=True)
    stub = rpc.GpudbStub(channel(server.address))

    def execute(endpoint, request):
        r = stub.Execute(pb.ExecuteRequest(endpoint=endpoint, request_encoding="json",
                                           data_str=json.dumps(request)), timeout=60)
        check(r.status == "OK", "%s: %s" % (endpoint, r.message))
        return json.loads(r.data_str or "{}")

    def create_job(endpoint, request, tag):
        r = stub.CreateJob(pb.CreateJobRequest(endpoint=endpoint, request_encoding="json",
                                               data_str=json.dumps(request), options={"job_tag": tag}), timeout=60)
        check(r.status == "OK", "create/job: %s" % r.message)
        return pb.CreateJobResponse.FromString(r.data).job_id

    def get_job(tag=None, job_id=None):
        options = {"job_tag": tag} if tag else {}
        r = stub.GetJob(pb.GetJobRequest(job_id=job_id or 0, options=options), timeout=60)
        if r.status != "OK":
            return None, r.message
        return pb.GetJobResponse.FromString(r.data), ""

    execute("/create/schema", {"schema_name": "keep"})
    execute("/create/table", {"table_name": "keep.t", "type_id": '[["x","long"],["name","string","nullable"]]'})
    execute("/insert/records/random", {"table_name": "keep.t", "count": 50000})
    stats_id = create_job("/aggregate/statistics", {"table_name": "keep.t", "column_name": "x", "stats": "count,sum"},
                          "sum-of-x")
    check(poll_until(lambda: get_job("sum-of-x")[0] and not get_job("sum-of-x")[0].running, 60),
          "the statistics job did not finish")
    before, _ = get_job("sum-of-x")
    check(before.job_status == "DONE", "statistics job: %s" % before)
    rows = execute("/get/records", {"table_name": "keep.t", "limit": 50000, "encoding": "json"})["records_json"]
    server.stop()

    server = start_server(binary, args, http=True)
    stub = rpc.GpudbStub(channel(server.address))
    check(execute("/has/schema", {"schema_name": "keep"}).get("schema_exists") is True, "schema lost")
    again = execute("/get/records", {"table_name": "keep.t", "limit": 50000, "encoding": "json"})["records_json"]
    check(again == rows, "keep.t differs after the restart (%d rows, %d before)" % (len(again), len(rows)))
    for how in ({"tag": "sum-of-x"}, {"job_id": stats_id}):
        after, message = get_job(**how)
        check(after is not None, "job %s after the restart: %s" % (how, message))
        if after is not None:
            check(after.job_status == "DONE" and after.job_response_str == before.job_response_str,
                  "job %s after the restart: %s, before: %s" % (how, after, before))
    # A table's own sync level (Kinetica's /alter/wal), kept across the restart below.
    db = connect(server)
    db.alter_wal(["keep.t"], {"sync_policy": "fsync"})
    wal = db.show_wal(["keep.t", "*"])
    check([s["sync_policy"] for s in wal["settings"]] == ["fsync", "flush"], "show_wal: %s" % wal["settings"])
    # A job caught by kill -9 before it ran reads interrupted.
    execute("/create/table", {"table_name": "big", "type_id": '[["v","long"]]'})
    create_job("/insert/records/random", {"table_name": "big", "count": 30000000}, "long-insert")
    caught = create_job("/aggregate/statistics", {"table_name": "big", "column_name": "v", "stats": "count"}, "caught")
    server.kill()
    server = start_server(binary, args, http=True)
    stub = rpc.GpudbStub(channel(server.address))
    job, message = get_job("caught")
    check(job is not None and job.job_status == "ERROR" and "interrupted by a server restart" in str(job),
          "a job caught by kill -9: %s %s" % (job, message))
    wal = connect(server).show_wal(["keep.t"])
    check(wal["settings"][0]["sync_policy"] == "fsync", "show_wal after kill -9: %s" % wal["settings"])
    by_id, message = get_job(job_id=caught)
    check(by_id is not None and by_id.job_status == "ERROR", "the same job by id: %s %s" % (by_id, message))
    # A second server on the same directory is refused, naming it.
    second = subprocess.run([binary, "--grpc-port=0", "--http-port=0", "--data-dir=" + data],
                            capture_output=True, text=True, timeout=60)
    check(second.returncode != 0 and "is in use by another server" in second.stderr,
          "a second server on the directory: %d %r" % (second.returncode, second.stderr))
    server.stop()
    print("SIGTERM: tables, schemas and jobs by id and tag back; kill -9 mid-job: interrupted", flush=True)


def full_disk(binary, work):
    import gpudb
    data = os.path.join(work, "full")
    args = ["--data-dir=" + data]
    server = start_server(binary, args, http=True)
    db = connect(server)
    table = gpudb.GPUdbTable([["id", "long"], ["s", "string"]], name="t", db=db)
    table.insert_records([[i, "v%d" % i] for i in range(100)])
    # The log may grow by 64 KiB more: then writes fail as on a full file system.
    logs = [f for f in os.listdir(data) if f.endswith(".wal")]
    limit = max(os.path.getsize(os.path.join(data, f)) for f in logs) + 65536
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    errors = []
    for k in range(100):
        try:
            table.insert_records([[1000 + k * 100 + i, "w" * 200] for i in range(100)])
        except Exception as e:
            errors.append(str(e))
            break
    check(errors and "File too large" in errors[0] and "data directory" in errors[0],
          "an insert past the limit: %s" % (errors[:1] or "no error"))
    check(table.size() >= 100, "reads after the failure: size %d" % table.size())
    acknowledged = table.size()
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    table.insert_records([[99999, "after"]])
    check(table.size() == acknowledged + 1, "insert after space returned: size %d" % table.size())
    server.kill()
    server = start_server(binary, args, http=True)
    db = connect(server)
    size = gpudb.GPUdbTable(None, name="t", db=db).size()
    check(size == acknowledged + 1, "after kill -9: %d rows, %d acknowledged" % (size, acknowledged + 1))
    server.stop()
    print("full file system: inserts refused with %r, reads kept, resumed" % errors[0][:120], flush=True)


def body(binary, work, pb, rpc):
    n = CYCLES
    kill_cycles(binary, work, n)
    jobs_survive_sigterm(binary, work, pb, rpc)
    full_disk(binary, work)


CYCLES = cycles()

if __name__ == "__main__":
    sys.exit(run_main(__doc__, "test_durability", ["gpudb"], "gpudb (pip install gpudb)", body))
