# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust, round 4 (issue 29), through ansible-playbook against the local endpoint, AWS state read back with boto3:
an approved plan binds everything its apply would do; site.yml and update.yml never uninstall a rack; a fleet run
sends every batch the template it pinned at its start; an uninstall's confirm names racks unambiguously; gates fail
closed and a halted fleet exits non-zero; advisory reads never block; input edges are refused whole."""

from __future__ import annotations

import json
import os
import subprocess
import time

import localaws
import pytest
from conftest import BIN, REPO
from fleets import write_fleet
from safety import RACK_TEMPLATE, entry, run_tasks, write_channel

UPDATE = os.path.join(REPO, "playbooks", "update.yml")
SITE = os.path.join(REPO, "playbooks", "site.yml")
UNINSTALL = os.path.join(REPO, "playbooks", "uninstall.yml")


def flat(text):
    """``text`` with its line breaks and runs of spaces as single spaces (Ansible wraps long warnings)."""
    return " ".join(text.split())


def versions(aws, region="us-east-1"):
    out = {}
    for stack in aws.client("cloudformation", region).describe_stacks()["Stacks"]:
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
        out[stack["StackName"]] = (stack["StackStatus"], params.get("Version"))
    return out


def fleet(tmp_path, channel, racks, hostvars=None, name="fleet.yml", **extra):
    hosts = {r: dict((hostvars or {}).get(r, {})) for r in racks}
    return write_fleet(tmp_path / name, channel, hosts, **dict({"rack_region": "us-east-1"}, **extra))


def alarm(aws, name, state="OK", region="us-east-1"):
    cloudwatch = aws.client("cloudwatch", region)
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName="Errors", Namespace="Shop", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]


# -- 1. an approved plan binds everything the apply would do ----------------------------------------------------------
BOUND = [   # (option changed after the plan was approved, its new value, the part of the fingerprint it changes)
    ("allow_replace", ["Data"], "allow_replace"),
    ("protect_stateful", False, "protect_stateful"),
    ("retain_resources", ["Data"], "retain_resources"),
    ("resources_to_skip", ["Logs"], "resources_to_skip"),
    ("notification_arns", ["arn:aws:sns:us-east-1:123456789012:ops"], "notification_arns"),
    ("role_arn", "arn:aws:iam::123456789012:role/cfn", "role_arn"),
    ("rollback_alarms", ["checkout-errors"], "rollback_alarms"),
    ("rollback_monitoring_minutes", 5, "rollback_alarms"),
    ("force", True, "force"),
    ("recover", True, "recover"),
    ("account_id", "123456789012", "where"),
    ("apps", [{"name": "web1", "state": "absent"}], "apps"),
    ("apps", [{"name": "web1", "parameters": {"Count": "3"}}], "apps"),
    ("parameters", {"Size": "large"}, "target"),
    ("tags", {"Team": "b"}, "target"),
    ("state", "absent", "state"),
]


def test_the_fingerprint_binds_every_input_of_the_apply(aws, tmp_path):
    app = {"Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"},
                          "Count": {"Type": "String", "Default": "1"}},
           "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")], app=app)
    alarm(aws, "checkout-errors")
    rack = {"name": "prod", "channel": channel, "version": "1", "termination_protection": False,
            "tags": {"Team": "a"}, "apps": [{"name": "web1"}]}
    run_tasks(aws, tmp_path, [{"convox.rack.rack": rack, "ignore_errors": False}])
    wanted = dict(rack, version="2")
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": wanted}], check=True, name="plan.yml")
    fingerprint, parts = planned["plan"]["fingerprint"], planned["plan"]["fingerprint_of"]
    before = versions(aws)
    aws.recording.mark()
    tasks = [{"convox.rack.rack": dict(wanted, expect_fingerprint=fingerprint, **{option: value})}
             for option, value, dummy in BOUND]
    results = run_tasks(aws, tmp_path, tasks, name="stale.yml")
    for (option, dummy, part), res in zip(BOUND, results):
        assert res.get("failed") and res.get("stale") and not res["changed"], (option, res.get("msg"))
        changed = sorted(k for k in parts if res["fingerprint_of"].get(k) != parts[k])
        assert part in changed, (option, changed)
    assert aws.recording.mutating() == [] and versions(aws) == before        # nothing was changed, nowhere
    # the approved plan, unchanged, is applied exactly
    applied, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(wanted, expect_fingerprint=fingerprint)}],
                         name="apply.yml")
    assert applied["changed"] and not applied.get("failed"), applied.get("msg")
    assert versions(aws) == {"prod": ("UPDATE_COMPLETE", "2"), "prod-web1": ("UPDATE_COMPLETE", "2")}


def test_an_approved_uninstall_binds_the_apps_it_deletes(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    rack = {"name": "prod", "channel": channel, "version": "1", "termination_protection": False,
            "apps": [{"name": "web1"}]}
    run_tasks(aws, tmp_path, [{"convox.rack.rack": rack, "ignore_errors": False}])
    gone = {"name": "prod", "state": "absent", "force": True}
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": gone}], check=True, name="plan.yml")
    assert planned["plan"]["action"] == "uninstall" and planned["plan"]["apps"] == ["web1"]
    # another app appears after the approval: the approved uninstall would now delete it too
    run_tasks(aws, tmp_path, [{"convox.rack.rack_app": {"name": "web2", "rack": "prod", "channel": channel},
                               "ignore_errors": False}], name="app.yml")
    before = versions(aws)
    aws.recording.mark()
    stale, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(gone, expect_fingerprint=planned["plan"]["fingerprint"])}],
                       name="stale.yml")
    assert stale["failed"] and stale["stale"] and not stale["changed"], stale.get("msg")
    assert stale["fingerprint_of"]["apps"] != planned["plan"]["fingerprint_of"]["apps"]
    assert aws.recording.mutating() == [] and versions(aws) == before
    assert sorted(before) == ["prod", "prod-web1", "prod-web2"]


def test_an_apply_as_approved_skips_what_changed_and_never_deletes(aws, tmp_path):
    """update.yml with a plan file: after the review one rack's allow_replace widens, one rack's app is set absent,
    one rack is set absent; those are skipped (stale, naming what changed; the absent one pointing at uninstall.yml),
    their buckets, apps and stacks stay, and the unchanged rack moves."""
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    racks = ["alpha", "bravo", "charlie", "delta"]
    apps = {r: {"rack_apps": [{"name": "web1"}]} for r in racks}
    site = fleet(tmp_path, channel, racks, apps)
    aws.playbook(SITE, inventory=site, cwd=REPO)
    plan_file = str(tmp_path / "plan.json")
    aws.playbook(UPDATE, inventory=site, cwd=REPO, check=True,
                 extra_vars={"rack_version": "2", "convox_plan_file": plan_file, "convox_report_dir": str(tmp_path)})
    buckets = sorted(b["Name"] for b in aws.client("s3").list_buckets()["Buckets"])
    changed = {r: dict(apps[r]) for r in racks}
    changed["bravo"]["rack_allow_replace"] = ["Data"]
    changed["charlie"]["rack_apps"] = [{"name": "web1", "state": "absent"}]
    changed["delta"]["rack_state"] = "absent"
    out = aws.playbook(UPDATE, inventory=fleet(tmp_path, channel, racks, changed, name="after.yml"), cwd=REPO,
                       expect_rc=None, extra_vars={"rack_version": "2", "convox_plan_file": plan_file,
                                                   "convox_report_dir": str(tmp_path)})
    assert "0 failed, 1 updated, 0 up to date, 3 skipped" in flat(out), out[-6000:]
    assert "plan is stale: allow_replace changed" in flat(out), out[-6000:]
    assert "plan is stale: the apps (their state, release, parameters or stacks) changed" in flat(out), out[-6000:]
    assert ("rack_state is absent, and site.yml and update.yml never uninstall a rack: to delete rack delta, run "
            "uninstall.yml") in flat(out), out[-6000:]
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "alpha-web1": ("UPDATE_COMPLETE", "2"),
                             "bravo": ("CREATE_COMPLETE", "1"), "bravo-web1": ("CREATE_COMPLETE", "1"),
                             "charlie": ("CREATE_COMPLETE", "1"), "charlie-web1": ("CREATE_COMPLETE", "1"),
                             "delta": ("CREATE_COMPLETE", "1"), "delta-web1": ("CREATE_COMPLETE", "1")}
    assert sorted(b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]) == buckets


# -- 2. only uninstall.yml deletes racks ------------------------------------------------------------------------------
def test_site_yml_never_uninstalls_a_rack(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, ["alpha", "bravo"]), cwd=REPO)
    out = aws.playbook(SITE, inventory=fleet(tmp_path, channel, ["alpha", "bravo"], {"bravo": {"rack_state": "absent"}},
                                             name="absent.yml"), cwd=REPO)
    assert "never uninstall a rack: to delete rack bravo, run uninstall.yml -l bravo -e confirm=bravo" in flat(out), out
    assert versions(aws) == {"alpha": ("CREATE_COMPLETE", "1"), "bravo": ("CREATE_COMPLETE", "1")}


# -- 3. one template per run ------------------------------------------------------------------------------------------
def test_a_release_republished_during_the_run_never_reaches_a_later_batch(aws, tmp_path):
    root = tmp_path / "channel"
    channel = write_channel(str(root), [entry("1"), entry("2")])
    racks = ["alpha", "bravo", "charlie"]
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, racks), cwd=REPO)
    localaws.set_timing(aws.endpoint, seconds=4)
    inventory = fleet(tmp_path, channel, racks, name="latest.yml", rack_version="latest")
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, UPDATE,
           "-e", json.dumps({"convox_batch_size": 1, "convox_report_dir": str(tmp_path / "r")})]
    proc = subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while versions(aws)["alpha"][0] != "UPDATE_IN_PROGRESS":            # the canary's step has started
        assert time.monotonic() < deadline and proc.poll() is None, proc.stdout.read() if proc.poll() else ""
        time.sleep(0.3)
    republished = json.loads(json.dumps(RACK_TEMPLATE))                 # release 2 republished (rack_release force)
    republished["Resources"]["Extra"] = {"Type": "AWS::SQS::Queue"}
    (root / "2" / "rack.json").write_text(json.dumps(republished))
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 2, out[-6000:]
    assert "template of release 2 in %s pinned for the run: sha256" % channel in flat(out), out[:4000]
    assert ("release 2 of channel %s changed during this run: its rack template is not the one the run pinned when it "
            "started" % channel) in flat(out), out[-6000:]
    assert "the fleet halted: release 2 of channel" in flat(out), out[-3000:]
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "bravo": ("CREATE_COMPLETE", "1"),
                             "charlie": ("CREATE_COMPLETE", "1")}
    moved = {t[2] for t in localaws.transitions(aws.endpoint)["transitions"] if t[3] == "UPDATE_IN_PROGRESS"}
    assert moved == {"alpha"}, moved
    resources = aws.client("cloudformation").list_stack_resources(StackName="alpha")["StackResourceSummaries"]
    assert "Extra" not in {r["LogicalResourceId"] for r in resources}   # the canary ran the pinned template


# -- 4. a confirm names racks unambiguously ---------------------------------------------------------------------------
def test_uninstall_refuses_a_confirm_that_matches_racks_in_two_regions(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    hostvars = {"prod-use1": {"rack_name": "prod", "rack_region": "us-east-1"},
                "prod-euw1": {"rack_name": "prod", "rack_region": "eu-west-1"}}
    inventory = fleet(tmp_path, channel, ["prod-use1", "prod-euw1"], hostvars)
    aws.playbook(SITE, inventory=inventory, cwd=REPO)
    out = aws.playbook(UNINSTALL, inventory=inventory, cwd=REPO, expect_rc=2, extra_vars={"confirm": "prod"})
    assert ("confirm entry prod is ambiguous: it matches 123456789012/eu-west-1/prod, 123456789012/us-east-1/prod; name "
            "each rack as account/region/rack") in flat(out), out[-3000:]
    assert "123456789012/us-east-1/prod" in out.split("uninstall.yml would delete:")[1][:300], out[-3000:]
    assert versions(aws) == {"prod": ("CREATE_COMPLETE", "1")}
    assert versions(aws, "eu-west-1") == {"prod": ("CREATE_COMPLETE", "1")}
    # qualified, one of them: the other is not confirmed, nothing is deleted
    out = aws.playbook(UNINSTALL, inventory=inventory, cwd=REPO, expect_rc=2,
                       extra_vars={"confirm": "123456789012/us-east-1/prod"})
    assert "confirm does not name 123456789012/eu-west-1/prod" in flat(out), out[-3000:]
    assert versions(aws, "eu-west-1") == {"prod": ("CREATE_COMPLETE", "1")}
    # both, qualified (an account/region/rack and a host name): both are deleted
    aws.playbook(UNINSTALL, inventory=inventory, cwd=REPO,
                 extra_vars={"confirm": "123456789012/us-east-1/prod, prod-euw1"})
    assert versions(aws) == {} and versions(aws, "eu-west-1") == {}


# -- 5. gates fail closed, a halted fleet exits non-zero --------------------------------------------------------------
def test_a_gate_alarm_that_does_not_exist_fails_the_preflight(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    racks = ["alpha", "bravo"]
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, racks), cwd=REPO)
    alarm(aws, "checkout-errors")
    aws.recording.mark()
    out = aws.playbook(UPDATE, inventory=fleet(tmp_path, channel, racks), cwd=REPO, expect_rc=2,
                       extra_vars={"rack_version": "2", "convox_bake_alarms": ["checkout-errors", "chekout-errors"]})
    assert ("convox_bake_alarms: no CloudWatch alarm chekout-errors in us-east-1, so the gate would not be kept; no rack "
            "was changed.") in flat(out), out[-3000:]
    out = aws.playbook(UPDATE, inventory=fleet(tmp_path, channel, racks, {"bravo": {"rack_rollback_alarms": ["nope"]}},
                                               name="rollback.yml"), cwd=REPO, expect_rc=2, extra_vars={"rack_version": "2"})
    assert "rack bravo: rollback_alarms: no CloudWatch alarm nope in us-east-1" in flat(out), out[-3000:]
    assert aws.recording.mutating() == []
    assert versions(aws) == {"alpha": ("CREATE_COMPLETE", "1"), "bravo": ("CREATE_COMPLETE", "1")}


def test_a_composite_bake_alarm_read_in_its_own_region_halts_and_the_run_fails(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    racks = ["alpha", "bravo", "charlie"]
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, racks), cwd=REPO)
    # a composite alarm of eu-west-1, given by ARN, in ALARM; an alarm of that name in us-east-1 is OK
    alarm(aws, "errors", "ALARM", region="eu-west-1")
    aws.client("cloudwatch", "eu-west-1").put_composite_alarm(AlarmName="shop-health", AlarmRule='ALARM("errors")')
    alarm(aws, "shop-health", "OK")
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-health"
    localaws.set_timing(aws.endpoint, seconds=2)
    out = aws.playbook(UPDATE, inventory=fleet(tmp_path, channel, racks), cwd=REPO, expect_rc=2,
                       extra_vars={"rack_version": "2", "convox_batch_size": 1, "convox_bake_alarms": [arn],
                                   "convox_report_dir": str(tmp_path / "r")})
    assert "fleet halted: bake alarm shop-health (123456789012/eu-west-1) was in ALARM after canary" in flat(out), out[-5000:]
    assert "the fleet halted: bake alarm shop-health (123456789012/eu-west-1)" in flat(out), out[-3000:]
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "bravo": ("CREATE_COMPLETE", "1"),
                             "charlie": ("CREATE_COMPLETE", "1")}


def test_an_alarm_in_alarm_after_the_last_batch_fails_the_run(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    racks = ["alpha", "bravo"]
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, racks), cwd=REPO)
    alarm(aws, "calm")
    alarm(aws, "late")
    report = tmp_path / "r"

    # the alarm goes off while the last batch bakes: the run ends failed, naming it, every rack moved
    out_path = tmp_path / "out.txt"
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", fleet(tmp_path, channel, racks), UPDATE,
           "-e", json.dumps({"rack_version": "2", "convox_batch_size": 1, "convox_bake_alarms": ["calm", "late"],
                             "convox_bake_minutes": 0.05, "convox_report_dir": str(report)})]
    with open(out_path, "w") as sink:
        proc = subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=sink, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while versions(aws)["bravo"][1] != "2":              # the last batch has moved
            assert time.monotonic() < deadline and proc.poll() is None, out_path.read_text()[-3000:]
            time.sleep(0.2)
        aws.client("cloudwatch").set_alarm_state(AlarmName="late", StateValue="ALARM", StateReason="errors")
        proc.wait(timeout=120)
    out = out_path.read_text()
    assert proc.returncode == 2, out[-4000:]
    assert "the fleet halted: bake alarm late (us-east-1) was in ALARM after batch 1/1" in flat(out), out[-3000:]
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "bravo": ("UPDATE_COMPLETE", "2")}


# -- 7. advisory reads never block ------------------------------------------------------------------------------------
def test_a_quota_read_that_fails_only_warns(aws, tmp_path):
    """(A 5xx after the retries: tests/unit/plugins/module_utils/test_quotas.py, without the retries' wait.)"""
    fault = "unsupported"
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    localaws.post(aws.endpoint, "/_localaws/faults", {"services": {"servicequotas": fault}})
    out = aws.playbook(SITE, inventory=fleet(tmp_path, channel, ["alpha"]), cwd=REPO,
                       extra_vars={"convox_poll_interval": 1})
    assert "reading the quota VPCs per Region (Service Quotas GetServiceQuota) failed" in flat(out), out[-3000:]
    assert ("InternalFailure" if fault == "error500" else "UnsupportedOperation") in flat(out), out[-3000:]
    assert "an advisory read, so the install goes on with AWS's published default quotas" in flat(out), out[-3000:]
    assert versions(aws) == {"alpha": ("CREATE_COMPLETE", "1")}


# -- 9. input edges ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, value, message", [
    ("account_id", "123456789012\n", 'account_id "123456789012\n" is not an AWS account id (12 digits).'),
    ("account_id", "１２３４５６７８９０１２", "is not an AWS account id (12 digits)."),
    ("assume_role_arn", "arn:aws:iam::123456789012:role/ops/../admin", "is not an IAM role ARN"),
    ("assume_role_arn", "arn:aws:iam::123456789012:role/convox\n", "is not an IAM role ARN"),
])
def test_account_ids_and_role_arns_are_matched_whole(aws, tmp_path, option, value, message):
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    aws.recording.mark()
    res, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "prod", "channel": channel, option: value}}])
    assert res["failed"] and message in res["msg"], res["msg"]
    assert [c for c in aws.recording.calls() if c[0] != "sts"] == [] and versions(aws) == {}


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink", "oversized"])
def test_a_plan_file_must_be_a_regular_file_of_bounded_size(aws, tmp_path, kind):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    aws.playbook(SITE, inventory=fleet(tmp_path, channel, ["alpha"]), cwd=REPO)
    path = tmp_path / "plan.json"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        (tmp_path / "real.json").write_text(json.dumps({"mode": "check", "plans": []}))
        path.symlink_to(tmp_path / "real.json")
    else:
        with open(path, "w") as f:
            f.write('{"mode": "check", "plans": [')
            f.write(" " * (33 * 1024 * 1024))
            f.write("]}")
    aws.recording.mark()
    out = aws.playbook(UPDATE, inventory=fleet(tmp_path, channel, ["alpha"]), cwd=REPO, expect_rc=2,
                       extra_vars={"rack_version": "2", "convox_plan_file": str(path)})
    expected = "bytes, more than a plan file holds" if kind == "oversized" else "is not a regular file"
    assert "the plan file %s " % path in flat(out) and expected in flat(out), out[-3000:]
    assert aws.recording.mutating() == [] and versions(aws) == {"alpha": ("CREATE_COMPLETE", "1")}


# -- 6. every read of a fleet run uses the rack's credentials ---------------------------------------------------------
POLICY = json.load(open(os.path.join(REPO, "docs", "iam-policy.json")))
ROLE_ARN = "arn:aws:iam::123456789012:role/convox-fleet"


def base_user_and_role(aws, role_policy):
    """An IAM user that may only assume roles, and the role convox-fleet (trusting the account) holding
    ``role_policy``; the user's keys (made while IAM is not enforced yet)."""
    iam = aws.client("iam")
    iam.create_user(UserName="base")
    iam.put_user_policy(UserName="base", PolicyName="assume-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_ARN}]}))
    iam.create_role(RoleName="convox-fleet", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.put_role_policy(RoleName="convox-fleet", PolicyName="convox-rack", PolicyDocument=json.dumps(role_policy))
    key = iam.create_access_key(UserName="base")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def s3_channel(aws, tmp_path):
    root = tmp_path / "release"
    write_channel(str(root), [entry("1"), entry("2")])
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="acme-releases")
    for path in sorted(root.rglob("*.json")):
        s3.put_object(Bucket="acme-releases", Key="stable/%s" % path.relative_to(root), Body=path.read_bytes())
    return "s3://acme-releases/stable"


def test_a_base_credential_that_may_only_assume_roles_runs_the_fleet_through_the_racks_role(aws, tmp_path):
    channel = s3_channel(aws, tmp_path)
    reader = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
              "Resource": ["arn:aws:s3:::acme-releases", "arn:aws:s3:::acme-releases/*"]}
    creds = base_user_and_role(aws, dict(POLICY, Statement=POLICY["Statement"] + [reader]))
    racks = ["alpha", "bravo"]
    inventory = fleet(tmp_path, channel, racks, rack_assume_role_arn=ROLE_ARN)
    localaws.post(aws.endpoint, "/moto-api/reset-auth", 0)
    try:
        aws.playbook(SITE, inventory=inventory, cwd=REPO, env=creds)
        out = aws.playbook(UPDATE, inventory=inventory, cwd=REPO, env=creds,
                           extra_vars={"rack_version": "latest", "convox_report_dir": str(tmp_path / "r")})
        assert "0 failed, 2 updated" in flat(out), out[-3000:]
    finally:
        localaws.post(aws.endpoint, "/moto-api/reset-auth", float("inf"))
    assert versions(aws) == {"alpha": ("UPDATE_COMPLETE", "2"), "bravo": ("UPDATE_COMPLETE", "2")}


def test_a_role_that_cannot_read_the_channel_is_named_with_the_permission(aws, tmp_path):
    channel = s3_channel(aws, tmp_path)
    statements = [dict(st, Action=[a for a in st["Action"] if a != "s3:GetObject"]) for st in POLICY["Statement"]]
    creds = base_user_and_role(aws, dict(POLICY, Statement=statements))     # the role may not read the channel
    inventory = fleet(tmp_path, channel, ["alpha"], rack_assume_role_arn=ROLE_ARN)
    localaws.post(aws.endpoint, "/moto-api/reset-auth", 0)
    try:
        out = aws.playbook(UPDATE, inventory=inventory, cwd=REPO, env=creds, expect_rc=2,
                           extra_vars={"rack_version": "latest"})
    finally:
        localaws.post(aws.endpoint, "/moto-api/reset-auth", float("inf"))
    assert ("channel s3://acme-releases/stable could not be read before the run" in flat(out)
            and "arn:aws:sts::123456789012:assumed-role/convox-fleet/" in flat(out)
            and "is not authorized to perform: s3:" in flat(out)), out[-3000:]
    assert versions(aws) == {}
