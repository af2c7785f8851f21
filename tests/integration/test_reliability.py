# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability under faults and interruptions, against the local AWS endpoint.

* With a fixed seed, 20 % of requests answered with throttling errors and 10 % with HTTP 500/503
  (plus latency), a converge of 20 racks with apps ends with every rack and app exactly as
  declared, and a second run reports no change.  Retries come from botocore's standard retry
  mode and amazon.aws AWSRetry (plugins/module_utils/aws/_common.py), not from hand-rolled loops.
* SIGKILL of ansible-playbook in the middle of a fleet update, then a rerun: every rack converged,
  no rack or app duplicated or lost, no stack left in progress.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import localaws
from conftest import BIN, REPO, target
from fleets import fleet_vars

PLAYBOOKS = os.path.join(REPO, "playbooks")
FORMATION = os.path.join(REPO, "formation")


def fleet(tmp_path, count, channel):
    hosts, groups = {}, {"org_acme": {}, "org_globex": {}, "region_us_east_1": {}, "region_eu_west_1": {},
                         "canary": {}}
    racks = []
    for i in range(count):
        name = "%s-f%02d" % ("acme" if i % 2 == 0 else "globex", i)
        region = "us-east-1" if i % 4 < 2 else "eu-west-1"
        apps = [{"name": "app%02d" % i, "parameters": {"Count": 2}}] if i % 3 == 0 else []
        hosts[name] = {"rack_org": name.split("-")[0], "rack_region": region, "rack_apps": apps}
        groups["org_" + name.split("-")[0]][name] = None
        groups["region_" + region.replace("-", "_")][name] = None
        racks.append({"name": name, "region": region, "org": name.split("-")[0], "apps": [a["name"] for a in apps]})
    groups["canary"][racks[0]["name"]] = None
    inventory = tmp_path / "fleet"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(json.dumps(
        {"all": {"hosts": hosts, "children": {g: {"hosts": h} for g, h in groups.items()}}}))
    (inventory / "group_vars" / "all.yml").write_text(json.dumps(fleet_vars(channel, "latest")))
    return str(inventory), racks


def publish(aws, channel, versions):
    aws.playbook(target("rack_release", "publish_many.yml"), extra_vars={
        "channel": channel, "src": FORMATION, "versions": versions})


def live_stacks(aws):
    out = {}
    for region in ("us-east-1", "eu-west-1"):
        for stack in aws.client("cloudformation", region).describe_stacks()["Stacks"]:
            if stack["StackStatus"] != "DELETE_COMPLETE":
                out.setdefault(stack["StackName"], []).append(stack)
    return out


def assert_converged(aws, racks, version):
    stacks = live_stacks(aws)
    expected = {r["name"] for r in racks} | {"%s-%s" % (r["name"], a) for r in racks for a in r["apps"]}
    assert set(stacks) == expected, set(stacks) ^ expected                 # nothing lost, nothing extra
    for name, found in stacks.items():
        assert len(found) == 1, name                                        # nothing duplicated
        stack = found[0]
        assert not stack["StackStatus"].endswith("_IN_PROGRESS"), (name, stack["StackStatus"])
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        assert params["Version"] == version, (name, params["Version"])
        tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
        assert tags["System"] == "convox"


def changed_hosts(out):
    import re
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out, re.M)}


def test_converge_under_throttling_and_server_errors(aws, tmp_path):
    channel = "file://%s" % (tmp_path / "channel")
    publish(aws, channel, ["1"])
    inventory, racks = fleet(tmp_path, 20, channel)
    aws.fleet_quotas(10, "us-east-1", "eu-west-1")
    faults = {"seed": 20261123, "throttle": 0.15, "limit": 0.05, "error500": 0.05, "error503": 0.05, "latency": 0.005}
    localaws.post(aws.endpoint, "/_localaws/faults", faults)
    out = aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=inventory, cwd=REPO)
    injected = localaws.post(aws.endpoint, "/_localaws/faults/stats", {})
    localaws.post(aws.endpoint, "/_localaws/faults", faults)          # same faults, fresh sequence
    again = aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=inventory, cwd=REPO)
    localaws.post(aws.endpoint, "/_localaws/faults", {})
    # the faults really happened (a fleet run now makes few calls: one listing per region serves every
    # rack's first read, and no resource listing follows a change)
    assert sum(injected.values()) >= 10, injected
    assert set(injected) & {"throttle", "limit"} and set(injected) & {"error500", "error503"}, injected
    assert_converged(aws, racks, "1")
    assert all(changed == 0 for host, changed in changed_hosts(again).items() if host != "localhost"), again[-3000:]
    assert "failed=0" in out


def test_killed_fleet_update_converges_on_rerun(aws, tmp_path):
    channel = "file://%s" % (tmp_path / "channel")
    publish(aws, channel, ["1"])
    inventory, racks = fleet(tmp_path, 8, channel)
    aws.fleet_quotas(4, "us-east-1", "eu-west-1")
    aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=inventory, cwd=REPO)
    publish(aws, channel, ["2", "3"])
    # slow every AWS call a little so the kill lands in the middle of the update
    localaws.post(aws.endpoint, "/_localaws/faults", {"latency": 0.05})
    rec = aws.recording.mark()
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", inventory,
                             os.path.join(PLAYBOOKS, "update.yml"), "-e", "convox_batch_size=2"],
                            cwd=REPO, env=aws.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and sum(1 for c in rec.calls() if c[1] == "UpdateStack") < 5:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    localaws.post(aws.endpoint, "/_localaws/faults", {})
    updates = sum(1 for c in rec.calls() if c[1] == "UpdateStack")
    assert 5 <= updates < 2 * (8 + 3), updates                          # killed part-way through
    versions = {{p["ParameterKey"]: p["ParameterValue"] for p in s[0]["Parameters"]}["Version"]
                for s in live_stacks(aws).values()}
    assert len(versions) > 1, versions                                  # the fleet was left mixed
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=inventory, cwd=REPO)
    assert "0 failed" in out
    assert_converged(aws, racks, "3")
