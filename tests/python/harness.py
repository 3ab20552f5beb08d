"""The harness of the Python tests (test_*.py here) and of benchmarks/compare_duckdb.py.

- proto_path(), generate_stubs(out_dir): gRPC stubs generated at run time (grpcio-tools) from the
  service definition the build generates: $GPUDB_PROTO when set, else <build>/proto/gpudb.proto.
- start_server(binary, args, http=...): the server binary on free ports, returned once it has
  printed its "listening" line (a Server: process, ports, the lines it printed, stop()).
- free_port(), channel(address): a port nothing listens on; a gRPC channel that is ready.
- check(), fail(), guarded(), exit_status(): failures counted, not raised, so that one test
  reports every broken check; the exit status says whether there were any.
- run_main(): a test's main: its argument (the server binary), its packages, the stubs, the body.
- poll_until(): waits for a condition that has no event to wait on, with a deadline.
- close(), sample_stats(): the numeric references the tests compare with.

Only the standard library is imported here at load time (grpc and grpc_tools when used).
"""

import importlib.resources
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- gRPC stubs -------------------------------------------------------------------

def proto_path():
    """The service definition the stubs are generated from, which the build generates: $GPUDB_PROTO, else
    <build>/proto/gpudb.proto (<build>: $GPUDB_BUILD_DIR or <repo>/build), as gpudb-cli finds it."""
    build = os.environ.get("GPUDB_BUILD_DIR") or os.path.join(REPO, "build")
    return os.environ.get("GPUDB_PROTO") or os.path.join(build, "proto", "gpudb.proto")


def generate_stubs(out_dir):
    """Writes gpudb_pb2.py and gpudb_pb2_grpc.py into out_dir, puts out_dir on sys.path and returns
    the two imported modules. Needs grpcio-tools."""
    from grpc_tools import protoc  # here, so that a missing package gives a clear message

    proto = proto_path()
    if not os.path.isfile(proto):
        raise RuntimeError("no service definition at %s (build the server, or set GPUDB_PROTO)" % proto)
    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    rc = protoc.main(["grpc_tools.protoc", "-I" + os.path.dirname(proto), "-I" + well_known,
                      "--python_out=" + out_dir, "--grpc_python_out=" + out_dir, proto])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed with status %d on %s" % (rc, proto))
    sys.path.insert(0, out_dir)
    import gpudb_pb2
    import gpudb_pb2_grpc
    return gpudb_pb2, gpudb_pb2_grpc


def channel(address, options=None, timeout=30):
    """A gRPC channel to address, once it is connected (raises grpc.FutureTimeoutError after `timeout` s)."""
    import grpc

    ch = grpc.insecure_channel(address, options=options or [])
    grpc.channel_ready_future(ch).result(timeout=timeout)
    return ch


def with_authorization(ch, value):
    """`ch` with call metadata `authorization: value` on every call (as a server with --auth-file asks)."""
    import collections
    import grpc

    class Details(collections.namedtuple("Details", ("method", "timeout", "metadata", "credentials",
                                                     "wait_for_ready", "compression")),
                  grpc.ClientCallDetails):
        pass

    class Authorize(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
        def _details(self, d):
            metadata = list(d.metadata or []) + [("authorization", value)]
            return Details(d.method, d.timeout, metadata, d.credentials, getattr(d, "wait_for_ready", None),
                           getattr(d, "compression", None))

        def intercept_unary_unary(self, continuation, details, request):
            return continuation(self._details(details), request)

        def intercept_unary_stream(self, continuation, details, request):
            return continuation(self._details(details), request)

    return grpc.intercept_channel(ch, Authorize())


# --- Checks -----------------------------------------------------------------------

failures = []
_failures_lock = threading.Lock()


def fail(message):
    """Records a failure (and keeps going)."""
    with _failures_lock:
        failures.append(message)
    print("FAIL: " + message, flush=True)


def check(condition, message):
    """Records a failure (and keeps going) unless `condition` holds; returns `condition`."""
    if not condition:
        fail(message)
    return condition


def guarded(what, fn, *args, **kwargs):
    """Runs fn; an exception is a failure (with its traceback), not a crash of the test. Returns fn's
    result, or None after an exception."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # a broken call is a failure, not a crash of the test
        traceback.print_exc()
        fail("%s: exception %r" % (what, e))
        return None


def exit_status(name):
    """0 when no check failed, else 1 (with a summary line)."""
    if failures:
        print("%s: %d check(s) failed" % (name, len(failures)), flush=True)
        return 1
    print("%s: all checks passed" % name, flush=True)
    return 0


def require(modules, packages):
    """True when every module in `modules` imports; else prints which `packages` are needed."""
    try:
        for module in modules:
            __import__(module)
    except ImportError as e:
        print("FAIL: this test needs %s in %s (%s)" % (packages, sys.executable, e), flush=True)
        return False
    return True


def run_main(doc, name, modules, packages, body):
    """The main of a test run as `test_x.py PATH/TO/gpudb-engine`: checks the arguments and that
    `modules` import (else names `packages`), generates the stubs into a temporary folder, calls
    body(binary, tmp, pb, rpc) with another folder of it (an exception is a failure) and returns
    the exit status: 0 when every check passed."""
    if len(sys.argv) != 2:
        print(doc)
        return 2
    if not require(["grpc", "grpc_tools"] + list(modules), packages):
        return 1
    with tempfile.TemporaryDirectory(prefix="gpudb_%s_" % name) as tmp:
        stubs, work = os.path.join(tmp, "stubs"), os.path.join(tmp, "work")
        os.makedirs(stubs)
        os.makedirs(work)
        modules = guarded("generating the gRPC stubs", generate_stubs, stubs)
        if modules is not None:
            guarded(name, body, sys.argv[1], work, *modules)
    return exit_status(name)


def poll_until(condition, timeout, interval=0.001, max_interval=0.05):
    """Calls condition() until it returns something other than None or False, and returns that;
    returns None once `timeout` seconds have passed first. The pause between calls doubles from
    `interval` up to `max_interval`. For conditions that have no event to wait on: a state another
    process holds, or one that time itself brings about."""
    deadline = time.monotonic() + timeout
    pause = interval
    while True:
        got = condition()
        if got is not None and got is not False:
            return got
        if time.monotonic() >= deadline:
            return None
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, max_interval)


# --- References ---------------------------------------------------------------------

def close(a, b):
    """a and b agree to 1e-9 (relative or absolute); None agrees with nothing."""
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def sample_stats(values):
    """/aggregate/statistics of `values`: count, sum, min, max, mean, variance and stdv (sample)."""
    n = len(values)
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else float("nan")
    return {"count": float(n), "sum": math.fsum(values), "min": min(values), "max": max(values),
            "mean": mean, "variance": variance, "stdv": math.sqrt(variance)}


# --- The server -----------------------------------------------------------------------

LISTENING = re.compile(r"gpudb-engine listening on ([^\s:]+):(\d+) \(gRPC[^)]*\)(?:, [^\s:]+:(\d+) \(HTTP[^)]*\))?")
START_TIMEOUT_S = 60


def free_port():
    """A port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server process: its ports, and every line it printed (on stdout; on stderr too
    when started with an HTTP port), read all along so that it never blocks on a full pipe. Each
    line after the first is echoed with a "server: " prefix."""

    def __init__(self, proc, line, match):
        self.proc = proc
        self.banner = line.strip()
        self.host = match.group(1)
        self.grpc_port = int(match.group(2))
        self.http_port = int(match.group(3)) if match.group(3) else None
        self.output = [line]
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    @property
    def address(self):
        return "%s:%d" % (self.host, self.grpc_port)

    def _read_rest(self):
        for line in self.proc.stdout:
            self.output.append(line)
            print("server: " + line, end="", flush=True)

    def printed(self, text):
        """Whether the server printed a line with `text` (complete once it has exited)."""
        if self.proc.poll() is not None:
            self._drain.join(5)
        return any(text in line for line in self.output)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self._drain.join(5)

    def terminate(self, timeout=60):
        """SIGTERM, then waits up to `timeout` s for the exit (then kills it). Returns the exit
        status, or None when it had to be killed."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._drain.join(5)
        return status

    def stop(self, timeout=60):
        """terminate(), checking that the server was still running, exited within `timeout` s with
        status 0, and reported the signal. Returns the exit status, or None."""
        if self.proc.poll() is not None:
            fail("server exited early with status %s" % self.proc.returncode)
            self._drain.join(5)
            return None
        status = self.terminate(timeout)
        if status is None:
            fail("server did not exit within %d s of SIGTERM" % timeout)
            return None
        check(status == 0, "server exited with status %d after SIGTERM" % status)
        check(self.printed("shutting down"), "server did not report the signal: %r" % self.output)
        return status

    def kill_if_running(self):
        """Kills the server when it is still running (a failure: the test meant it to have exited)."""
        if self.proc.poll() is None:
            self.kill()
            fail("the server was still running at the end")
        self._drain.join(5)


def _launch(argv, merge_stderr):
    """Starts argv; (process, its first line, the line's match or None when it is not the
    "listening" line or does not come within START_TIMEOUT_S)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else None,
                            text=True)
    first = {}
    reader = threading.Thread(target=lambda: first.update(line=proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    line = first.get("line", "")
    return proc, line, LISTENING.match(line)


def start_server(binary, args=(), http=False):
    """Starts the server binary with `args` and its ports: gRPC on a free port (--grpc-port=0); HTTP
    on a free port when `http` is True (--http-port=N, retried when another process takes the port
    first), off when False (--http-port=0), the binary's default when None. Returns a Server once
    its first line is the "listening" line; raises RuntimeError when it is not. Memory only
    (--data-dir=) unless `args` name a --data-dir."""
    if not any(str(a).startswith(("--data-dir", "--data_dir")) for a in args):
        args = ["--data-dir="] + list(args)
    for _ in range(5):
        argv = [binary, "--grpc-port=0"] + list(args)
        http_port = None
        if http:
            http_port = free_port()
            argv.append("--http-port=%d" % http_port)
        elif http is not None:
            argv.append("--http-port=0")
        # With a port of its own choosing, stderr too: a lost race for it reads "cannot listen".
        proc, line, match = _launch(argv, merge_stderr=http_port is not None)
        if match is not None:
            server = Server(proc, line, match)
            if http_port is not None:
                check(server.http_port == http_port, "HTTP port %s, asked for %d" % (server.http_port, http_port))
            return server
        proc.kill()
        proc.wait()
        if http_port is None or "cannot listen" not in line:
            break  # anything but a lost race for the port
    raise RuntimeError("server did not report its ports; first line: %r" % line)
