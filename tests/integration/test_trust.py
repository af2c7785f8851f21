# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust, round 3: the fleet playbooks over the dynamic inventory move racks to their group_vars targets; one
release per run (a release published mid-run reaches no batch); regions read concurrently."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import localaws
from conftest import BIN, REPO
from safety import RACK_TEMPLATE, rack_stack, run_tasks, write_channel

PLAYBOOKS = os.path.join(REPO, "playbooks")


def version(aws, rack, region="us-east-1"):
    stack = aws.client("cloudformation", region).describe_stacks(StackName=rack)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]


def dynamic_inventory(tmp_path, channel, regions=("us-east-1", "eu-west-1")):
    """The documented layout: a racks.yml and, beside it, group_vars/all.yml holding the targets."""
    root = tmp_path / "fleet"
    (root / "group_vars").mkdir(parents=True)
    (root / "fleet.racks.yml").write_text("plugin: convox.rack.racks\nregions: [%s]\n" % ", ".join(regions))
    (root / "group_vars" / "all.yml").write_text(
        "ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "rack_channel: %s\nrack_version: latest\nrack_termination_protection: false\nconvox_poll_interval: 1\n"
        % channel)
    return str(root)


def test_group_vars_targets_move_the_racks_of_the_dynamic_inventory(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "east", org="acme")
    rack_stack(aws, "west", org="acme", region="eu-west-1")
    inventory = dynamic_inventory(tmp_path, channel)
    listing = json.loads(subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", inventory, "--list"],
                                        env=aws.env(), capture_output=True, text=True, check=True).stdout)
    assert sorted(listing["version_1"]["hosts"]) == ["east", "west"]          # groups by the current release
    out = aws.playbook(os.path.join(PLAYBOOKS, "releases.yml"), inventory=inventory, cwd=REPO)
    assert "east             1                2                1" in out, out
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=inventory, cwd=REPO,
                       extra_vars={"convox_report_dir": str(tmp_path / "report")})
    assert "release of this run: latest = 2 in %s" % channel in out, out
    assert "0 failed, 2 updated, 0 up to date, 0 skipped" in out, out[-3000:]
    assert version(aws, "east") == "2" and version(aws, "west", "eu-west-1") == "2"


def test_one_release_per_run_whatever_is_published_meanwhile(aws, tmp_path):
    root = tmp_path / "channel"
    channel = write_channel(str(root), ["1", "2"])
    racks = ["r1", "r2", "r3"]
    for rack in racks:
        rack_stack(aws, rack)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "latest", "rack_termination_protection": False,
                 "convox_poll_interval": 1},
        "hosts": dict.fromkeys(racks), "children": {"canary": {"hosts": {"r1": None}}}}}))
    localaws.set_timing(aws.endpoint, seconds=3)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), os.path.join(PLAYBOOKS, "update.yml"),
           "-e", json.dumps({"convox_batch_size": 1, "convox_report_dir": str(tmp_path / "report")})]
    proc = subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while not any(t[2] == "r1" and t[3] == "UPDATE_IN_PROGRESS"
                      for t in localaws.transitions(aws.endpoint)["transitions"]):
            assert time.time() < deadline and proc.poll() is None, "the canary never started"
            time.sleep(0.2)
        # release 3 is published while the canary updates: untested by the canary, it reaches no batch of this run
        write_channel(str(root), ["1", "2", "3"], racks={"3": dict(RACK_TEMPLATE, Description="three")})
        out = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-4000:]
    first = out.index("release of this run: latest = 2 in %s" % channel)
    assert first < out.index("PLAY [Canary]")
    assert [version(aws, rack) for rack in racks] == ["2", "2", "2"], out[-3000:]
    # the next run takes the new release
    localaws.set_timing(aws.endpoint, seconds=0)
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=str(inventory), cwd=REPO,
                       extra_vars={"convox_report_dir": str(tmp_path / "report")})
    assert "release of this run: latest = 3 in %s" % channel in out
    assert [version(aws, rack) for rack in racks] == ["3", "3", "3"]


def test_regions_are_read_concurrently(aws, tmp_path):
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
               "eu-central-1", "eu-north-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
               "ap-northeast-3", "ap-south-1", "ca-central-1", "sa-east-1", "eu-south-1", "af-south-1", "me-south-1"]
    rack_stack(aws, "east")
    rack_stack(aws, "tokyo", region="ap-northeast-1")
    inventory = tmp_path / "fleet.racks.yml"
    inventory.write_text("plugin: convox.rack.racks\nregions: [%s]\n" % ", ".join(regions))
    localaws.post(aws.endpoint, "/_localaws/faults", {"latency": 0.5})
    try:
        listing = json.loads(subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(inventory), "--list"],
                                            env=aws.env(), capture_output=True, text=True, check=True).stdout)
        stats = localaws.post(aws.endpoint, "/_localaws/faults/stats", {})
    finally:
        localaws.post(aws.endpoint, "/_localaws/faults", {})
    assert sorted(listing["_meta"]["hostvars"]) == ["east", "tokyo"]
    # twenty regions at 0.5 s each: read one after another, never more than one request would be in flight
    assert stats["max_in_flight"] >= 10, stats


# -- no lost updates (real-duration) ---------------------------------------------------------------------------
def params(aws, rack, region="us-east-1"):
    stack = aws.client("cloudformation", region).describe_stacks(StackName=rack)["Stacks"][0]
    return stack["StackStatus"], {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def start_site(aws, tmp_path, channel, racks, **hostvars):
    """site.yml over ``racks`` one at a time (max_concurrent 1), in the background."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "latest", "rack_termination_protection": False,
                 "convox_poll_interval": 1, "convox_max_concurrent": 1},
        "hosts": {rack: hostvars.get(rack) for rack in racks}}}))
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), os.path.join(PLAYBOOKS, "site.yml")]
    return subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(aws, rack, status, proc, timeout=120):
    deadline = time.time() + timeout
    while not any(t[2] == rack and t[3] == status for t in localaws.transitions(aws.endpoint)["transitions"]):
        assert time.time() < deadline and proc.poll() is None, "%s never reached %s" % (rack, status)
        time.sleep(0.2)


def finish(proc):
    try:
        out = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    return out


def test_a_value_changed_after_the_listing_is_never_overwritten(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "a")
    rack_stack(aws, "b")
    localaws.set_timing(aws.endpoint, seconds=3)
    proc = start_site(aws, tmp_path, channel, ["a", "b"])
    try:
        wait_for(aws, "a", "UPDATE_IN_PROGRESS", proc)
        # while a updates (and b waits its turn, planned from the batch's listing), someone changes b's Size
        aws.client("cloudformation").update_stack(
            StackName="b", UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True},
                        {"ParameterKey": "Size", "ParameterValue": "large"}])
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out[-4000:]
    assert params(aws, "a") == ("UPDATE_COMPLETE", {"Version": "2", "Size": "small"})
    assert params(aws, "b") == ("UPDATE_COMPLETE", {"Version": "2", "Size": "large"}), out[-3000:]


def test_a_status_changed_after_the_listing_is_handled_as_found(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "a")
    rack_stack(aws, "b")
    localaws.set_timing(aws.endpoint, seconds=3)
    proc = start_site(aws, tmp_path, channel, ["a", "b"], b={"rack_recover": True})
    try:
        wait_for(aws, "a", "UPDATE_IN_PROGRESS", proc)
        aws.set_stack(stack_name="b", status="UPDATE_ROLLBACK_FAILED", reason="a resource could not be rolled back")
    finally:
        out = finish(proc)
    assert proc.returncode == 0, out[-4000:]
    assert params(aws, "b") == ("UPDATE_COMPLETE", {"Version": "2", "Size": "small"}), out[-3000:]
    events = aws.client("cloudformation").describe_stack_events(StackName="b")["StackEvents"]
    assert any(e.get("ResourceStatusReason") == "Continue update rollback" for e in events)   # recovered first


# -- honest results ----------------------------------------------------------------------------------------------
def rack_task(**args):
    return {"convox.rack.rack": dict({"termination_protection": False}, **args)}


def drop_requests(aws, share):
    localaws.post(aws.endpoint, "/_localaws/faults", {"drop": share} if share else {})


def test_an_endpoint_unreachable_mid_wait_is_waited_out_then_reported_with_changed(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "calm")
    rack_stack(aws, "stormy")
    localaws.set_timing(aws.endpoint, seconds=4)
    play = tmp_path / "update.yml"

    def update(rack, timeout):
        play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
            dict(rack_task(name=rack, channel=channel, version="2", wait_timeout=timeout), register="out",
                 ignore_errors=True),
            {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(tmp_path / "result.json")}}]}]))
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(REPO, "tests", "integration", "inventory.yml"),
               str(play)]
        return subprocess.Popen(cmd, cwd=REPO, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    # unreachable for a while: the wait outlasts it and the task ends as it would have
    proc = update("calm", 120)
    try:
        wait_for(aws, "calm", "UPDATE_IN_PROGRESS", proc)
        drop_requests(aws, 1.0)
        time.sleep(12)
        drop_requests(aws, 0)
    finally:
        out = finish(proc)
        drop_requests(aws, 0)
    result = json.loads((tmp_path / "result.json").read_text())
    assert not result.get("failed") and result["changed"] is True, out[-3000:]
    assert result["rack"]["version"] == "2" and [s["status"] for s in result["steps"]] == ["UPDATE_COMPLETE"]

    # unreachable until the wait ends: a failure that says it changed the rack, and where the rack was last seen
    proc = update("stormy", 15)
    try:
        wait_for(aws, "stormy", "UPDATE_IN_PROGRESS", proc)
        drop_requests(aws, 1.0)
        out = finish(proc)
    finally:
        drop_requests(aws, 0)
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failed"] is True and result["changed"] is True, out[-3000:]
    assert result["msg"].startswith("stack ") and "could not be read until the wait ended after 15 seconds" in result["msg"]
    assert result["rack"]["name"] == "stormy" and result["steps"][0]["from"] == "1" and result["steps"][0]["to"] == "2"
    assert version(aws, "stormy") == "2"            # CloudFormation did its part meanwhile


def test_an_async_job_past_its_limit_says_so_and_a_rerun_converges(aws, tmp_path):
    """The modules run under Ansible's own async: a job past its limit fails with ansible-core's words while
    CloudFormation still works on the stack, and running the task again waits for that update and converges."""
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "slow")
    localaws.set_timing(aws.endpoint, seconds=8)
    env = {"ANSIBLE_ASYNC_DIR": str(tmp_path / "async")}
    late, = run_tasks(aws, tmp_path, [dict(rack_task(name="slow", channel=channel, version="2"), **{
        "async": 3, "poll": 1})], env=env)
    assert late["failed"] is True, late
    # ansible-core words it one of two ways, by which of its processes notices first (its poll loop, or
    # async_wrapper's watchdog killing the job)
    assert late["msg"].startswith("async task did not complete within the requested time - 3s") \
        or late["msg"] == "Timeout exceeded", late["msg"]
    again, = run_tasks(aws, tmp_path, [rack_task(name="slow", channel=channel, version="2")], env=env,
                       name="again.yml")
    assert not again.get("failed"), again.get("msg")
    assert version(aws, "slow") == "2" and again["rack"]["status"] == "UPDATE_COMPLETE"


def test_an_app_that_fails_after_its_rack_installed_reports_changed(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    res, = run_tasks(aws, tmp_path, [rack_task(name="host", channel=channel,
                                               apps=[{"name": "web1", "parameters": {"Nope": "1"}}])])
    assert res["failed"] is True and res["changed"] is True, res
    assert res["msg"].startswith('app web1 on rack host: parameter "Nope" is not declared'), res["msg"]
    assert res["rack"]["version"] == "1" and res["steps"][0]["status"] == "CREATE_COMPLETE"
    assert version(aws, "host") == "1"


# -- secrets and warnings of the dry run -------------------------------------------------------------------------
SECRET = "hunter2-drops-no-echo"


def secret_releases():
    """1: a NoEcho Token, a closed security group, a narrow role, a retained bucket; 2: Token without NoEcho (and an
    output echoing it), the group open to the world, the role widened, a user with an access key whose secret is
    an output, the bucket's retention gone, the log group removed."""
    one = json.loads(json.dumps(RACK_TEMPLATE))
    one["Parameters"]["Token"] = {"Type": "String", "NoEcho": True, "Default": "unset"}
    one["Resources"]["Group"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "web", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}]}}
    one["Resources"]["Role"] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}
    two = json.loads(json.dumps(one))
    two["Parameters"]["Token"] = {"Type": "String", "Default": "unset"}
    two["Outputs"]["Token"] = {"Value": {"Ref": "Token"}}
    two["Resources"]["Group"]["Properties"]["SecurityGroupIngress"].append(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"})
    two["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    two["Resources"]["Robot"] = {"Type": "AWS::IAM::User"}
    two["Resources"]["RobotKey"] = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "Robot"}}}
    two["Outputs"]["RobotSecret"] = {"Value": {"Fn::GetAtt": ["RobotKey", "SecretAccessKey"]}}
    del two["Resources"]["Data"]["DeletionPolicy"]
    del two["Resources"]["Logs"]
    return {"1": one, "2": two}


def test_the_dry_run_warns_and_a_no_echo_value_stays_masked_everywhere(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"], racks=secret_releases())
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "1", "rack_termination_protection": False,
                 "convox_poll_interval": 1, "rack_parameters": {"Token": SECRET},
                 "rack_allow_replace": ["Logs"]},     # release 2 drops it: allowed, so the update goes on
        "hosts": {"vault": None}}}))
    report = tmp_path / "report"
    extra = {"convox_report_dir": str(report)}
    outputs = [aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), "-v", inventory=str(inventory), cwd=REPO)]
    extra["rack_version"] = "2"
    dry = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), "-v", inventory=str(inventory), cwd=REPO, check=True,
                       diff=True, extra_vars=extra)
    for warning in (
            "rack vault: release 2 drops NoEcho from parameter Token, so CloudFormation will show its value to anyone "
            "allowed to describe the stack; the collection keeps masking it (tag convox:no-echo).",
            "rack vault, step 1 -> 2: Remove AWS::Logs::LogGroup Logs would lose a stateful resource's data.",
            "rack vault, step 1 -> 2: weakens the DeletionPolicy of AWS::S3::Bucket Data from Retain to Delete (the "
            "default): its data would be deleted with it.",
            "rack vault, step 1 -> 2: opens AWS::EC2::SecurityGroup Group to ingress from 0.0.0.0/0.",
            "rack vault, step 1 -> 2: adds AWS::IAM::User Robot (IAM: it grants access).",
            "rack vault, step 1 -> 2: adds AWS::IAM::AccessKey RobotKey (IAM: it grants access).",
            "rack vault, step 1 -> 2: widens AWS::IAM::Role Role (IAM: managed policies added: "
            "arn:aws:iam::aws:policy/AdministratorAccess).",
            "rack vault, step 1 -> 2: adds output RobotSecret, which exposes an access key's secret to anyone allowed "
            "to describe the stack."):
        assert warning in " ".join(dry.split()), warning
    assert "WARNING: 1 rack with security-sensitive changes (IAM, open ingress, weaker retention, exposed " \
           "secrets, NoEcho dropped): vault" in dry
    outputs += [dry, aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), "-v", inventory=str(inventory), cwd=REPO,
                                  extra_vars=extra)]
    stack = aws.client("cloudformation").describe_stacks(StackName="vault")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Token"] == SECRET   # AWS shows it
    outputs += [aws.playbook(os.path.join(PLAYBOOKS, name), "-v", inventory=str(inventory), cwd=REPO, extra_vars=extra)
                for name in ("site.yml", "report.yml", "releases.yml")]
    files = [p.read_text() for p in report.iterdir()]
    assert sorted(p.name for p in report.iterdir()) == ["fleet-report.csv", "fleet-report.html", "fleet-report.json",
                                                        "fleet-update.json"]
    for text in outputs + files:
        assert SECRET not in text


# -- a forced republish leaves a trace ------------------------------------------------------------------------------
def test_racks_on_a_republished_release_are_not_up_to_date_until_they_take_it_again(aws, tmp_path):
    channel = "file://%s" % (tmp_path / "channel")
    for name, description in (("one", "first"), ("two", "first")):
        src = tmp_path / name
        src.mkdir()
        (src / "rack.json").write_text(json.dumps(dict(RACK_TEMPLATE, Description=description)))
        (src / "app.json").write_text(json.dumps({"Parameters": {"Rack": {"Type": "String"},
                                                                 "Version": {"Type": "String"}},
                                                  "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    run_tasks(aws, tmp_path, [{"convox.rack.rack_release": {"channel": channel, "version": "1", "src": str(tmp_path / "one")}},
                              rack_task(name="steady", channel=channel)])
    (tmp_path / "two" / "rack.json").write_text(json.dumps(dict(RACK_TEMPLATE, Description="second")))
    refused, forced, info = run_tasks(aws, tmp_path, [
        {"convox.rack.rack_release": {"channel": channel, "version": "1", "src": str(tmp_path / "two")}},
        {"convox.rack.rack_release": {"channel": channel, "version": "1", "src": str(tmp_path / "two"), "force": True}},
        {"convox.rack.rack_release_info": {"channel": channel, "rack": "steady"}}], name="republish.yml")
    assert refused["failed"] and "is already published" in refused["msg"]
    assert forced["changed"] and forced["release"]["republished"]
    assert info["up_to_date"] is False and info["path"] == ["1"] and info["republished"] is True, info
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "rack_channel": channel, "rack_version": "latest", "convox_poll_interval": 1}, "hosts": {"steady": None}}}))
    report = tmp_path / "report"
    out = aws.playbook(os.path.join(PLAYBOOKS, "releases.yml"), inventory=str(inventory), cwd=REPO)
    assert re.search(r"steady +1 +1 +1 ", out), out
    aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), inventory=str(inventory), cwd=REPO,
                 extra_vars={"convox_report_dir": str(report)})
    assert json.loads((report / "fleet-report.json").read_text())["racks"][0]["states"] == ["behind"]
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=str(inventory), cwd=REPO,
                       extra_vars={"convox_report_dir": str(report)})
    assert "0 failed, 1 updated" in out, out[-3000:]
    template = aws.client("cloudformation").get_template(StackName="steady")["TemplateBody"]
    assert (template if isinstance(template, dict) else json.loads(template))["Description"] == "second"
    info, = run_tasks(aws, tmp_path, [{"convox.rack.rack_release_info": {"channel": channel, "rack": "steady"}}],
                      name="after.yml")
    assert info["up_to_date"] is True and "republished" not in info


# -- memory proportional to the path ----------------------------------------------------------------------------------
RSS = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print(json.dumps({"rc": proc.returncode, "out": proc.stdout[-6000:],
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0}))
"""


def padded_template(release):
    """About 50 KB of JSON (CloudFormation's request limit is 51,200 bytes) that parses into ~480 KB of objects:
    260 resources whose metadata names the release in the first."""
    resources = {"R%03d" % r: {"Type": "AWS::CloudFormation::WaitConditionHandle", "Metadata": {
        "owner": "team", "items": [{"k": "a%d" % j, "v": j} for j in range(5)], "release": release if r == 0 else 1}}
        for r in range(260)}
    return {"Parameters": {"Version": {"Type": "String"}}, "Resources": resources}


def test_a_long_path_costs_memory_of_the_path_not_of_its_templates(aws, tmp_path):
    root = tmp_path / "channel"
    root.mkdir()
    versions = ["%04d" % i for i in range(1, 1001)]
    app = json.dumps({"Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"}},
                      "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    for i, version in enumerate(versions, 1):
        (root / version).mkdir()
        (root / version / "rack.json").write_text(json.dumps(padded_template(i), separators=(",", ":")))
        (root / version / "app.json").write_text(app)
    (root / "versions.json").write_text(json.dumps([{"version": v, "description": "", "published": True,
                                                     "required": True} for v in versions]))
    aws.client("cloudformation").create_stack(
        StackName="long", TemplateBody=(root / "0001" / "rack.json").read_text(),
        Parameters=[{"ParameterKey": "Version", "ParameterValue": "0001"}],
        Tags=[{"Key": k, "Value": v} for k, v in {"System": "convox", "Type": "rack", "Rack": "long"}.items()])
    play = tmp_path / "plan.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"convox.rack.rack": {"name": "long", "channel": "file://%s" % root, "version": "latest"}, "register": "plan"},
        {"ansible.builtin.assert": {"that": ["plan.plan.path | length == 999", "plan.plan.steps | length == 999"]}}]}]))
    wrapper = tmp_path / "rss.py"
    wrapper.write_text(RSS)
    measured = json.loads(subprocess.run(
        [os.path.join(BIN, "python"), str(wrapper), os.path.join(BIN, "ansible-playbook"), "--check", "-i",
         os.path.join(REPO, "tests", "integration", "inventory.yml"), str(play)],
        env=aws.env(), capture_output=True, text=True, check=True).stdout)
    assert measured["rc"] == 0, measured["out"]
    # the whole ansible-playbook process tree: ~70 MB of Ansible and boto3, then what the path costs
    assert measured["max_rss_mb"] < 150, measured["max_rss_mb"]


# -- the report and the fleet files --------------------------------------------------------------------------------
def test_the_report_shows_unreadable_racks_as_failed_and_a_slice_as_a_slice(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    rack_stack(aws, "good")
    rack_stack(aws, "lost")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "latest"},
        "hosts": {"good": None, "lost": {"rack_channel": "file://%s" % (tmp_path / "gone")},
                  "mars": {"rack_region": "mars-north-1"}}}}))
    report = tmp_path / "report"
    report.mkdir()
    (report / "fleet-update.json").write_text("{not json")
    out = aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), inventory=str(inventory), cwd=REPO,
                       extra_vars={"convox_report_dir": str(report)})
    assert "fleet-update.json is not a fleet-update.json" in " ".join(out.split()), out
    rows = {r["rack"]: r for r in json.loads((report / "fleet-report.json").read_text())["racks"]}
    assert rows["good"]["states"] == ["ok"]
    assert rows["lost"]["states"] == ["failed"] and "has no versions.json" in rows["lost"]["error"]
    assert rows["mars"]["states"] == ["failed"] and 'region "mars-north-1" is not an AWS region' in rows["mars"]["error"]
    assert json.loads((report / "fleet-report.json").read_text())["scope"] == ""
    aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), "-l", "good", inventory=str(inventory), cwd=REPO,
                 extra_vars={"convox_report_dir": str(report)})
    sliced = json.loads((report / "fleet-report.json").read_text())
    assert [r["rack"] for r in sliced["racks"]] == ["good"]
    assert sliced["scope"] == "slice -l good: 1 of the 3 racks of the inventory"
    assert "slice -l good: 1 of the 3 racks of the inventory" in (report / "fleet-report.html").read_text()


def test_a_report_dir_that_is_not_a_directory_is_refused_before_any_change(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "good")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "latest"}, "hosts": {"good": None}}}))
    not_a_dir = tmp_path / "report"
    not_a_dir.write_text("")
    rec = aws.recording.mark()
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2,
                       extra_vars={"convox_report_dir": str(not_a_dir)})
    assert "convox_report_dir %s is not a writable directory" % not_a_dir in out, out
    assert rec.mutating(include_plan=True) == [] and version(aws, "good") == "1"


def test_the_report_goes_next_to_the_inventory_whatever_the_current_directory(aws, tmp_path):
    """Without convox_report_dir the report is written to fleet-report/ beside the inventory, not to the shell's
    current directory (which under AWX or a CI job is nobody's choice)."""
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    rack_stack(aws, "good")
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    inventory = fleet / "hosts.yml"
    inventory.write_text(json.dumps({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "latest"}, "hosts": {"good": None}}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), inventory=str(inventory), cwd=str(elsewhere),
                       env={"PWD": str(elsewhere)})
    assert "Fleet report: %s/fleet-report/fleet-report.html" % fleet in out, out[-3000:]
    assert [r["rack"] for r in json.loads((fleet / "fleet-report" / "fleet-report.json").read_text())["racks"]] == ["good"]
    assert list(elsewhere.iterdir()) == []
    # an inventory directory: the report goes beside it, never inside it (Ansible would read its CSV and JSON as
    # inventory on the next run), so running twice reads the same one rack
    shutil.rmtree(fleet / "fleet-report")
    for dummy in range(2):
        out = aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), inventory=str(fleet), cwd=str(elsewhere),
                           env={"PWD": str(elsewhere)})
        assert "Fleet report: %s/fleet-report/fleet-report.html" % tmp_path in out, out[-3000:]
        assert "1 rack" in " ".join(out.split()) and sorted(p.name for p in fleet.iterdir()) == ["hosts.yml"], out[-3000:]
