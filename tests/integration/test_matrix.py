# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every ansible-core meta/runtime.yml admits runs the lifecycle: publish three releases (the middle one required)
to an S3 channel, install a rack and an app, the dry run of the update (check + diff: the path through the required
release, nothing changed), the update along that path, and the uninstall - each through that release's
ansible-playbook, its modules on its Python.  2.17 is the oldest environment (exactly the stated floors), 2.18 its
own; the newest (2.19, .venv) runs the whole integration suite, this lifecycle included (test_rack.py, test_fleet.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from conftest import CORE_ENVIRONMENTS, REPO, core_environment
from safety import run_tasks


def admitted_cores():
    """The ansible-core releases meta/runtime.yml admits, up to the newest requirements-dev.txt installs."""
    with open(os.path.join(REPO, "meta", "runtime.yml")) as f:
        low = tuple(int(x) for x in re.search(r'requires_ansible: ">=(\d+)\.(\d+)', f.read()).groups())
    with open(os.path.join(REPO, "requirements-dev.txt")) as f:
        high = tuple(int(x) for x in re.search(r"ansible-core>=[\d.]+,<(\d+)\.(\d+)", f.read()).groups())
    return ["%d.%d" % (low[0], minor) for minor in range(low[1], high[1])]


def test_every_admitted_core_has_an_environment():
    assert admitted_cores() == sorted(CORE_ENVIRONMENTS), "add an environment for each (Makefile, conftest.py)"


@pytest.mark.parametrize("core", sorted(c for c, root in CORE_ENVIRONMENTS.items() if root is not None))
def test_install_update_along_the_path_dry_run_and_uninstall(aws, tmp_path, core):
    bindir, env = core_environment(core)
    found = subprocess.run([os.path.join(bindir, "python"), "-c", "import ansible.release; "
                            "print(ansible.release.__version__)"], capture_output=True, text=True, check=True)
    assert found.stdout.startswith(core + "."), found.stdout
    bucket = "matrix-%s" % core.replace(".", "-")
    aws.client("s3").create_bucket(Bucket=bucket)
    channel = "s3://%s/stable" % bucket
    formation = os.path.join(REPO, "formation")
    name = "core%s" % core.replace(".", "")
    rack = {"name": name, "channel": channel, "termination_protection": False}
    publish = [{"convox.rack.rack_release": {"channel": channel, "version": v, "src": formation, "required": v == "2"}}
               for v in ("1", "2", "3")]
    results = run_tasks(aws, tmp_path, publish + [
        {"convox.rack.rack": dict(rack, version="1")},
        {"convox.rack.rack_app": {"name": "web1", "rack": name, "channel": channel}},
    ], core=core)
    for result in results:
        assert not result.get("failed") and "exception" not in result, (result.get("msg"), result.get("exception"))
    assert all(r["changed"] for r in results)
    rec = aws.recording.mark()
    plan, = run_tasks(aws, tmp_path, [dict({"convox.rack.rack": dict(rack, version="3")}, check_mode=True, diff=True)],
                      name="plan.yml", core=core)
    assert not plan.get("failed"), plan.get("msg")
    assert rec.mutating() == [], rec.mutating()
    assert (plan["plan"]["from_version"], plan["plan"]["path"]) == ("1", ["2", "3"]), plan["plan"]
    assert plan["diff"]["before"]["version"] == "1" and plan["diff"]["after"]["version"] == "3", plan["diff"]
    updated, app, info = run_tasks(aws, tmp_path, [
        {"convox.rack.rack": dict(rack, version="3")},
        {"convox.rack.rack_app": {"name": "web1", "rack": name, "channel": channel}},     # follows its rack
        {"convox.rack.rack_info": {"name": name}}], name="update.yml", core=core)
    assert not updated.get("failed") and not app.get("failed"), (updated.get("msg"), app.get("msg"))
    assert [(s["from"], s["to"]) for s in updated["steps"]] == [("1", "2"), ("2", "3")], updated["steps"]
    assert info["racks"][0]["version"] == "3" and [a["version"] for a in info["racks"][0]["apps"]] == ["3"], info
    versions = json.loads(aws.client("s3").get_object(Bucket=bucket, Key="stable/versions.json")["Body"].read())
    assert [(v["version"], v["required"]) for v in versions] == [("1", False), ("2", True), ("3", False)]
    gone, = run_tasks(aws, tmp_path, [{"convox.rack.rack": dict(rack, state="absent", force=True)}],
                      name="uninstall.yml", core=core)
    assert not gone.get("failed") and gone["changed"], gone.get("msg")
    names = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]]
    assert [n for n in names if n.startswith(name)] == [], names
