# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safety of the racks inventory plugin: values from AWS are data, never templates (on the oldest
ansible-core meta/runtime.yml admits, in its own virtualenv, and on the newest); a host is the
stack whose Rack tag is its own name; one rack name in two regions never merges into one host; an
unreadable region fails the inventory and the fleet playbooks then refuse to run."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import BIN, OLDEST_BIN, OLDEST_ENV, REPO
from safety import RACK_TEMPLATE, create_stack, rack_stack

OLDEST = OLDEST_BIN


def cores():
    return [pytest.param(BIN, id="newest"), pytest.param(OLDEST, id="oldest")]


def core_env(aws, bindir):
    """The environment of an ansible-core install: the oldest one on its own collections (amazon.aws at its floor)."""
    return aws.env(**OLDEST_ENV) if bindir == OLDEST else aws.env()


def inventory_file(tmp_path, body="", regions=("us-east-1",)):
    path = tmp_path / "fleet.racks.yml"
    path.write_text("plugin: convox.rack.racks\nregions: [%s]\n%s" % (", ".join(regions), body))
    return str(path)


def run(bindir, args, env, check=False):
    return subprocess.run([os.path.join(bindir, args[0])] + list(args[1:]), env=env, capture_output=True, text=True,
                          check=check, timeout=600, cwd=REPO)


@pytest.mark.parametrize("bindir", cores())
def test_a_tag_is_never_templated(aws, tmp_path, bindir):
    pwned = tmp_path / "pwned"
    payload = "{{ lookup('pipe', 'touch %s') }}" % pwned
    rack_stack(aws, "inj", org=payload)
    aws.client("cloudformation").update_stack(
        StackName="inj", TemplateBody=json.dumps(RACK_TEMPLATE),
        Parameters=[{"ParameterKey": "Version", "ParameterValue": payload}],
        Tags=[{"Key": k, "Value": v} for k, v in {"System": "convox", "Type": "rack", "Rack": "inj", "Org": payload}.items()])
    inventory = inventory_file(tmp_path, "compose:\n  rack_label: rack_org ~ '/' ~ rack_current_version\n")
    play = tmp_path / "show.yml"
    play.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug:\n        msg: \"{{ rack_org }} {{ rack_current_version }} {{ rack_label }}\"\n"
                    "    - ansible.builtin.set_fact:\n        copied: \"{{ rack_org }}\"\n"
                    "    - ansible.builtin.debug:\n        msg: \"{{ copied }}\"\n")
    env = core_env(aws, bindir)
    proc = run(bindir, ["ansible-playbook", "-i", inventory, str(play)], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lookup('pipe'" in proc.stdout                      # printed as the text it is
    listing = run(bindir, ["ansible-inventory", "-i", inventory, "--list"], env, check=True).stdout
    assert "inj" in json.loads(listing)["_meta"]["hostvars"]
    assert not pwned.exists(), "a tag value was templated on the controller"
    if bindir == OLDEST:         # where the payload ran before: the dry run of a fleet update
        run(bindir, ["ansible-playbook", "-i", inventory, "playbooks/update.yml", "--check"], env)
        assert not pwned.exists(), "a tag value was templated by update.yml --check"


def test_a_host_is_the_stack_whose_rack_tag_is_its_name(aws, tmp_path):
    rack_stack(aws, "acme-prod", org="acme")
    create_stack(aws, "impostor", RACK_TEMPLATE, {"System": "convox", "Type": "rack", "Rack": "acme-prod",
                                                  "Org": "evil"}, {"Version": "666"})
    listing = json.loads(run(BIN, ["ansible-inventory", "-i", inventory_file(tmp_path), "--list"], aws.env(),
                             check=True).stdout)
    hostvars = listing["_meta"]["hostvars"]
    assert sorted(hostvars) == ["acme-prod"]
    assert hostvars["acme-prod"]["rack_org"] in ("acme", {"__ansible_unsafe": "acme"})
    assert hostvars["acme-prod"]["rack_current_version"] in ("1", {"__ansible_unsafe": "1"})
    assert "org_evil" not in listing


def test_one_rack_name_in_two_regions_never_merges(aws, tmp_path):
    rack_stack(aws, "shared", region="us-east-1", org="acme")
    rack_stack(aws, "shared", region="eu-west-1", org="acme")
    inventory = inventory_file(tmp_path, regions=("us-east-1", "eu-west-1"))
    proc = run(BIN, ["ansible-inventory", "-i", inventory, "--list"], aws.env())
    assert ("rack shared in us-east-1 of account 123456789012 and rack shared in eu-west-1 of account 123456789012 "
            "would both be host shared; set hostnames" in proc.stdout + proc.stderr), proc.stderr
    assert "shared" not in json.loads(proc.stdout)["_meta"]["hostvars"]
    out = aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=inventory, cwd=REPO, expect_rc=2)
    assert "no rack is targeted" in out

    inventory = inventory_file(tmp_path, "hostnames: '{{ rack_name }}-{{ rack_region }}'\n",
                               regions=("us-east-1", "eu-west-1"))
    listing = json.loads(run(BIN, ["ansible-inventory", "-i", inventory, "--list"], aws.env(), check=True).stdout)
    assert sorted(listing["_meta"]["hostvars"]) == ["shared-eu-west-1", "shared-us-east-1"]
    assert listing["region_eu_west_1"]["hosts"] == ["shared-eu-west-1"]


def test_an_unreadable_region_fails_the_inventory_and_the_fleet_run(aws, tmp_path):
    rack_stack(aws, "acme-prod", org="acme")
    inventory = inventory_file(tmp_path, regions=("us-east-1", "mars-north-1"))
    proc = run(BIN, ["ansible-inventory", "-i", inventory, "--list"], aws.env())
    assert "region mars-north-1 could not be read" in proc.stdout + proc.stderr, proc.stderr
    assert json.loads(proc.stdout)["_meta"]["hostvars"] == {}
    rec = aws.recording.mark()
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=inventory, cwd=REPO, expect_rc=2)
    assert "no rack is targeted: the inventory has no hosts" in out
    assert rec.mutating(include_plan=True) == []

    inventory = inventory_file(tmp_path, "strict: false\n", regions=("us-east-1", "mars-north-1"))
    proc = run(BIN, ["ansible-inventory", "-i", inventory, "--list"], aws.env(), check=True)
    assert "region mars-north-1 could not be read" in proc.stderr
    assert sorted(json.loads(proc.stdout)["_meta"]["hostvars"]) == ["acme-prod"]


def test_a_fleet_read_in_part_is_reported_as_such(aws, tmp_path):
    """strict: false skips an unreadable region; the report then says the fleet is not whole, naming the place and
    why (HTML and JSON), instead of showing the racks it could read as the fleet."""
    rack_stack(aws, "acme-prod", org="acme")
    inventory = inventory_file(tmp_path, "strict: false\n", regions=("us-east-1", "mars-north-1"))
    report = tmp_path / "report"
    aws.playbook(os.path.join(REPO, "playbooks", "report.yml"), inventory=inventory, cwd=REPO,
                 extra_vars={"convox_report_dir": str(report), "rack_channel": "file://%s" % tmp_path})
    with open(report / "fleet-report.json") as f:
        data = json.load(f)
    assert [r["rack"] for r in data["racks"]] == ["acme-prod"]
    assert [u["region"] for u in data["unreadable_scope"]] == ["mars-north-1"]
    assert data["scope"].startswith("NOT the whole fleet: the inventory could not read region mars-north-1 ("), data
    page = (report / "fleet-report.html").read_text()
    assert "NOT the whole fleet: the inventory could not read region mars-north-1" in page
