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
  listener is closed, the connection is refused, also UNAVAILABLE; a load
  client's call, or a probe's at the end of the grace, caught by the
  listener's closing may read CANCELLED, which is what gRPC gives calls not
  yet started when a server shuts down).

Needs grpcio, grpcio-tools, grpcio-health-checking and grpcio-reflection.
Exit status 0 means pass.
"""

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from harness import channel, check, failures, run_main, start_server  # tests/python/harness.py

GRACE_S = 2.0
# How long after the grace the server may take to exit: a guard against a hang, not a measure
# (that it did not run the queue of scans is checked by their states).
EXIT_SLACK_S = 20
CHUNK_ROWS = 2000
LOAD_ROWS = 2000
BIG_ROWS = 3000000
SCANS = 200  # queued long scans: together far longer than the grace on any machine
# A heavy scan: a transcendental function or two per row costs far more than the arithmetic around
# it, so that a scan (typed blocks or not) lasts long enough to be seen running.
HEAVY = ("sqrt(k * 3 + 1) + ln(k % 7 + 1) + cbrt(k + 2) > k / 5 + 11 and pow(k - 3, 2) < k * k * 4 + 1"
         " and exp(k % 9) + log10(k * k + 3) > 0 or k = 17")
FINAL = ("DONE", "ERROR", "CANCELLED")


class Lifecycle:
    def __init__(self, pb, rpc, address):
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        self.grpc, self.pb, self.health_pb2 = grpc, pb, health_pb2
        self.target = address
        self.channel = channel(address)
        self.stub = rpc.GpudbStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.rpc = rpc
        self.lock = threading.Lock()
        self.jobs = []         # (kind, job id, final GetJobResponse or None, detail)
        self.executes = []     # (status, message) of Execute calls that were answered
        self.refused = 0       # CreateJob/Execute refused with UNAVAILABLE
        self.completed = {}    # thread name -> jobs finished before the scans were queued
        self.completed_changed = threading.Condition(self.lock)
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

    def refused_call(self, name, what, error):
        """A call of a load client refused: UNAVAILABLE (the server shuts down) is counted, anything
        else is a failure; except CANCELLED, which gRPC itself gives a call that reaches the server
        as its listener closes (grpc::Server::Shutdown cancels calls not yet started)."""
        cut = error.code() == self.grpc.StatusCode.CANCELLED
        if check(error.code() == self.grpc.StatusCode.UNAVAILABLE or cut,
                 "%s: %s: %s %s" % (name, what, error.code(), error.details())):
            with self.lock:
                self.refused += 1

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
            self.completed_changed.notify_all()

    def check_filter(self, job, threshold):
        if job is not None and job.job_status == "DONE":
            want = sum(1 for k in self.ks if k > threshold)
            got = json.loads(job.job_response_str).get("count")
            check(got == want, "filter k > %d: count %r, expected %d" % (threshold, got, want))

    def jobs_until_refused(self, name, stop, endpoint, requests):
        """Creates a job of `endpoint` with each (request, what) from the iterator `requests`, one
        after the other, and yields (stub, job id, what), until `stop` is set or a CreateJob is
        refused."""
        stub = self.rpc.GpudbStub(self.grpc.insecure_channel(self.target))
        for request, what in requests:
            if stop.is_set():
                return
            try:
                job_id = self.create_job(stub, endpoint, request)
            except self.grpc.RpcError as e:
                self.refused_call(name, "CreateJob", e)
                return
            yield stub, job_id, what

    def waited(self, name, kind, noun, stub, job_id):
        """wait_job; (True, the final record) or, when the wait got no answer, (False, None) after a
        failure."""
        try:
            return True, self.wait_job(stub, job_id)
        except self.grpc.RpcError as e:
            check(False, "%s: the wait for %s %d got no answer: %s %s" % (name, noun, job_id, e.code(), e.details()))
            self.record(kind, job_id, None, "no answer")
            return False, None

    def waiter(self, name, stop):
        """CreateJob + GetJob(wait_timeout_ms=60000), until refused."""
        rng = random.Random(name)
        thresholds = (rng.randrange(-99999, 99999) for _ in itertools.count())
        requests = (({"table_name": "load", "view_name": "", "expression": "k > %d" % t}, t) for t in thresholds)
        for stub, job_id, threshold in self.jobs_until_refused(name, stop, "/filter", requests):
            answered, job = self.waited(name, "waiter", "job", stub, job_id)
            if not answered:
                return
            check(job is not None and job.job_status in FINAL,
                  "%s: job %d: %s" % (name, job_id, job.job_status if job else None))
            self.check_filter(job, threshold)
            self.record("waiter", job_id, job)
            self.count_done(name)

    def watcher(self, name, stop):
        """CreateJob + WatchJob to the end of the stream, until refused."""
        requests = itertools.repeat(({"table_name": "load", "column_name": "k", "stats": "count"}, None))
        for stub, job_id, _ in self.jobs_until_refused(name, stop, "/aggregate/statistics", requests):
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
                self.refused_call(name, "Execute", e)
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
        requests = (({"table_name": "ins", "list_str": [json.dumps({"a": n * 10 + i}) for i in range(10)],
                      "list_encoding": "json"}, None) for n in itertools.count())
        for stub, job_id, _ in self.jobs_until_refused(name, stop, "/insert/records", requests):
            answered, job = self.waited(name, "insert", "insert", stub, job_id)
            if not answered:
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
            stop.wait(0.05)  # sampling the states over the grace, until the process exits

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


def run(pb, rpc, proc, address):
    import grpc

    t = Lifecycle(pb, rpc, address)
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
    # Every client has had jobs done.
    with t.lock:
        t.completed_changed.wait_for(lambda: len(t.completed) == len(workers), timeout=60)
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
        check(exited <= GRACE_S + EXIT_SLACK_S, "the server exited %.1f s after SIGTERM (grace %.0f s)" % (exited, GRACE_S))
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

    # During the grace: NOT_SERVING, and CreateJob refused with UNAVAILABLE; once health said
    # NOT_SERVING it never says SERVING again, and once a CreateJob was refused none is accepted.
    # (Probes sent before the server acted on the signal may still see it serving.)
    first_not_serving = next((i for i, p in enumerate(probes) if p[1] == "NOT_SERVING"), len(probes))
    served_after = [p for p in probes[first_not_serving:] if p[1] == "SERVING"]
    check(not served_after, "health said SERVING during shutdown: %r" % served_after[:3])
    not_serving = [p for p in probes if p[1] == "NOT_SERVING" and p[0] < GRACE_S]
    check(not_serving, "health never said NOT_SERVING during the grace: %r" % probes[:5])
    first_refused = next((i for i, p in enumerate(probes) if p[2][0] == "UNAVAILABLE"), len(probes))
    accepted = [p for p in probes[first_refused:] if p[2][0] == "accepted"]
    check(not accepted, "a new job was accepted during shutdown: %r" % accepted[:3])
    refused = [p for p in probes if p[2][0] == "UNAVAILABLE" and "shutting down" in p[2][1]]
    check(refused, "no CreateJob during the grace got UNAVAILABLE 'shutting down': %r" % probes[:5])
    # A probe sent as the grace ends may meet the listener closing: CANCELLED, as for load clients.
    other = [p for p in probes if p[2][0] not in ("accepted", "UNAVAILABLE")
             and not (p[2][0] == "CANCELLED" and p[0] >= GRACE_S - 0.25)]
    check(not other, "CreateJob during shutdown failed otherwise: %r" % other[:3])

    print("test_lifecycle: exit %.2f s after SIGTERM; scans %d DONE, %d CANCELLED (%d while running); jobs %r; "
          "%d Execute answers; %d refused; %d probes" %
          (exited, done, SCANS - done, while_running, states, len(t.executes), t.refused, len(probes)), flush=True)


def openmp_spin(binary):
    """Started without OMP_WAIT_POLICY or GOMP_SPINCOUNT, the server runs itself again with
    GOMP_SPINCOUNT=10000 (OpenMP's threads spin briefly between kernels, then sleep), under its own
    name; with either set, it keeps what it was given."""
    saved = {k: os.environ.pop(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ}
    try:
        for given, expected in (({}, "GOMP_SPINCOUNT=10000"), ({"OMP_WAIT_POLICY": "passive"}, None),
                                ({"GOMP_SPINCOUNT": "5"}, "GOMP_SPINCOUNT=5")):
            os.environ.update(given)
            server = start_server(binary, ["--devices=host:1"])
            try:
                with open("/proc/%d/environ" % server.proc.pid, "rb") as f:
                    env = [v.decode() for v in f.read().split(b"\0")]
                spin = [v for v in env if v.startswith("GOMP_SPINCOUNT=")]
                check(spin == ([expected] if expected else []),
                      "given %r, the server runs with %r, expected %r" % (given, spin, expected))
                with open("/proc/%d/comm" % server.proc.pid) as f:
                    name = f.read().strip()
                check(name == os.path.basename(binary)[:15], "the server's process is named %r" % name)
            finally:
                server.stop()
            for k in given:
                del os.environ[k]
    finally:
        os.environ.update(saved)


def run_against(binary, tmp, pb, rpc):
    openmp_spin(binary)
    server = start_server(binary, ["--devices=host:1", "--streams-per-device=1", "--chunk-rows=%d" % CHUNK_ROWS,
                                   "--shutdown-grace=%ds" % GRACE_S])
    try:
        run(pb, rpc, server.proc, server.address)
    finally:
        server.kill_if_running()
        check(server.printed("shutting down"), "server did not report the signal: %r" % server.output)
        check(server.printed("stopped"), "server did not report that it stopped: %r" % server.output)


def main():
    return run_main(__doc__, "test_lifecycle", ["grpc_health.v1.health_pb2", "grpc_reflection.v1alpha.reflection_pb2"],
                    "grpcio, grpcio-tools, grpcio-health-checking and grpcio-reflection", run_against)


if __name__ == "__main__":
    sys.exit(main())
