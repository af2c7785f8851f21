# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make test-aws (tools/test_aws.py), pointed at the local endpoint: it refuses to start without its confirmation,
making no call; a run passes the lifecycle and leaves nothing with its prefix; a run interrupted mid-install still
cleans up everything it created - and nothing else, not even a stack with its prefix that is not the collection's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import localaws
from conftest import REPO

TOOL = os.path.join(REPO, "tools", "test_aws.py")


def start(aws, prefix, **env):
    environ = aws.env(CONVOX_TEST_AWS_PREFIX=prefix, **env)
    environ.pop("CONVOX_TEST_AWS", None) if env.get("CONVOX_TEST_AWS") is None else None
    return subprocess.Popen([sys.executable, TOOL], env={k: v for k, v in environ.items() if v is not None}, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def left(aws, prefix):
    stacks = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]
              if s["StackName"].startswith(prefix)]
    buckets = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]
    return sorted(stacks + buckets)


def test_it_refuses_to_start_without_the_confirmation_making_no_call(aws):
    rec = aws.recording.mark()
    proc = start(aws, "ctnone", CONVOX_TEST_AWS=None)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 1, out
    assert out.strip().endswith("make test-aws creates a rack, an app and a bucket in a real AWS account, which costs "
                                "money (docs/guide.md, Running against a real account); set CONVOX_TEST_AWS=yes to "
                                "confirm."), out
    assert rec.calls() == []


def test_a_run_passes_the_lifecycle_and_leaves_nothing(aws):
    aws.client("s3").create_bucket(Bucket="keep-me")
    proc = start(aws, "ctpass", CONVOX_TEST_AWS="yes")
    out = proc.communicate(timeout=900)[0]
    assert proc.returncode == 0, out[-6000:]
    assert "6 passed" in out and "account 123456789012" in out, out[-6000:]
    assert "make test-aws: cleaned up; nothing named ctpass* is left" in out, out[-3000:]
    assert left(aws, "ctpass") == []
    assert "keep-me" in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_an_interrupted_run_cleans_up_what_it_made_and_nothing_else(aws):
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="ctstop-theirs", TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}')
    localaws.set_timing(aws.endpoint, 1.0)              # real-duration: the install takes seconds, like AWS's minutes
    proc = start(aws, "ctstop", CONVOX_TEST_AWS="yes")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and "ctstop" not in [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]:
        time.sleep(0.5)
    assert cfn.describe_stacks(StackName="ctstop")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    proc.send_signal(signal.SIGTERM)                      # mid-install
    out = proc.communicate(timeout=600)[0]
    assert proc.returncode == 130, out[-6000:]
    assert "make test-aws: SIGTERM, stopping the tests" in out, out[-3000:]
    assert "cleanup: uninstalling rack ctstop (with its apps and retained buckets)" in out, out[-3000:]
    assert "cleanup: stack ctstop-theirs has the prefix but not the collection's tags; left alone" in out
    assert "make test-aws: NOT cleaned up (delete by hand): ctstop-theirs" in out, out[-3000:]
    assert left(aws, "ctstop") == ["ctstop-theirs"]
    assert cfn.describe_stacks(StackName="ctstop-theirs")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
