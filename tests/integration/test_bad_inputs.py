# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input catalog: 30 bad module inputs (targets/bad_inputs/main.yml) plus bad role and
playbook inputs, each failing with one sentence naming the problem and making no mutating AWS call
(counted with the moto recorder)."""

from __future__ import annotations

import os

from conftest import REPO, target

PLAYBOOKS = os.path.join(REPO, "playbooks")


def test_module_bad_inputs_fail_early_and_change_nothing(aws, tmp_path):
    empty, broken = tmp_path / "empty", tmp_path / "broken"
    empty.mkdir()
    broken.mkdir()
    extra = {"channel": "file://%s" % (tmp_path / "channel"), "empty": str(empty), "broken": str(broken)}
    aws.playbook(target("bad_inputs", "setup.yml"), extra_vars=extra)
    rec = aws.recording.mark()
    out = aws.playbook(target("bad_inputs"), extra_vars=extra)
    assert "ignored=30" in out, out[-2000:]
    assert rec.mutating() == [], rec.mutating()
    version = {p["ParameterKey"]: p["ParameterValue"] for p in aws.client("cloudformation").describe_stacks(
        StackName="victim")["Stacks"][0]["Parameters"]}["Version"]
    assert version == "2"


def test_role_and_playbook_bad_inputs(aws, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    badrack:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "      rack_channel: s3://no-such-bucket/stable\n")
    rec = aws.recording.mark()
    out = aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert "channel s3://no-such-bucket/stable is unreachable: bucket no-such-bucket does not exist." in out
    out = aws.playbook(os.path.join(PLAYBOOKS, "update.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert "is unreachable" in out
    inventory.write_text(inventory.read_text() + "      rack_apps: not-a-list\n")
    out = aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    # the batch validates each rack's variables with the module's own argument spec, before any AWS call
    assert ("Elements value for option 'apps' is of type str and we were unable to convert to dict: dictionary "
            "requested, could not parse JSON or key=value\"") in out
    inventory.write_text(inventory.read_text().replace("s3://no-such-bucket/stable", "file://%s" % tmp_path))
    (tmp_path / "versions.json").write_text('[{"version": "1", "description": "", "published": true, "required": false}]')
    out = aws.playbook(os.path.join(PLAYBOOKS, "site.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert ("Elements value for option 'apps' is of type str and we were unable to convert to dict: dictionary "
            "requested, could not parse JSON or key=value\"") in out
    role_play = tmp_path / "role.yml"
    role_play.write_text("- hosts: all\n  gather_facts: false\n  roles:\n    - convox.rack.rack\n")
    out = aws.playbook(str(role_play), inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert "rack_apps" in out and "list" in out          # the role's `main` entry point: its argument spec
    out = aws.playbook(os.path.join(PLAYBOOKS, "uninstall.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert "to confirm, pass -e confirm=badrack" in out
    assert rec.mutating() == [], rec.mutating()
