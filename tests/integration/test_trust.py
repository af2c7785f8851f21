# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust, round 3: the fleet playbooks over the dynamic inventory move racks to their group_vars targets; one
release per run (a release published mid-run reaches no batch); regions read concurrently."""

from __future__ import annotations

import json
import os
import subprocess
import time

import localaws
from conftest import BIN, REPO
from safety import RACK_TEMPLATE, rack_stack, write_channel

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
