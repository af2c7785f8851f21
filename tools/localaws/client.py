# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controlling the local endpoint from outside (tests, the demo, the benchmarks): start and stop the server
process, its test-only switches (faults, real-duration timing, quotas, zones, accounts, credential lifetime), and
reading moto's recording of every request back as (service, action, region)."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


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
    tools = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child_env["PYTHONPATH"] = os.pathsep.join([tools] + [p for p in [child_env.get("PYTHONPATH")] if p])
    proc = subprocess.Popen([sys.executable, "-m", "localaws", "serve", "--port", str(port)],
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
        if b"localaws" not in cmdline:
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


def set_quotas(endpoint, region, account=None, **quotas):
    """Raise (or, with none, restore) the quotas of an account and region: ``vpcs``, ``internet_gateways``,
    ``elastic_ips``, ``nat_gateways_per_az``, ``load_balancers`` (CreateLoadBalancer refuses past it), ``iam_roles``
    (the account's in every region; CreateRole refuses past it), ``stacks``, ``vcpus`` (these two answered by Service
    Quotas, not refused), ``rules_per_load_balancer`` (ELB's DescribeAccountLimits, and CreateRule refuses past it) -
    what an approved quota increase does on AWS."""
    return post(endpoint, "/_localaws/quotas", {"region": region, "account": account, "quotas": quotas})


def publish_parameter(endpoint, name, value, region="us-east-1"):
    """AWS publishes a new value of one of its public SSM parameters (``/aws/service/...``)."""
    return post(endpoint, "/_localaws/ssm", {"name": name, "value": value, "region": region})


def set_zones(endpoint, region, zones, account=None):
    """Leave default subnets in ``zones`` only (Fn::GetAZs returns them)."""
    return post(endpoint, "/_localaws/zones", {"region": region, "account": account, "zones": list(zones)})


def set_accounts(endpoint, roles=(), credential_seconds=None):
    """Roles in other accounts, each ``{"account", "name", "trusts": account or ARN, "external_id"}`` (a role that
    ``trusts`` may assume, with that external id); ``credential_seconds``: how long assumed-role credentials live
    from now on (0: what the caller asks, as AWS does within its 900-43,200 s range).  Returns the roles' ARNs."""
    spec = {"roles": list(roles)}
    if credential_seconds is not None:
        spec["credential_seconds"] = credential_seconds
    return post(endpoint, "/_localaws/accounts", spec)["roles"]


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


def query_action(*sources):
    """The ``Action`` of a query-protocol request from its body or query string, or None."""
    for source in sources:
        if "Action=" in source:
            action = urllib.parse.parse_qs(source).get("Action", [""])[0]
            if action:
                return action
    return None


def service_of(headers):
    """(service, region) of a signed request, from its Authorization header."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if "Credential=" in auth:
        parts = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(parts) >= 4:
            return parts[3], parts[2]
    return "unknown", "unknown"


def parse_call(entry):
    """(service, action, region) of one recorded request."""
    headers = entry.get("headers", {})
    service, region = service_of(headers)
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

    def _entries(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            for line in f:
                line = line.strip()
                if line:
                    yield json.loads(line)

    def calls(self):
        return [parse_call(entry) for entry in self._entries()]

    def params(self, action):
        """The parameters of each recorded ``action`` of a query-protocol service (CloudFormation, EC2, IAM...), in
        order: {name: value} of its form body."""
        out = []
        for entry in self._entries():
            if parse_call(entry)[1] == action:
                body = entry.get("body") or ""
                if entry.get("body_encoded"):
                    body = base64.b64decode(body).decode("utf-8", "replace")
                out.append(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))
        return out

    def mutating(self, include_plan=False):
        return [c for c in self.calls() if is_mutating(c[1], include_plan)]
