# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make test-aws`: the lifecycle tests (tests/aws) against whatever AWS account the environment's credentials
reach, in one region, every resource named with a disposable prefix, cleaned up on exit - after a failure and after
an interrupt (SIGINT, SIGTERM) too.  It creates billable resources, so it refuses to start unless
CONVOX_TEST_AWS=yes.

    CONVOX_TEST_AWS=yes                 the confirmation (nothing is called without it)
    CONVOX_TEST_AWS_REGION              the region (default: AWS_REGION, AWS_DEFAULT_REGION)
    CONVOX_TEST_AWS_PREFIX              the name prefix (default: ct<8 random hex>); a rack <prefix>, an app web1,
                                        a channel bucket <prefix>-releases-<account>
    AWS_PROFILE, AWS_ACCESS_KEY_ID...   the credentials, as for every AWS tool

Cleanup deletes only what carries the prefix: racks (with their apps and retained buckets, through the collection's
own uninstall) whose stacks have the collection's tags, and buckets whose names start with the prefix.  A stack with
the prefix that is not the collection's is reported and left alone.  Exit status: pytest's, or 3 when something of
the run could not be cleaned up (named).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CONFIRM = "CONVOX_TEST_AWS"
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{3,15}$")


class Interrupted(BaseException):
    pass


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def settings(environ):
    """(region, prefix) from the environment, or SystemExit naming what is missing: before any AWS call."""
    if environ.get(CONFIRM) != "yes":
        raise SystemExit("make test-aws creates a rack, an app and a bucket in a real AWS account, which costs money "
                         "(docs/guide.md, Running against a real account); set %s=yes to confirm." % CONFIRM)
    region = environ.get("CONVOX_TEST_AWS_REGION") or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise SystemExit("make test-aws needs a region: set CONVOX_TEST_AWS_REGION (or AWS_REGION).")
    prefix = environ.get("CONVOX_TEST_AWS_PREFIX") or "ct" + secrets.token_hex(4)
    if not PREFIX_RE.match(prefix):
        raise SystemExit("CONVOX_TEST_AWS_PREFIX %r is invalid: a lowercase letter, then 3 to 15 lowercase letters or "
                         "digits (it names a rack, its stacks and a bucket)." % prefix)
    return region, prefix


def session(region):
    import boto3
    return boto3.session.Session(region_name=region)


def ours(stack, prefix):
    """Whether a stack is one the run created: its name has the prefix and it carries the collection's tags."""
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags") or []}
    return stack["StackName"].startswith(prefix) and tags.get("System") == "convox" and \
        (tags.get("Rack") or "").startswith(prefix)


def cleanup(region, prefix, out=print):
    """Delete what the run left (racks through the collection's uninstall, with apps and retained buckets; buckets
    with the prefix); returns the names of what remains."""
    sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))
    from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, botocore_config
    from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager
    from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

    aws = session(region)
    factory = ClientFactory(lambda service: aws.client(service, config=botocore_config()), region)
    cfn = aws.client("cloudformation")
    remaining = []
    stacks = [s for page in cfn.get_paginator("describe_stacks").paginate() for s in page["Stacks"]
              if s["StackName"].startswith(prefix)]
    for stack in stacks:
        if not ours(stack, prefix):
            out("cleanup: stack %s has the prefix but not the collection's tags; left alone" % stack["StackName"])
            remaining.append(stack["StackName"])
    racks = sorted({t["Value"] for s in stacks if ours(s, prefix) for t in s["Tags"] if t["Key"] == "Rack"})
    for rack in racks:
        out("cleanup: uninstalling rack %s (with its apps and retained buckets)" % rack)
        try:
            cfn.update_termination_protection(StackName=rack, EnableTerminationProtection=False)
        except Exception:          # no rack stack (only an app), or already gone
            pass
        try:
            RackManager({"name": rack, "state": "absent", "force": True, "wait_timeout": 3600}, False, client_factory=factory,
                        warn=lambda m: out("cleanup: warning: " + m)).absent()
        except ConvoxError as exc:
            out("cleanup: rack %s: %s" % (rack, exc))
            remaining.append(rack)
    s3 = aws.client("s3")
    for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith(prefix)]:
        out("cleanup: deleting bucket %s" % bucket)
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                          for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if doomed:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            s3.delete_bucket(Bucket=bucket)
        except Exception as exc:
            out("cleanup: bucket %s: %s" % (bucket, exc))
            remaining.append(bucket)
    return remaining


def main(argv):
    region, prefix = settings(os.environ)
    identity = session(region).client("sts").get_caller_identity()
    print("make test-aws: account %s (%s), region %s, prefix %s" % (identity["Account"], identity["Arn"], region,
                                                                    prefix), flush=True)
    env = dict(os.environ, CONVOX_TEST_AWS_REGION=region, CONVOX_TEST_AWS_PREFIX=prefix,
               CONVOX_TEST_AWS_ACCOUNT=identity["Account"])
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    proc = None
    rc = 1
    started = time.monotonic()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-v",
                                 os.path.join(REPO, "tests", "aws")] + list(argv), env=env, cwd=REPO,
                                start_new_session=True)
        rc = proc.wait()
    except Interrupted as exc:
        print("make test-aws: %s, stopping the tests" % exc, flush=True)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        rc = 130
    finally:
        for sig in previous:                           # cleanup itself is not interrupted half-way
            signal.signal(sig, signal.SIG_IGN)
        print("make test-aws: cleaning up everything named %s* in %s (interrupts are ignored until it is done)"
              % (prefix, region), flush=True)
        remaining = cleanup(region, prefix)
        minutes = (time.monotonic() - started) / 60
        if remaining:
            print("make test-aws: NOT cleaned up (delete by hand): %s" % ", ".join(remaining), flush=True)
            rc = rc or 3
        else:
            print("make test-aws: cleaned up; nothing named %s* is left (%.0f minutes)" % (prefix, minutes), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
