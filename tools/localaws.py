# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local AWS for the demo, the tests and the benchmarks: a moto server on 127.0.0.1.

    python tools/localaws.py start --state-dir DIR   # prints the endpoint; records pid + endpoint
    python tools/localaws.py stop  --state-dir DIR   # stops exactly that process
    python tools/localaws.py serve --port N          # (internal) the server process itself

The server process adds what moto lacks, behaving as AWS documents, so that the modules never
need to know they talk to an emulator:

see ``tools/motoext.py`` (termination protection, ContinueUpdateRollback, stack deletion of
route tables, atomic S3 conditional writes).

Real-duration mode (``POST /_localaws/timing`` with ``{"seconds": T, "rate": R}``; ``set_timing()``):
stack operations take T seconds, showing ``*_IN_PROGRESS`` meanwhile, and CloudFormation requests
past R per second per region are answered ``Throttling``.  ``GET /_localaws/transitions`` returns
every stack status change with its time (and the throttling counts).  Off by default: the fast
suite runs in instant mode.

It also serves a test-only endpoint, ``POST /_localaws/stack``, that puts a stack into any
status (and appends stack events), so failure paths run through ``ansible-playbook`` too, and a
fault injector (``POST /_localaws/faults``): with a fixed seed, a share of requests answered with
throttling, 5xx, added latency or a dropped connection (``/_localaws/faults/stats``: what was injected, and
``max_in_flight``, the most requests that waited out their latency at once: how concurrent a client was).  Every request is recorded with moto's
recorder (``calls()`` reads them back as service/action pairs).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import motoext  # noqa: E402


# ----------------------------------------------------------------------------------------
# The server process
# ----------------------------------------------------------------------------------------
class Faults:
    """Seeded fault injection for the reliability tests."""

    def __init__(self):
        self.configure({})

    def configure(self, spec):
        self.spec = dict(spec)
        self.rng = random.Random(spec.get("seed", 0))
        self.lock = threading.Lock()
        self.injected = {}
        self.in_flight = 0          # AWS requests being served now, and the most at once since configured
        self.max_in_flight = 0

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def pick(self, path):
        if not self.spec or path.startswith("/_localaws") or path.startswith("/moto-api"):
            return None, 0.0
        with self.lock:
            roll = self.rng.random()
            latency = float(self.spec.get("latency", 0.0))
            edge = 0.0
            for kind in ("throttle", "limit", "error500", "error503", "drop"):
                edge += float(self.spec.get(kind, 0.0))
                if roll < edge:
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    return kind, latency
        return None, latency


FAULTS = Faults()


class RateLimit:
    """An optional per-region limit on CloudFormation requests (a token bucket of ``rate`` per
    second, ``burst`` deep): past it, requests are answered ``Throttling``, as CloudFormation
    throttles DescribeStacks in a busy account and region."""

    def __init__(self):
        self.configure({})

    def configure(self, spec):
        self.rate = float(spec.get("rate") or 0.0)
        self.burst = float(spec.get("burst") or self.rate)
        self.buckets = {}
        self.throttled = {}
        self.served = {}
        self.lock = threading.Lock()

    def allow(self, environ):
        if self.rate <= 0:
            return True
        service, region = _service_of({k[5:].replace("_", "-").title(): v for k, v in environ.items()
                                       if k.startswith("HTTP_")})
        if service != "cloudformation":
            return True
        with self.lock:
            now = time.time()
            tokens, last = self.buckets.get(region, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[region] = (tokens, now)
                self.throttled[region] = self.throttled.get(region, 0) + 1
                return False
            self.buckets[region] = (tokens - 1, now)
            self.served[region] = self.served.get(region, 0) + 1
            return True


RATE = RateLimit()


class Load:
    """Where the endpoint's time goes: per CloudFormation action, the requests served, the seconds spent
    serving them (one at a time, see CFN_LOCK) and the seconds they queued for their turn; and the
    server process's CPU seconds.  Tells a slow fleet run's cost in the endpoint from the collection's."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.actions = {}
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()

    def add(self, action, queued, served):
        with self.lock:
            entry = self.actions.setdefault(action, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += served
            entry[2] += queued

    def report(self):
        with self.lock:
            actions = {k: {"requests": v[0], "served_seconds": round(v[1], 3), "queued_seconds": round(v[2], 3)}
                       for k, v in sorted(self.actions.items())}
        return {"actions": actions, "cpu_seconds": round(time.process_time() - self.cpu0, 3),
                "wall_seconds": round(time.monotonic() - self.wall0, 3)}


LOAD = Load()


def _peek_action(environ):
    """The Action of a query-protocol request, leaving its body readable for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return query_action(body.decode("utf-8", "replace"), environ.get("QUERY_STRING", "")) or "?"


def query_action(*sources):
    """The ``Action`` of a query-protocol request from its body or query string, or None."""
    for source in sources:
        if "Action=" in source:
            action = urllib.parse.parse_qs(source).get("Action", [""])[0]
            if action:
                return action
    return None


# moto's CloudFormation is not thread-safe (concurrent CreateStack calls can build one stack's
# resources from another's template state); AWS runs stacks concurrently, moto finishes each call
# at once, so serving CloudFormation calls one at a time changes nothing a client can see.
CFN_LOCK = threading.Lock()


def _is_cloudformation(environ):
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    return "/cloudformation/aws4_request" in auth


def _app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)

    def respond(start_response, code, payload, content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        start_response("%d %s" % (code, "OK" if code == 200 else "Error"),
                       [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_localaws/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if path == "/_localaws/stack":
                code, payload = motoext.set_stack(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/faults":
                FAULTS.configure(spec)
                return respond(start_response, 200, {"ok": True})
            if path == "/_localaws/faults/stats":
                return respond(start_response, 200, dict(FAULTS.injected, max_in_flight=FAULTS.max_in_flight))
            if path == "/_localaws/timing":      # real-duration mode: {"seconds": T, "rate": R, "burst": B}
                motoext.configure_timing(spec)
                RATE.configure(spec)
                LOAD.reset()
                return respond(start_response, 200, {"ok": True})
            if path == "/_localaws/transitions":
                return respond(start_response, 200, {"transitions": motoext.transitions(),
                                                     "throttled": RATE.throttled, "served": RATE.served,
                                                     "load": LOAD.report()})
            return respond(start_response, 404, {"error": "unknown"})
        if path == "/moto-api/reset":
            motoext.FAIL_UPDATES.clear()
            motoext.DRIFTS.clear()
            motoext._DETECTIONS.clear()
        if motoext.has_pending():
            with CFN_LOCK:
                motoext.settle()
        if not path.startswith("/moto-api") and not RATE.allow(environ):
            body = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>'
                    b'</Error><RequestId>rate-limit</RequestId></ErrorResponse>')
            return respond(start_response, 400, body, "text/xml")
        kind, latency = FAULTS.pick(path)
        if latency:
            FAULTS.enter()          # how many requests wait out their latency at once: a client's concurrency
            try:
                time.sleep(latency)
            finally:
                FAULTS.leave()
        if kind == "drop":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            raise ConnectionAbortedError("fault injection: dropped connection")
        if kind in ("throttle", "limit"):
            code = "Throttling" if kind == "throttle" else "RequestLimitExceeded"
            body = ('<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>Rate exceeded</Message>'
                    '</Error><RequestId>fault</RequestId></ErrorResponse>' % code).encode()
            return respond(start_response, 400, body, "text/xml")
        if kind in ("error500", "error503"):
            code = 500 if kind == "error500" else 503
            name = "InternalFailure" if code == 500 else "ServiceUnavailable"
            body = ('<ErrorResponse><Error><Type>Receiver</Type><Code>%s</Code><Message>injected</Message>'
                    '</Error><RequestId>fault</RequestId></ErrorResponse>' % name).encode()
            return respond(start_response, code, body, "text/xml")
        if _is_cloudformation(environ):
            action = _peek_action(environ)
            asked = time.monotonic()
            with CFN_LOCK:
                got = time.monotonic()
                try:
                    return list(moto_app(environ, start_response))
                finally:
                    LOAD.add(action, got - asked, time.monotonic() - got)
        return moto_app(environ, start_response)

    return app


def serve(port):
    motoext.apply()
    from werkzeug.serving import run_simple

    try:
        from moto.server import MotoRequestHandler
        handler = {"request_handler": MotoRequestHandler}
    except ImportError:  # older moto
        handler = {}
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    run_simple("127.0.0.1", port, _app(), threaded=True, **handler)


# ----------------------------------------------------------------------------------------
# Controlling the server from outside
# ----------------------------------------------------------------------------------------
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(endpoint):
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/reset-auth", timeout=1) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except Exception:
        return False


def start(state_dir, env=None, timeout=60):
    """Start a server in the background; return its endpoint.  Writes pid, endpoint, log."""
    os.makedirs(state_dir, exist_ok=True)
    stop(state_dir)
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env.setdefault("MOTO_ENABLE_RECORDING", "True")
    child_env["MOTO_RECORDER_FILEPATH"] = os.path.join(os.path.abspath(state_dir), "recording.jsonl")
    open(child_env["MOTO_RECORDER_FILEPATH"], "w").close()
    child_env["MOTO_PORT"] = str(port)
    log = open(os.path.join(state_dir, "server.log"), "ab")
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=child_env, start_new_session=True)
    with open(os.path.join(state_dir, "pid"), "w") as f:
        f.write(str(proc.pid))
    with open(os.path.join(state_dir, "endpoint"), "w") as f:
        f.write(endpoint)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("local AWS exited early; see %s" % os.path.join(state_dir, "server.log"))
        if _answers(endpoint):
            return endpoint
        time.sleep(0.1)
    stop(state_dir)
    raise RuntimeError("local AWS did not answer within %d seconds" % timeout)


def stop(state_dir):
    """Stop exactly the process recorded in ``state_dir`` (if it is still ours)."""
    pid_file = os.path.join(state_dir, "pid")
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read()
        if b"localaws.py" not in cmdline:
            os.remove(pid_file)
            return False
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGTERM)
        for dummy in range(50):
            time.sleep(0.1)
            os.kill(pid, 0)
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.remove(pid_file)
    except OSError:
        pass
    return True


def post(endpoint, path, payload):
    req = urllib.request.Request(endpoint + path, data=json.dumps(payload).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def set_timing(endpoint, seconds=0.0, rate=0.0, burst=None):
    """Real-duration mode on (``seconds`` > 0) or off; ``rate``: CloudFormation requests per second
    and region before ``Throttling`` (0: no limit)."""
    return post(endpoint, "/_localaws/timing", {"seconds": seconds, "rate": rate, "burst": burst or rate})


def transitions(endpoint):
    """[(time, region, stack, status, version)] of every stack status change in real-duration mode."""
    return post(endpoint, "/_localaws/transitions", {})


def reset(endpoint):
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"), timeout=10).read()


# ----------------------------------------------------------------------------------------
# Reading the recording: which AWS calls were made
# ----------------------------------------------------------------------------------------
# DetectStackDrift reads a stack's resources and changes nothing (IAM's access level for it is Read)
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Validate", "Estimate", "Detect")
PLAN_ACTIONS = ("CreateChangeSet", "DeleteChangeSet")


def _service_of(headers):
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if "Credential=" in auth:
        parts = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(parts) >= 4:
            return parts[3], parts[2]
    return "unknown", "unknown"


def parse_call(entry):
    """(service, action, region) of one recorded request."""
    headers = entry.get("headers", {})
    service, region = _service_of(headers)
    method = entry.get("method", "GET")
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        return service, target.split(".")[-1], region
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        try:
            body = base64.b64decode(body).decode("utf-8", "replace")
        except Exception:
            body = ""
    url = entry.get("url", "")
    query = urllib.parse.urlparse(url).query
    action = query_action(body, query)
    if action:
        return service, action, region
    if service == "s3":
        parsed = urllib.parse.urlparse(url)
        segments = [part for part in parsed.path.split("/") if part]
        # path-style (a local endpoint): /bucket/key; virtual-hosted: bucket.host/key
        path_style = parsed.hostname in (None, "127.0.0.1", "localhost")
        has_key = len(segments) >= (2 if path_style else 1)
        name = {"GET": "GetObject" if has_key else "ListObjects", "HEAD": "HeadObject" if has_key else "HeadBucket",
                "PUT": "PutObject" if has_key else "CreateBucket", "DELETE": "DeleteObject" if has_key else
                "DeleteBucket", "POST": "PostObject"}.get(method, method)
        if method == "POST" and "delete" in query:
            name = "DeleteObjects"
        return service, name, region
    return service, method, region


def is_mutating(action, include_plan=False):
    if action in PLAN_ACTIONS:
        return include_plan
    return not action.startswith(READ_PREFIXES)


class Recording:
    """Calls made between ``mark()`` and ``calls()``, read from moto's recorder file."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "recording.jsonl")
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return self

    def calls(self):
        out = []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            for line in f:
                line = line.strip()
                if line:
                    out.append(parse_call(json.loads(line)))
        return out

    def mutating(self, include_plan=False):
        return [c for c in self.calls() if is_mutating(c[1], include_plan)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start")
    p.add_argument("--state-dir", required=True)
    p = sub.add_parser("stop")
    p.add_argument("--state-dir", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        serve(args.port)
    elif args.cmd == "start":
        print(start(args.state_dir))
    else:
        stop(args.state_dir)


if __name__ == "__main__":
    main()
