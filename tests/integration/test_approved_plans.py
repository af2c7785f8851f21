# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Approved plans: update.yml --check -e convox_plan_file=plan.json writes every rack's plan and its fingerprint;
the apply with the same file moves only the racks whose plan still holds, exactly as planned, and skips - naming what
changed - a rack changed since and a rack not in the plan; rack's expect_fingerprint refuses a stale plan changing
nothing.  Through ansible-playbook against the local endpoint, AWS state read back with boto3."""

from __future__ import annotations

import json
import os

import localaws
from conftest import REPO
from fleets import write_fleet
from safety import entry, run_tasks, write_channel


def version_of(aws, name):
    stack = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]


def inventory(tmp_path, channel, racks):
    return write_fleet(tmp_path / ("fleet-%d.yml" % len(racks)), channel, racks, rack_region="us-east-1")


def test_the_apply_moves_only_racks_whose_approved_plan_holds(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    update = os.path.join(REPO, "playbooks", "update.yml")
    fleet = inventory(tmp_path, channel, ["alpha", "bravo", "charlie"])
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=fleet, cwd=REPO)
    localaws.set_timing(aws.endpoint, seconds=4)       # real-duration mode from here on
    plan_file = str(tmp_path / "plan.json")
    aws.playbook(update, inventory=fleet, cwd=REPO, check=True,
                 extra_vars={"rack_version": "2", "convox_plan_file": plan_file})
    with open(plan_file) as f:
        written = json.load(f)
    assert written["mode"] == "check"
    plans = {row["rack"]: row for row in written["plans"]}
    assert sorted(plans) == ["alpha", "bravo", "charlie"]
    assert all(row["result"] == "planned" and len(row["fingerprint"]) == 32 for row in plans.values())
    assert all(version_of(aws, name) == "1" for name in plans)           # the dry run moved nothing

    # after the review: someone changes bravo, and delta is installed
    aws.client("cloudformation").update_stack(
        StackName="bravo", UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True},
                    {"ParameterKey": "Size", "ParameterValue": "large"}])
    fleet = inventory(tmp_path, channel, ["alpha", "bravo", "charlie", "delta"])
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), "-l", "delta", inventory=fleet, cwd=REPO)
    out = aws.playbook(update, inventory=fleet, cwd=REPO, expect_rc=None,
                       extra_vars={"rack_version": "2", "convox_plan_file": plan_file,
                                   "convox_report_dir": str(tmp_path / "report")})
    assert "0 failed, 2 updated, 0 up to date, 2 skipped" in out, out[-9000:]
    assert ("skipped: plan is stale: the stack (its status or last update), the stack's parameters changed since it was "
            "approved") in out, out[-4000:]
    assert "not in the plan (convox_plan_file)" in out, out[-4000:]
    assert {name: version_of(aws, name) for name in ("alpha", "bravo", "charlie", "delta")} == {
        "alpha": "2", "bravo": "1", "charlie": "2", "delta": "1"}
    moved = {t[2] for t in localaws.transitions(aws.endpoint)["transitions"] if t[3] == "UPDATE_IN_PROGRESS"
             and t[4] == "2"}
    assert moved == {"alpha", "charlie"}, moved                    # the skipped racks were never touched


def test_expect_fingerprint_refuses_a_stale_plan_and_applies_the_approved_one(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    rack = {"name": "prod", "channel": channel, "version": "1", "termination_protection": False}
    run_tasks(aws, tmp_path, [{"convox.rack.rack": rack, "ignore_errors": False}])
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, version="2")}], check=True, name="plan.yml")
    fingerprint = planned["plan"]["fingerprint"]
    import sys
    sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))
    from ansible_collections.convox.rack.plugins.module_utils.model._plan import BASIS
    assert sorted(planned["plan"]["fingerprint_of"]) == sorted(BASIS)
    aws.recording.mark()
    stale, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, version="2", expect_fingerprint="0" * 32)}],
                       name="stale.yml")
    assert stale["failed"] and not stale["changed"] and stale["stale"]
    assert stale["msg"] == ("the plan of rack prod is not the approved one: computed now it has fingerprint %s, not %s "
                            "(expect_fingerprint), so the stack, the channel or the task's parameters changed since it "
                            "was approved; nothing was changed." % (fingerprint, "0" * 32))
    assert aws.recording.mutating() == [] and version_of(aws, "prod") == "1"
    applied, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, version="2", expect_fingerprint=fingerprint)}],
                         name="apply.yml")
    assert applied["changed"] and not applied.get("failed"), applied.get("msg")
    assert version_of(aws, "prod") == "2"
