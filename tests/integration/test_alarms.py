# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alarm-gated updates, in real-duration mode through ansible-playbook: a canary whose rollback alarm fires
mid-step is rolled back by CloudFormation (its rollback triggers), fails naming the alarm, and the fleet halts with
no later batch started; a bake alarm in ALARM after the canary halts the fleet, naming it.  The local endpoint
watches an update's rollback triggers (an alarm set to ALARM during the update rolls it back); AWS state is read
back with boto3."""

from __future__ import annotations

import json
import os
import subprocess
import time

import localaws
import pytest
from conftest import BIN, REPO
from fleets import write_fleet
from safety import entry, write_channel

T = 8


def fleet(tmp_path, channel, **extra):
    return write_fleet(tmp_path / "fleet.yml", channel, ["alpha", "bravo", "charlie"], **dict({"rack_region": "us-east-1"}, **extra))


def alarm(aws, name, state="OK"):
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName="Errors", Namespace="Shop", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def versions(aws):
    out = {}
    for stack in aws.client("cloudformation").describe_stacks()["Stacks"]:
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        out[stack["StackName"]] = (stack["StackStatus"], params["Version"])
    return out


@pytest.fixture
def installed(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=fleet(tmp_path, channel), cwd=REPO)
    return channel


def test_a_canary_alarm_firing_mid_step_rolls_it_back_and_halts_the_fleet(aws, tmp_path, installed):
    alarm(aws, "checkout-errors")
    inventory = fleet(tmp_path, installed, rack_rollback_alarms=["checkout-errors"])
    localaws.set_timing(aws.endpoint, seconds=T)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(REPO, "playbooks", "update.yml"),
           "-e", json.dumps({"rack_version": "2", "convox_batch_size": 1, "convox_report_dir": str(tmp_path / "r")})]
    proc = subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while versions(aws)["alpha"][0] != "UPDATE_IN_PROGRESS":          # the canary's step has started
        assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read() if proc.poll() else ""
        time.sleep(0.5)
    aws.client("cloudwatch").set_alarm_state(AlarmName="checkout-errors", StateValue="ALARM", StateReason="errors")
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 2, out[-4000:]
    assert "rollback alarm checkout-errors went into ALARM, so CloudFormation rolled the step back" in out, out[-4000:]
    assert "fleet halted: the canary failed" in out, out[-4000:]
    assert versions(aws) == {"alpha": ("UPDATE_ROLLBACK_COMPLETE", "1"), "bravo": ("CREATE_COMPLETE", "1"),
                             "charlie": ("CREATE_COMPLETE", "1")}
    log = localaws.transitions(aws.endpoint)["transitions"]
    assert [t[3] for t in log if t[2] == "alpha"] == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                                                      "UPDATE_ROLLBACK_COMPLETE"]
    assert not [t for t in log if t[2] != "alpha"], log                 # no later batch started
    # the update carried the alarm as its rollback trigger
    update = [p for p in aws.recording.params("UpdateStack") if p.get("StackName", "").endswith("alpha")
              or "alpha" in p.get("StackName", "")]
    assert update and update[-1]["RollbackConfiguration.RollbackTriggers.member.1.Arn"].endswith(
        ":alarm:checkout-errors"), update


def test_a_bake_alarm_in_alarm_after_the_canary_halts_the_fleet(aws, tmp_path, installed):
    alarm(aws, "fleet-errors", "ALARM")
    localaws.set_timing(aws.endpoint, seconds=4)
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=fleet(tmp_path, installed), cwd=REPO,
                       expect_rc=None, extra_vars={"rack_version": "2", "convox_batch_size": 1,
                                                   "convox_bake_minutes": 0.02, "convox_bake_alarms": ["fleet-errors"],
                                                   "convox_report_dir": str(tmp_path / "r")})
    assert "bake: 0.02 minutes before the next batch (convox_bake_minutes)" in out, out[-4000:]
    assert "fleet halted: bake alarm fleet-errors (us-east-1) was in ALARM after canary" in out, out[-4000:]
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "bravo": ("CREATE_COMPLETE", "1"),
                             "charlie": ("CREATE_COMPLETE", "1")}
    assert {t[2] for t in localaws.transitions(aws.endpoint)["transitions"]} == {"alpha"}   # no batch after it


def test_a_rollback_alarm_that_does_not_exist_changes_nothing(aws, tmp_path, installed):
    from safety import run_tasks
    aws.recording.mark()
    result, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {
        "name": "alpha", "channel": installed, "version": "2", "rollback_alarms": ["no-such-alarm"]}}])
    assert result["failed"] and not result["changed"]
    assert result["msg"].endswith("rollback_alarms: no CloudWatch alarm named no-such-alarm in us-east-1, so it could "
                                  "not guard the update; nothing was changed."), result["msg"]
    assert aws.recording.mutating(include_plan=True) == []
