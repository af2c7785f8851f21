# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every `$` command of docs/guide.md, in order, against a fresh local AWS endpoint.

The guide's set-up lines (`make setup`, `make localaws-start`, `export ...`) are what this
fixture already provides (a local AWS endpoint and its environment), so they are not re-run."""

from __future__ import annotations

import os
import re
import subprocess

from conftest import REPO

SETUP = re.compile(r"^(make (setup|localaws-start|localaws-stop)|export )")


def guide_commands():
    with open(os.path.join(REPO, "docs", "guide.md")) as f:
        text = f.read()
    commands = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append(line[2:].strip())
    return commands


def test_guide_commands_run(aws):
    commands = guide_commands()
    assert len(commands) >= 15
    outputs = {}
    for command in commands:
        if SETUP.match(command):
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=REPO, env=aws.env(), capture_output=True, text=True,
                              timeout=900, check=False)
        assert proc.returncode == 0, "%s\n%s\n%s" % (command, proc.stdout[-6000:], proc.stderr[-3000:])
        outputs[command] = proc.stdout
    hosts = outputs["ansible -i playbooks/inventory/demo 'org_acme:&region_eu_west_1' --list-hosts"]
    assert "acme-eu" in hosts and "acme-prod" not in hosts
    graph = outputs["ansible-inventory -i docs/examples/fleet --graph"]
    assert "@org_globex:" in graph and "@region_eu_west_1:" in graph and "@account_123456789012:" in graph
    # the dynamic inventory's group_vars target moves every discovered rack (the inventory sets no rack_version)
    assert "0 failed, 6 to update, 0 up to date, 0 skipped" in outputs[
        "ansible-playbook -i docs/examples/fleet convox.rack.update --check"]
    assert "0 failed, 6 updated, 0 up to date, 0 skipped" in outputs[
        "ansible-playbook -i playbooks/inventory/demo convox.rack.update"]
    assert "MODULE convox.rack.rack" in outputs["ansible-doc convox.rack.rack"] or \
        "convox.rack.rack" in outputs["ansible-doc convox.rack.rack"]
