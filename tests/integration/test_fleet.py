# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet playbooks over the demo inventory (6 racks, 2 orgs, 2 regions) against local AWS, run as a user runs
them: by name (``convox.rack.site``, ``.update``, ``.uninstall``, ``.demo.publish``) from the collection's tarball
installed into a collections path of its own (conftest's ``installed``)."""

from __future__ import annotations

import os
import re

import pytest
from conftest import REPO

PLAYBOOKS = os.path.join(REPO, "playbooks")
DEMO = os.path.join(PLAYBOOKS, "inventory", "demo")
RACKS = ["acme-eu", "acme-prod", "acme-staging", "globex-dev", "globex-eu", "globex-prod"]
V1, V2, V3 = "20260101000000", "20260201000000", "20260301000000"


def recap(out):
    return {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(4))}
            for m in re.finditer(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", out, re.M)}


def version(aws, rack):
    region = "eu-west-1" if rack.endswith("-eu") else "us-east-1"
    stack = aws.client("cloudformation", region).describe_stacks(StackName=rack)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]


COLLECTIONS = None       # the installed collection's path (the fixture below)


@pytest.fixture(autouse=True)
def by_name_from_the_installed_collection(installed):
    global COLLECTIONS
    COLLECTIONS = installed[1]


def run(aws, name, *args, **kw):
    """Playbook ``name`` (e.g. "demo/publish.yml") of the installed collection, by its name."""
    by_name = "convox.rack." + name[:-len(".yml")].replace("/", ".")
    env = dict(kw.pop("env", None) or {}, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    return aws.playbook(by_name, *args, inventory=DEMO, cwd=REPO, env=env, **kw)


def converge_at_v1(aws):
    """Publish the first release, converge the fleet, then publish the next two."""
    run(aws, "demo/publish.yml", extra_vars={"demo_count": 1})
    first = recap(run(aws, "site.yml"))
    rec = aws.recording.mark()
    second = recap(run(aws, "site.yml"))
    calls = rec.calls()
    # a no-op converge: the channel read once (versions.json, and the target release's template the run pins - no
    # rack reads it again: none needs it), one paginated DescribeStacks per region for every rack and app
    assert [c for c in calls if c[0] == "s3"] == [("s3", "GetObject", "us-east-1")] * 2, calls
    assert sorted(c for c in calls if c[0] == "cloudformation") == [
        ("cloudformation", "DescribeStacks", "eu-west-1"), ("cloudformation", "DescribeStacks", "us-east-1")], calls
    assert rec.mutating() == []
    run(aws, "demo/publish.yml")
    return first, second


def test_site_is_idempotent_and_update_dry_run_mutates_nothing(aws):
    first, second = converge_at_v1(aws)
    assert all(first[r]["changed"] >= 1 for r in RACKS), first
    assert all(second[r]["changed"] == 0 for r in RACKS), second   # a second site run changes nothing
    # one task per rack (its result); the preflight, the release it resolved, the batch (every rack at once) and its
    # plan run once
    assert sorted(second[r]["ok"] for r in RACKS) == [1, 1, 1, 1, 1, 5], second

    rec = aws.recording.mark()
    out = run(aws, "update.yml", check=True, diff=True)
    assert rec.mutating() == [], rec.mutating()
    assert '"release of this run: latest = %s in s3://convox-demo-releases/stable"' % V3 in out
    for rack in RACKS:
        assert re.search(r"%s: update %s -> %s via %s -> %s" % (rack, V1, V3, V2, V3), out), rack
    assert '-        "Version": "%s",' % V1 in out and '+        "Version": "%s",' % V3 in out   # the diff
    assert "0 failed, 6 to update, 0 up to date, 0 skipped" in out
    assert all(version(aws, r) == V1 for r in RACKS)

    out = run(aws, "update.yml")
    assert "0 failed, 6 updated, 0 up to date, 0 skipped" in out
    assert all(version(aws, r) == V3 for r in RACKS)
    app_versions = [{p["ParameterKey"]: p["ParameterValue"] for p in s["Parameters"]}["Version"]
                    for region in ("us-east-1", "eu-west-1")
                    for s in aws.client("cloudformation", region).describe_stacks()["Stacks"]
                    if {"Key": "Type", "Value": "app"} in s["Tags"]]
    assert app_versions == [V3] * 5, app_versions         # the apps moved with their racks, in the same task
    third = recap(run(aws, "site.yml"))
    assert all(third[r]["changed"] == 0 for r in RACKS), third


def test_a_failed_canary_stops_the_fleet(aws):
    converge_at_v1(aws)
    # a batch that fails as a whole (a bad option, so every batch does): each rack a failed line worded as the
    # module would word it, nothing changed
    rec = aws.recording.mark()
    out = run(aws, "update.yml", extra_vars={"convox_poll_interval": "often"}, expect_rc=2)
    assert re.search(r"acme-staging +acme +- +us-east-1 +- -> - +0 +failed: argument 'poll_interval' is of type str "
                     r"and we were unable to convert to float: <class 'str'> cannot be converted to a float", out), out[-3000:]
    assert "6 failed, 0 updated, 0 up to date, 0 skipped" in out
    assert rec.mutating() == [] and all(version(aws, r) == V1 for r in RACKS)
    aws.set_stack(stack_name="acme-staging", fail_updates={
        "logical_id": "Instances", "type": "AWS::AutoScaling::AutoScalingGroup",
        "reason": "Received 0 SUCCESS signal(s) out of 2"})
    rec = aws.recording.mark()
    out = run(aws, "update.yml", expect_rc=2)
    assert re.search(r"acme-staging .* failed: updating from %s to %s failed for rack acme-staging: "
                     r"AWS::AutoScaling::AutoScalingGroup Instances .*Received 0 SUCCESS signal\(s\) out of 2" % (V1, V2),
                     out), out[-3000:]
    assert "1 failed, 0 updated, 0 up to date, 5 skipped" in out
    assert re.search(r"globex-prod .* skipped: fleet halted: the canary failed", out), out[-3000:]
    assert "rack acme-staging failed: updating from" in out and "fatal: [acme-staging]" in out
    assert [r for r in RACKS if r != "acme-staging" and version(aws, r) != V1] == []
    touched = [c for c in rec.mutating() if c[1] == "UpdateStack"]
    assert len(touched) == 1, touched                     # only the canary's one attempt


def test_uninstall_needs_confirmation(aws):
    converge_at_v1(aws)
    rec = aws.recording.mark()
    out = run(aws, "uninstall.yml", "-l", "globex-dev", expect_rc=2)
    assert "to confirm, pass -e confirm=globex-dev" in out
    out = run(aws, "uninstall.yml", "-l", "globex-dev", extra_vars={"confirm": "globex-prod"}, expect_rc=2)
    assert "confirm entry globex-prod names no rack this run would delete" in " ".join(out.split())
    out = run(aws, "uninstall.yml", extra_vars={"confirm": "globex-dev"}, expect_rc=2)   # targets all six
    # refused before any AWS call but the one that names the account of what it would delete
    assert {c[1] for c in rec.calls()} <= {"GetCallerIdentity"}, rec.calls()
    rec.mark()
    run(aws, "uninstall.yml", "-l", "globex-dev", extra_vars={"confirm": "globex-dev", "convox_force": True})
    assert ("cloudformation", "DeleteStack", "us-east-1") in rec.calls()
    names = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]
             if s["StackStatus"] != "DELETE_COMPLETE"]
    assert "globex-dev" not in names and "globex-dev-sandbox" not in names and "globex-prod" in names
