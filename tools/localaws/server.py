# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server process: moto's server with every part of the local endpoint applied, behind a WSGI layer that adds
the test-only switches (``/_localaws/...``: stack states, faults, real-duration timing, quotas, zones) and serves
CloudFormation one request at a time (moto's CloudFormation is not thread-safe)."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import socket
import threading
import time
from typing import Any

from . import ec2, hooks, sts, timing
from .client import query_action, service_of
from .parts import apply, reset


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

    def pick(self, path, service=None):
        if not self.spec or path.startswith("/_localaws") or path.startswith("/moto-api"):
            return None, 0.0
        # {"services": {"servicequotas": "error500"}}: every request to that service meets that fault
        always = (self.spec.get("services") or {}).get(service or "")
        if always:
            with self.lock:
                self.injected[always] = self.injected.get(always, 0) + 1
            return always, float(self.spec.get("latency", 0.0))
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
        """Whether this request is within its account and region's rate (the counts are keyed by region, and by
        ``account/region`` for an account other than the default one)."""
        if self.rate <= 0:
            return True
        service, region = _service_region(environ)
        if service != "cloudformation":
            return True
        account = _account(environ)
        key = region if account == ec2.DEFAULT_ACCOUNT else "%s/%s" % (account, region)
        with self.lock:
            now = time.time()
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[key] = (tokens, now)
                self.throttled[key] = self.throttled.get(key, 0) + 1
                return False
            self.buckets[key] = (tokens - 1, now)
            self.served[key] = self.served.get(key, 0) + 1
            return True


def _service_region(environ):
    return service_of({k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")})


def _account(environ):
    """The account a request acts in: its access key's (an assumed role's key belongs to the role's account)."""
    match = sts.ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION") or "")
    if not match:
        return ec2.DEFAULT_ACCOUNT
    from moto.iam.models import get_account_id_from
    return get_account_id_from(match.group(1))


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


def _peek_body(environ):
    """A request's body, leaving it readable for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _peek_action(environ):
    """The Action of a query-protocol request, leaving its body readable for moto."""
    return query_action(_peek_body(environ).decode("utf-8", "replace"), environ.get("QUERY_STRING", "")) or "?"


def aws_error(start_response, environ, status, code, message, service=None):
    """An error as the service's own protocol words it: JSON services (an X-Amz-Target header), S3's bare
    ``<Error>``, or the query services' ``<ErrorResponse>``."""
    body_type = "text/xml"
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": code, "message": message}).encode()
        body_type = "application/x-amz-json-1.1"
    elif service == "s3":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
                "<RequestId>localaws</RequestId></Error>" % (code, _xml(message))).encode()
    else:
        body = ('<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>'
                '<RequestId>localaws</RequestId></ErrorResponse>'
                % ("Sender" if status < 500 else "Receiver", code, _xml(message))).encode()
    start_response("%d %s" % (status, "Error"), [("Content-Type", body_type), ("Content-Length", str(len(body)))])
    return [body]


def _xml(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
                code, payload = hooks.set_stack(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/ssm":           # AWS publishes a new value of a public parameter
                code, payload = hooks.publish_parameter(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/quotas":        # {"region": R, "account": A, "quotas": {"vpcs": N, ...}}
                code, payload = ec2.configure_quotas(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/zones":         # {"region": R, "account": A, "zones": [...]}
                code, payload = ec2.configure_zones(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/accounts":     # {"roles": [{account, name, trusts, external_id}], ...}
                code, payload = sts.configure(spec)
                return respond(start_response, code, payload)
            if path == "/_localaws/faults":
                FAULTS.configure(spec)
                return respond(start_response, 200, {"ok": True})
            if path == "/_localaws/faults/stats":
                return respond(start_response, 200, dict(FAULTS.injected, max_in_flight=FAULTS.max_in_flight))
            if path == "/_localaws/timing":      # real-duration mode: {"seconds": T, "rate": R, "burst": B}
                timing.configure(spec)
                RATE.configure(spec)
                LOAD.reset()
                return respond(start_response, 200, {"ok": True})
            if path == "/_localaws/transitions":
                return respond(start_response, 200, {"transitions": timing.transitions(),
                                                     "throttled": RATE.throttled, "served": RATE.served,
                                                     "load": LOAD.report()})
            return respond(start_response, 404, {"error": "unknown"})
        if path == "/moto-api/reset":
            reset()
        if timing.has_pending():
            with CFN_LOCK:
                timing.settle()
        if not path.startswith("/moto-api"):
            service = _service_region(environ)[0]
            refusal = sts.gate(environ, service, _peek_body(environ) if service == "sts" else b"")
            if refusal is not None:
                return aws_error(start_response, environ, *refusal, service=service)
        if not path.startswith("/moto-api") and not RATE.allow(environ):
            body = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>'
                    b'</Error><RequestId>rate-limit</RequestId></ErrorResponse>')
            return respond(start_response, 400, body, "text/xml")
        kind, latency = FAULTS.pick(path, _service_region(environ)[0] if FAULTS.spec.get("services") else None)
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
        if kind in ("throttle", "limit", "error500", "error503", "unsupported"):
            status, name, message = {
                "unsupported": (400, "UnsupportedOperation" if not environ.get("HTTP_X_AMZ_TARGET")
                                else "UnsupportedOperationException", "This operation is not supported here"),
                "throttle": (400, "ThrottlingException" if environ.get("HTTP_X_AMZ_TARGET") else "Throttling",
                             "Rate exceeded"),
                "limit": (400, "RequestLimitExceeded", "Rate exceeded"),
                "error500": (500, "InternalFailure", "injected"),
                "error503": (503, "ServiceUnavailable", "injected")}[kind]
            return aws_error(start_response, environ, status, name, message)
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
    apply()
    from werkzeug.serving import run_simple

    try:
        from moto.server import MotoRequestHandler
        handler: dict[str, Any] = {"request_handler": MotoRequestHandler}
    except ImportError:  # older moto
        handler = {}
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    run_simple("127.0.0.1", port, _app(), threaded=True, **handler)
