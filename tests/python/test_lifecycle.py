#!/usr/bin/env python3
"""End-to-end test of the server's lifecycle with real external clients.

Usage: test_lifecycle.py PATH/TO/gpudb-engine

Starts the server binary on a free port with one host device of one stream,
scans in chunks of 2000 rows and a shutdown grace of 2 s, then:

- the standard health service (grpc.health.v1) says SERVING for "" and for
  gpudb.v1.Gpudb; server reflection lists gpudb.v1.Gpudb;
- under load (client threads with CreateJob + GetJob(wait_timeout_ms=60000),
  WatchJob streams, Execute calls, inserts) and a queue of long scans that
  cannot all finish within the grace, it sends SIGTERM and checks that:
  the process exits with status 0 within the grace plus a few seconds; every
  accepted job's waiting client got its final state (DONE, ERROR or
  CANCELLED; a DONE filter with the right count), no client is left hanging;
  the scans end in order, the first ones DONE and the rest CANCELLED, the one
  running when the grace ran out cancelled while running (so is any that a
  stream starts while the drain cancels); during the grace
  health says NOT_SERVING and a new CreateJob gets UNAVAILABLE (or, once the
  listener is closed, the connection is refused, also UNAVAILABLE).

Needs grpcio, grpcio-tools, grpcio-health-checking and grpcio-reflection.
Exit status 0 means pass.
"""

import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from stubs import generate_stubs  # tests/python/stubs.py

GRACE_S = 2.0
CHUNK_ROWS = 2000
LOAD_ROWS = 2000
BIG_ROWS = 3000000
SCANS = 200  # queued long scans: together far longer than the grace on any machine
HEAVY = "k * 3 + k % 7 > k / 5 + 11 and k - 3 < k * 2 or k = 17"
FINAL = ("DONE", "ERROR", "CANCELLED")

failures = []
failures_lock = threading.Lock()


def check(condition, message):
    """Records a failure (and keeps going) unless `condition` holds."""
    if not condition:
        with failures_lock:
            failures.append(message)
        print("FAIL: " + message, flush=True)
    return condition


def start_server(binary, args):
    """Starts the server; returns (process, port, output lines, drain thread)."""
    proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=None, text=True)
    first = {}
    reader = threading.Thread(target=lambda: first.update(line=proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    line = first.get("line", "")
    match = re.match(r"gpudb-engine listening on 127\.0\.0\.1:(\d+) \(gRPC\)", line)
    if not match:
        proc.kill()
        proc.wait()
        raise RuntimeError("server did not report its port; first line: %r" % line)
    rest = []
    drain = threading.Thread(target=lambda: rest.extend(proc.stdout), daemon=True)
    drain.start()
    return proc, int(match.group(1)), rest, drain


class Lifecycle:
    def __init__(self, pb, rpc, port):
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        self.grpc, self.pb, self.health_pb2 = grpc, pb, health_pb2
        self.target = "127.0.0.1:%d" % port
        self.channel = grpc.insecure_channel(self.target)
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = rpc.GpudbStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.rpc = rpc
        self.lock = threading.Lock()
        self.jobs = []         # (kind, job id, final GetJobResponse or None, detail)
        self.executes = []     # (status, message) of Execute calls that were answered
        self.refused = 0       # CreateJob/Execute refused with UNAVAILABLE
        self.completed = {}    # thread name -> jobs finished before the scans were queued
        self.sigterm_at = None

    # --- calls -------------------------------------------------------------

    def execute_json(self, endpoint, request, timeout=120):
        return self.stub.Execute(self.pb.ExecuteRequest(endpoint=endpoint, request_encoding="json",
                                                        data_str=json.dumps(request)), timeout=timeout)

    def ok_json(self, endpoint, request):
        r = self.execute_json(endpoint, request)
        check(r.status == "OK", "%s: %s %s" % (endpoint, r.status, r.message))
        return json.loads(r.data_str) if r.status == "OK" else {}

    def create_job(self, stub, endpoint, request, timeout=60):
        """CreateJob (json); the job id. Raises grpc.RpcError."""
        r = stub.CreateJob(self.pb.CreateJobRequest(endpoint=endpoint, request_encoding="json",
                                                    data_str=json.dumps(request)), timeout=timeout)
        if not check(r.status == "OK", "CreateJob %s: %s %s" % (endpoint, r.status, r.message)):
            return 0
        return self.pb.CreateJobResponse.FromString(r.data).job_id

    def wait_job(self, stub, job_id):
        """GetJob with wait_timeout_ms=60000: the final record (raises grpc.RpcError)."""
        r = stub.GetJob(self.pb.GetJobRequest(job_id=job_id, options={"wait_timeout_ms": "60000"}), timeout=90)
        if not check(r.status == "OK", "GetJob %d: %s %s" % (job_id, r.status, r.message)):
            return None
        return self.pb.GetJobResponse.FromString(r.data)

    def unavailable(self, error):
        return error.code() == self.grpc.StatusCode.UNAVAILABLE

    # --- setup -------------------------------------------------------------

    def check_health_and_reflection(self):
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        hp = self.health_pb2
        for service in ("", "gpudb.v1.Gpudb"):
            r = self.health.Check(hp.HealthCheckRequest(service=service), timeout=10)
            check(r.status == hp.HealthCheckResponse.SERVING,
                  "health of %r at start: %s" % (service, hp.HealthCheckResponse.ServingStatus.Name(r.status)))
        reflection = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        responses = list(reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services=""),
                  reflection_pb2.ServerReflectionRequest(file_containing_symbol="gpudb.v1.Gpudb")]), timeout=10))
        check(len(responses) == 2, "reflection: %d responses to 2 requests" % len(responses))
        names = [s.name for s in responses[0].list_services_response.service]
        check("gpudb.v1.Gpudb" in names, "reflection does not list gpudb.v1.Gpudb: %r" % names)
        check(len(responses) > 1 and len(responses[1].file_descriptor_response.file_descriptor_proto) > 0,
              "reflection gave no file for gpudb.v1.Gpudb")

    def make_tables(self):
        self.ok_json("/create/table", {"table_name": "load", "type_id": '[["k","int"]]'})
        self.ok_json("/insert/records/random", {"table_name": "load", "count": LOAD_ROWS,
                                                "options": {"seed": {"value": 77}}})
        page = self.ok_json("/get/records", {"table_name": "load", "limit": LOAD_ROWS, "encoding": "json"})
        self.ks = [json.loads(t)["k"] for t in page.get("records_json", [])]
        check(len(self.ks) == LOAD_ROWS, "read back %d load rows" % len(self.ks))
        self.ok_json("/create/table", {"table_name": "ins", "type_id": '[["a","int"]]'})
        self.ok_json("/create/table", {"table_name": "big", "type_id": '[["k","int"]]'})
        r = self.ok_json("/insert/records/random", {"table_name": "big", "count": BIG_ROWS})
        check(r.get("count") == BIG_ROWS, "big table: %r" % r)

    # --- load --------------------------------------------------------------

    def record(self, kind, job_id, final, detail=""):
        with self.lock:
            self.jobs.append((kind, job_id, final, detail))

    def count_done(self, name):
        with self.lock:
            self.completed[name] = self.completed.get(name, 0) + 1

    def check_filter(self, job, threshold):
        if job is not None and job.job_status == "DONE":
            want = sum(1 for k in self.ks if k > threshold)
            got = json.loads(job.job_response_str).get("count")
            check(got == want, "filter k > %d: count %r, expected %d" % (threshold, got, want))

    def waiter(self, name, stop):
        """CreateJob + GetJob(wait_timeout_ms=60000), until refused."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        rng = random.Random(name)
        while not stop.is_set():
            threshold = rng.randrange(-99999, 99999)
            try:
                job_id = self.create_job(stub, "/filter", {"table_name": "load", "view_name": "",
                                                          "expression": "k > %d" % threshold})
            except self.grpc.RpcError as e:
                if check(self.unavailable(e), "%s: CreateJob: %s %s" % (name, e.code(), e.details())):
                    with self.lock:
                        self.refused += 1
                return
            try:
                job = self.wait_job(stub, job_id)
            except self.grpc.RpcError as e:
                check(False, "%s: the wait for job %d got no answer: %s %s" % (name, job_id, e.code(), e.details()))
                self.record("waiter", job_id, None, "no answer")
                return
            check(job is not None and job.job_status in FINAL,
                  "%s: job %d: %s" % (name, job_id, job.job_status if job else None))
            self.check_filter(job, threshold)
            self.record("waiter", job_id, job)
            self.count_done(name)

    def watcher(self, name, stop):
        """CreateJob + WatchJob to the end of the stream, until refused."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        while not stop.is_set():
            try:
                job_id = self.create_job(stub, "/aggregate/statistics",
                                         {"table_name": "load", "column_name": "k", "stats": "count"})
            except self.grpc.RpcError as e:
                if check(self.unavailable(e), "%s: CreateJob: %s %s" % (name, e.code(), e.details())):
                    with self.lock:
                        self.refused += 1
                return
            messages = []
            try:
                for m in stub.WatchJob(self.pb.GetJobRequest(job_id=job_id), timeout=90):
                    messages.append(m)
            except self.grpc.RpcError as e:
                check(False, "%s: WatchJob %d ended with %s %s" % (name, job_id, e.code(), e.details()))
                self.record("watch", job_id, None, "stream broken")
                return
            final = None
            if check(messages and messages[-1].status == "OK", "%s: WatchJob %d: no final message" % (name, job_id)):
                final = self.pb.GetJobResponse.FromString(messages[-1].data)
                check(final.job_status in FINAL, "%s: WatchJob %d ended %s" % (name, job_id, final.job_status))
                progress = [self.pb.GetJobResponse.FromString(m.data).progress for m in messages]
                check(progress == sorted(progress), "%s: progress went back: %r" % (name, progress))
                if final.job_status == "DONE":
                    got = json.loads(final.job_response_str)["stats"]["count"]
                    check(got == LOAD_ROWS, "%s: statistics count %r" % (name, got))
            self.record("watch", job_id, final)
            self.count_done(name)

    def executor(self, name, stop):
        """Execute calls, until refused."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        while not stop.is_set():
            try:
                r = stub.Execute(self.pb.ExecuteRequest(
                    endpoint="/aggregate/statistics", request_encoding="json",
                    data_str=json.dumps({"table_name": "load", "column_name": "k", "stats": "count"})), timeout=90)
            except self.grpc.RpcError as e:
                if check(self.unavailable(e), "%s: Execute: %s %s" % (name, e.code(), e.details())):
                    with self.lock:
                        self.refused += 1
                return
            if r.status == "OK":
                got = json.loads(r.data_str)["stats"]["count"]
                check(got == LOAD_ROWS, "%s: statistics count %r" % (name, got))
            else:
                check("cancelled" in r.message, "%s: Execute: %s %s" % (name, r.status, r.message))
            with self.lock:
                self.executes.append((r.status, r.message))
            self.count_done(name)

    def inserter(self, name, stop):
        """Inserts (not cancellable) as jobs, until refused."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        n = 0
        while not stop.is_set():
            rows = [json.dumps({"a": n * 10 + i}) for i in range(10)]
            n += 1
            try:
                job_id = self.create_job(stub, "/insert/records", {"table_name": "ins", "list_str": rows,
                                                                   "list_encoding": "json"})
            except self.grpc.RpcError as e:
                if check(self.unavailable(e), "%s: CreateJob: %s %s" % (name, e.code(), e.details())):
                    with self.lock:
                        self.refused += 1
                return
            try:
                job = self.wait_job(stub, job_id)
            except self.grpc.RpcError as e:
                check(False, "%s: the wait for insert %d got no answer: %s" % (name, job_id, e.code()))
                self.record("insert", job_id, None, "no answer")
                return
            check(job is not None and job.job_status == "DONE",
                  "%s: insert %d: %s" % (name, job_id, job.job_status if job else None))
            self.record("insert", job_id, job)
            self.count_done(name)

    # --- shutdown ----------------------------------------------------------

    def probe(self, proc, results, stop):
        """During shutdown: health and a new CreateJob, until the process exits."""
        hp = self.health_pb2
        stub = self.rpc.GpudbStub(self.channel)
        while proc.poll() is None and not stop.is_set():
            at = time.monotonic() - self.sigterm_at
            try:
                r = self.health.Check(hp.HealthCheckRequest(service="gpudb.v1.Gpudb"), timeout=2)
                health = hp.HealthCheckResponse.ServingStatus.Name(r.status)
            except self.grpc.RpcError as e:
                health = "rpc:" + e.code().name
            try:
                job_id = self.create_job(stub, "/has/table", {"table_name": "load"}, timeout=2)
                create = ("accepted", str(job_id))
            except self.grpc.RpcError as e:
                create = (e.code().name, e.details() or "")
            results.append((at, health, create, proc.poll() is None))
            time.sleep(0.05)

    def scan_waits(self, scan_ids):
        """GetJob(wait_timeout_ms=60000) on every scan, all outstanding at once."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        return [stub.GetJob.future(self.pb.GetJobRequest(job_id=job_id, options={"wait_timeout_ms": "60000"}),
                                   timeout=90) for job_id in scan_ids]

    def scan_finals(self, scan_ids, waits):
        finals = []
        for job_id, wait in zip(scan_ids, waits):
            try:
                r = wait.result(timeout=max(0.1, self.sigterm_at + GRACE_S + 20 - time.monotonic()))
            except self.grpc.FutureTimeoutError:
                check(False, "the wait for scan %d is still waiting" % job_id)
                finals.append(None)
                continue
            except self.grpc.RpcError as e:
                check(False, "the wait for scan %d got no answer: %s %s" % (job_id, e.code(), e.details()))
                finals.append(None)
                continue
            check(r.status == "OK", "GetJob %d: %s %s" % (job_id, r.status, r.message))
            finals.append(self.pb.GetJobResponse.FromString(r.data) if r.status == "OK" else None)
        return finals


def run(pb, rpc, proc, port):
    import grpc

    t = Lifecycle(pb, rpc, port)
    t.check_health_and_reflection()
    t.make_tables()
    if failures:
        return

    # Load: every kind of waiting client.
    stop = threading.Event()
    workers = []
    for i in range(4):
        workers.append(threading.Thread(target=t.waiter, args=("waiter%d" % i, stop), daemon=True))
    for i in range(2):
        workers.append(threading.Thread(target=t.watcher, args=("watcher%d" % i, stop), daemon=True))
        workers.append(threading.Thread(target=t.executor, args=("executor%d" % i, stop), daemon=True))
    workers.append(threading.Thread(target=t.inserter, args=("inserter", stop), daemon=True))
    for w in workers:
        w.start()
    # Every client has had jobs done (bounded polling).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with t.lock:
            if len(t.completed) == len(workers):
                break
        time.sleep(0.01)
    check(len(t.completed) == len(workers), "not every load client finished a job: %r" % t.completed)

    # The long scans, queued behind one another on the one stream.
    scan_ids = [t.create_job(t.stub, "/filter", {"table_name": "big", "view_name": "", "expression": HEAVY})
                for _ in range(SCANS)]
    scan_waits = t.scan_waits(scan_ids)
    # SIGTERM once the first scan is running: its WatchJob shows progress.
    first_scan = []
    running = threading.Event()

    def watch_first():
        try:
            for m in t.stub.WatchJob(pb.GetJobRequest(job_id=scan_ids[0]), timeout=120):
                job = pb.GetJobResponse.FromString(m.data)
                first_scan.append(job)
                if job.progress > 0:
                    running.set()
        except grpc.RpcError as e:
            check(False, "WatchJob of the first scan: %s %s" % (e.code(), e.details()))
        running.set()

    first_watch = threading.Thread(target=watch_first, daemon=True)
    first_watch.start()
    check(running.wait(120), "the first scan did not start")
    check(first_scan and first_scan[-1].job_status == "RUNNING", "the first scan is not running: %r" %
          (first_scan[-1].job_status if first_scan else None))

    t.sigterm_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    probes = []
    probe_stop = threading.Event()
    prober = threading.Thread(target=t.probe, args=(proc, probes, probe_stop), daemon=True)
    prober.start()
    try:
        status = proc.wait(timeout=GRACE_S + 30)
    except subprocess.TimeoutExpired:
        status = None
    exited = time.monotonic() - t.sigterm_at
    if status is None:
        check(False, "the server did not exit within %.0f s of SIGTERM" % (GRACE_S + 30))
        proc.kill()
        proc.wait()
    else:
        check(status == 0, "the server exited with status %d after SIGTERM" % status)
        check(exited <= GRACE_S + 5, "the server exited %.1f s after SIGTERM (grace %.0f s)" % (exited, GRACE_S))
        check(exited >= GRACE_S - 0.2, "the server exited %.1f s after SIGTERM, before the grace ended" % exited)
    probe_stop.set()

    # No client is left hanging.
    stop.set()
    for thread in workers + [first_watch, prober]:
        thread.join(max(0.1, t.sigterm_at + GRACE_S + 20 - time.monotonic()))
        check(not thread.is_alive(), "a client thread is still waiting: %s" % thread.name)

    # Every accepted job got its final state.
    with t.lock:
        jobs = list(t.jobs)
    states = {}
    for kind, job_id, final, detail in jobs:
        state = final.job_status if final is not None else "none (%s)" % detail
        states.setdefault(kind, {}).setdefault(state, 0)
        states[kind][state] += 1
        check(final is not None and final.job_status in FINAL, "%s job %d ended %s" % (kind, job_id, state))
    scan_finals = t.scan_finals(scan_ids, scan_waits)

    # The scans: a prefix DONE, the rest CANCELLED; the one running when the
    # grace ran out was cancelled while running.
    scan_states = [f.job_status if f is not None else "none" for f in scan_finals]
    done = scan_states.count("DONE")
    check(all(s == "DONE" for s in scan_states[:done]) and all(s == "CANCELLED" for s in scan_states[done:]),
          "scans did not end DONE... then CANCELLED...: %r" % scan_states[:done + 5])
    check(done < SCANS, "every scan finished within the grace")
    reasons = [f.info.get("cancel_reason", "") for f in scan_finals if f is not None and f.job_status == "CANCELLED"]
    while_running = sum(1 for r in reasons if "while running" in r)
    # (Jobs that start while the drain is cancelling are cancelled too, while running.)
    check(while_running >= 1, "no scan was cancelled while running: %r" % reasons[:3])
    check(first_scan and first_scan[-1].job_status in ("DONE", "CANCELLED"),
          "the first scan's WatchJob ended with %r" % (first_scan[-1].job_status if first_scan else None))
    first_reason = scan_finals[0].info.get("cancel_reason", "") if scan_finals and scan_finals[0] else ""
    if done == 0:
        check(first_scan[-1].job_status == "CANCELLED" and "while running" in first_reason,
              "the first scan was running at the end of the grace but was not cancelled while running: %r" %
              first_reason)

    # During the grace: NOT_SERVING, and CreateJob refused with UNAVAILABLE.
    served_after = [p for p in probes if p[0] > 0.5 and p[1] == "SERVING"]
    check(not served_after, "health said SERVING during shutdown: %r" % served_after[:3])
    not_serving = [p for p in probes if p[1] == "NOT_SERVING" and p[0] < GRACE_S]
    check(not_serving, "health never said NOT_SERVING during the grace: %r" % probes[:5])
    accepted = [p for p in probes if p[0] > 0.5 and p[2][0] == "accepted"]
    check(not accepted, "a new job was accepted during shutdown: %r" % accepted[:3])
    refused = [p for p in probes if p[2][0] == "UNAVAILABLE" and "shutting down" in p[2][1]]
    check(refused, "no CreateJob during the grace got UNAVAILABLE 'shutting down': %r" % probes[:5])
    other = [p for p in probes if p[2][0] not in ("accepted", "UNAVAILABLE")]
    check(not other, "CreateJob during shutdown failed otherwise: %r" % other[:3])

    print("test_lifecycle: exit %.2f s after SIGTERM; scans %d DONE, %d CANCELLED (%d while running); jobs %r; "
          "%d Execute answers; %d refused; %d probes" %
          (exited, done, SCANS - done, while_running, states, len(t.executes), t.refused, len(probes)), flush=True)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
        import grpc_health.v1.health_pb2  # noqa: F401
        import grpc_reflection.v1alpha.reflection_pb2  # noqa: F401
    except ImportError as e:
        print("FAIL: this test needs grpcio, grpcio-tools, grpcio-health-checking and grpcio-reflection in %s (%s)"
              % (sys.executable, e))
        return 1
    with tempfile.TemporaryDirectory(prefix="gpudb_lifecycle_") as stubs:
        pb, rpc = generate_stubs(stubs)
        proc, port, output, drain = start_server(binary, [
            "--grpc-port=0", "--http-port=0", "--devices=host:1", "--streams-per-device=1", "--chunk-rows=%d" % CHUNK_ROWS,
            "--shutdown-grace=%ds" % GRACE_S])
        try:
            run(pb, rpc, proc, port)
        except Exception as e:
            import traceback
            traceback.print_exc()
            failures.append("exception: %r" % e)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                failures.append("the server was still running at the end")
            drain.join(5)
            check(any("shutting down" in line for line in output), "server did not report the signal: %r" % output)
            check(any("stopped" in line for line in output), "server did not report that it stopped: %r" % output)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("test_lifecycle: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
