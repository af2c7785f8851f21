# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real Convox racks (issue 30), through ansible-playbook against the local endpoint, with racks, apps and a channel
shaped like Convox's (tools/convox_fixtures.py: the real parameter sets and sizes of four releases, the installer's
tags, Convox's channel layout without app templates); AWS state and the recorded requests read back with boto3."""

from __future__ import annotations

import json
import os
import subprocess

import convox_fixtures as convox
import localaws
import pytest
from conftest import BIN, REPO
from safety import run_tasks

OLD, TAGGED, LATEST = "20171102200537", "20180923002725", "20260421192651"
CHANNEL = "s3://convox/release"


@pytest.fixture
def channel(aws):
    """Convox's bucket layout, in the endpoint (an s3:// copy of https://convox.s3.amazonaws.com/release)."""
    for path in convox.SSM_IMAGES:         # the sources of the SSM-typed DefaultAmi and DefaultAmiArm
        localaws.publish_parameter(aws.endpoint, path, "ami-0c55b159cbfafe1f0")
    return convox.put_channel(aws.client("s3"))


def stack(aws, name):
    return aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def tags(aws, name):
    return {t["Key"]: t["Value"] for t in stack(aws, name).get("Tags", [])}


def version(aws, name):
    return {p["ParameterKey"]: p.get("ParameterValue") for p in stack(aws, name)["Parameters"]}.get("Version")


def flat(text):
    return " ".join(text.split())


def test_convox_releases_are_a_channel_and_the_path_walks_required_releases(aws, tmp_path, channel):
    files = tmp_path / "convox"
    file_channel = convox.write_channel(str(files))
    for url in (channel, file_channel):
        info, = run_tasks(aws, tmp_path, [{"convox.rack.rack_release_info": {
            "channel": url, "current": convox.VERSIONS[0], "version": "latest"}}])
        assert not info.get("failed"), info.get("msg")
        assert [r["version"] for r in info["releases"]] == convox.VERSIONS
        assert info["latest"] == LATEST and info["path"] == [TAGGED, LATEST] and info["required"] == [TAGGED]
    # a release with only formation.json (before 20171102200537) is read from there
    assert not (files / convox.VERSIONS[0] / "rack.json").exists()
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {
        "name": "oldest", "channel": file_channel, "version": convox.VERSIONS[0], "template_bucket": "staging",
        "parameters": {"Password": "p4ssw0rd-of-thirty-characters"}}}], check=True, name="plan.yml")
    assert not planned.get("failed"), planned.get("msg")
    assert planned["plan"]["to_version"] == convox.VERSIONS[0]


def test_an_installer_made_rack_is_that_rack_and_gains_its_rack_tag_with_its_first_change(aws, tmp_path, channel):
    cfn = aws.client("cloudformation")
    password = convox.install(cfn, "acme", TAGGED)
    assert tags(aws, "acme") == {"System": "convox", "Type": "rack"}
    # listed by rack_info, found by the inventory plugin
    listed, = run_tasks(aws, tmp_path, [{"convox.rack.rack_info": {"name": "acme"}}], name="info.yml")
    assert [(r["name"], r["version"]) for r in listed["racks"]] == [("acme", TAGGED)]
    inventory = tmp_path / "fleet.racks.yml"
    inventory.write_text("plugin: convox.rack.racks\nregions: [us-east-1]\n")
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(inventory), "--list"], env=aws.env(),
                          capture_output=True, text=True, check=True, cwd=REPO)
    found = json.loads(proc.stdout)["_meta"]["hostvars"]
    current = found["acme"]["rack_current_version"]
    assert (current.get("__ansible_unsafe") if isinstance(current, dict) else current) == TAGGED, found
    # a converge with nothing to do changes nothing, not even the Rack tag
    aws.recording.mark()
    noop, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme"}}], name="noop.yml")
    assert not noop.get("failed") and not noop["changed"], noop.get("msg")
    assert aws.recording.mutating() == [] and "Rack" not in tags(aws, "acme")
    # the update: one step to the latest release, its template by URL, every other parameter kept, the Rack tag added
    aws.recording.mark()
    out = aws.playbook(str(write_play(tmp_path, {"name": "acme", "channel": channel, "version": LATEST})),
                       "-v", diff=True, expect_rc=None, inventory=os.path.join(REPO, "tests", "integration",
                                                                               "inventory.yml"))
    assert "failed=0" in out, out[-4000:]
    where = out.find(password)
    assert where < 0, out[max(where - 1500, 0):where + 200]          # never in a result, a diff or -v output
    assert '"Rack": "acme"' in out.split("TASK")[-1] or "+    \"Rack\": \"acme\"" in out, out[-4000:]
    assert version(aws, "acme") == LATEST and tags(aws, "acme")["Rack"] == "acme"
    update, = aws.recording.params("UpdateStack")
    assert update["TemplateURL"].startswith("https://convox.s3.us-east-1.amazonaws.com/release/%s/rack.json" % LATEST)
    assert "TemplateBody" not in update
    previous = sorted(update[k] for k in update if k.endswith(".ParameterKey")
                      and update.get(k.replace("ParameterKey", "UsePreviousValue")) == "true")
    assert {"Password", "ClientId"} <= set(previous), previous
    assert stack(aws, "acme")["Parameters"] and all(
        p.get("ParameterValue") != password for p in stack(aws, "acme")["Parameters"])
    # from its first change on, the rack says which outputs are secret: a converge no longer reads its template
    assert "convox:no-echo-outputs" in tags(aws, "acme"), tags(aws, "acme")
    aws.recording.mark()
    again, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme"}}], name="again.yml")
    assert not again.get("failed") and not again["changed"], again.get("msg")
    assert [c for c in aws.recording.calls() if c[1] == "GetTemplate"] == []


def write_play(tmp_path, rack):
    import yaml
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"convox.rack.rack": rack, "register": "out"}, {"ansible.builtin.debug": {"var": "out"}}]}]
    path = tmp_path / "update.yml"
    path.write_text(yaml.safe_dump(play))
    return path


def test_an_untagged_rack_of_before_2018_is_taken_over_only_with_adopt(aws, tmp_path, channel):
    convox.install(aws.client("cloudformation"), "legacy", OLD)
    assert tags(aws, "legacy") == {}
    refused, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "legacy", "channel": channel,
                                                               "version": TAGGED}}])
    assert refused["failed"] and "set adopt: true to take it over" in refused["msg"], refused["msg"]
    assert version(aws, "legacy") == OLD
    adopted, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "legacy", "channel": channel, "version": TAGGED,
                                                               "adopt": True}}], name="adopt.yml")
    assert not adopted.get("failed"), adopted.get("msg")
    assert version(aws, "legacy") == TAGGED and tags(aws, "legacy")["Rack"] == "legacy"


def test_installing_a_convox_rack_needs_its_password_and_never_shows_it(aws, tmp_path, channel):
    rack = {"name": "fresh", "channel": channel, "version": LATEST, "termination_protection": False}
    aws.recording.mark()
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": rack}], check=True, name="plan.yml")
    assert planned["failed"] and "declares a parameter with no default and no value: Password" in planned["msg"], \
        planned["msg"]
    assert "lookup('ansible.builtin.password'" in planned["msg"]
    real, = run_tasks(aws, tmp_path, [{"convox.rack.rack": rack}], name="real.yml")
    assert real["failed"] and "Password" in real["msg"]
    assert aws.recording.mutating(include_plan=True) == []
    secret = "{{ lookup('ansible.builtin.password', '/dev/null', length=30, chars=['ascii_letters', 'digits']) }}"
    installed, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, parameters={"Password": secret})}],
                           name="install.yml")
    assert not installed.get("failed"), installed.get("msg")
    value = {p["ParameterKey"]: p.get("ParameterValue") for p in stack(aws, "fresh")["Parameters"]}["Password"]
    assert value == "****"                                          # NoEcho on the stack itself
    assert installed["rack"]["outputs"]["Password"] == "****"       # an output that Refs the NoEcho parameter
    create, = aws.recording.params("CreateStack")
    assert create["TemplateURL"].startswith("https://convox.s3.us-east-1.amazonaws.com/release/%s/rack.json" % LATEST)
    assert create["Capabilities.member.1"].startswith("CAPABILITY_")


def test_a_large_template_of_a_file_channel_is_staged_in_template_bucket(aws, tmp_path):
    channel = convox.write_channel(str(tmp_path / "convox"), [TAGGED])
    rack = {"name": "staged", "channel": channel, "version": TAGGED, "termination_protection": False,
            "parameters": {"Password": "a-password-of-twenty-chars"}}
    aws.recording.mark()
    refused, = run_tasks(aws, tmp_path, [{"convox.rack.rack": rack}])
    assert refused["failed"] and "set template_bucket (host variable rack_template_bucket)" in refused["msg"], \
        refused["msg"]
    assert aws.recording.mutating() == []
    aws.client("s3").create_bucket(Bucket="acme-templates")
    done, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, template_bucket="acme-templates")}],
                      name="staged.yml")
    assert not done.get("failed"), done.get("msg")
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="acme-templates")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("convox-rack/templates/") and keys[0].endswith(".json")
    create, = aws.recording.params("CreateStack")
    assert create["TemplateURL"] == "https://acme-templates.s3.us-east-1.amazonaws.com/%s" % keys[0]


def test_convox_apps_are_the_racks_never_the_collections(aws, tmp_path, channel):
    cfn = aws.client("cloudformation")
    convox.install(cfn, "acme", TAGGED)
    convox.install(cfn, "other", TAGGED)
    convox.create_app(cfn, "acme", "website", TAGGED)
    convox.create_service(cfn, "acme", "db")
    convox.create_app(cfn, "other", "website", TAGGED)
    listed, = run_tasks(aws, tmp_path, [{"convox.rack.rack_info": {"name": "acme"}}], name="info.yml")
    apps = {a["name"]: a for a in listed["racks"][0]["apps"]}
    assert apps["website"]["version"] == TAGGED and apps["website"]["made_by"] == "convox"
    refused, = run_tasks(aws, tmp_path, [{"convox.rack.rack_app": {"name": "website", "rack": "acme",
                                                                   "channel": channel}}], name="app.yml")
    assert refused["failed"] and "was made by Convox" in refused["msg"], refused["msg"]
    before = stack(aws, "acme-website")
    updated, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme", "channel": channel, "version": LATEST}}],
                         name="update.yml")
    assert not updated.get("failed"), updated.get("msg")
    after = stack(aws, "acme-website")
    assert (after["StackStatus"], after.get("LastUpdatedTime")) == (before["StackStatus"], before.get("LastUpdatedTime"))
    # uninstall with force: every stack tagged Rack=acme (the app, the service) and the rack; nothing of other
    gone, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme", "state": "absent", "force": True}}],
                      name="gone.yml")
    assert not gone.get("failed"), gone.get("msg")
    assert sorted(gone["plan"]["apps"]) == ["db", "website"]
    live = sorted(s["StackName"] for s in cfn.describe_stacks()["Stacks"])
    assert live == ["other", "other-website"]


def test_max_steps_one_is_one_convox_rack_update(aws, tmp_path, channel):
    convox.install(aws.client("cloudformation"), "acme", TAGGED)
    run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme", "channel": channel, "version": TAGGED,
                                                    "adopt": False}}])
    planned, = run_tasks(aws, tmp_path, [{"convox.rack.rack": {"name": "acme", "channel": channel, "version": "latest",
                                                               "max_steps": 1}}], check=True, name="plan.yml")
    assert planned["plan"]["path"] == [LATEST]
    added = {p["name"]: p for p in planned["plan"]["added_parameters"]}
    assert added["DefaultAmi"]["ssm"] and "resolves %s again at every update" % convox.SSM_IMAGE in \
        added["DefaultAmi"]["note"]
    assert added["BuildMethod"]["default"] == "ec2" and not added["BuildMethod"]["ssm"]
    assert "InstanceType" not in added                     # the rack has it already: kept


def test_the_convox_v2_demo_inventory_moves_a_fleet_of_installer_made_racks(aws, tmp_path, channel):
    """playbooks/inventory/convox-v2 as it ships (the racks inventory plugin, the canary group), Convox's channel
    replaced by its s3:// copy: the canary first, then the batches, each rack one stack update to the latest release
    (through the required one the fleet is already on), each release's 222 KB template read once per batch, not once
    per rack."""
    cfn = aws.client("cloudformation")
    for name in ("staging", "prod-a", "prod-b", "prod-c"):
        convox.install(cfn, name, TAGGED)
    aws.recording.mark()
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"),
                       inventory=os.path.join(REPO, "playbooks", "inventory", "convox-v2"), cwd=REPO,
                       extra_vars={"rack_channel": channel, "convox_batch_size": 2,
                                   "convox_report_dir": str(tmp_path / "report"), "convox_poll_interval": 1})
    assert "0 failed, 4 updated" in flat(out), out[-4000:]
    assert {name: version(aws, name) for name in ("staging", "prod-a", "prod-b", "prod-c")} == dict.fromkeys(
        ("staging", "prod-a", "prod-b", "prod-c"), LATEST)
    assert all(tags(aws, name)["Rack"] == name for name in ("staging", "prod-a", "prod-b", "prod-c"))
    updates = [p["StackName"].split("/")[1] if p["StackName"].startswith("arn:") else p["StackName"]
               for p in aws.recording.params("UpdateStack")]
    assert updates[0] == "staging" and sorted(updates) == ["prod-a", "prod-b", "prod-c", "staging"]
    reads = [c for c in aws.recording.calls() if c[1] == "GetObject"]
    template_reads = len([e for e in aws.recording._entries()
                          if "/%s/rack.json" % LATEST in e.get("url", "") and e.get("method") == "GET"])
    # the preflight pins it, then the canary's batch and each of the two batches read it once: 4, for 4 racks
    assert template_reads == 4, (template_reads, reads)
