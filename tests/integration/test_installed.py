# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user gets it: ``ansible-galaxy collection build`` makes a tarball holding what users run and
read (not the development tree), ``ansible-galaxy collection install`` puts it into a collections path of its own,
and the fleet playbooks run from there by name - ``convox.rack.releases``, ``.site``, ``.update``, ``.report`` and
``.uninstall`` - against the local endpoint, with the demo inventory the tarball ships."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest
from conftest import BIN, REPO

V1, V3 = "20260101000000", "20260301000000"
# what the tarball must hold, and what it must not
SHIPPED = ["README.md", "COPYING", "CHANGELOG.rst", "requirements.txt", "bindep.txt", "meta/runtime.yml", "meta/execution-environment.yml",
           "plugins/modules/rack.py", "plugins/module_utils/_rack.py", "roles/rack/meta/argument_specs.yml",
           "playbooks/site.yml", "playbooks/update.yml", "playbooks/uninstall.yml", "playbooks/releases.yml",
           "playbooks/report.yml", "playbooks/inventory/demo/hosts.yml", "formation/rack.yml", "docs/guide.md",
           "changelogs/changelog.yaml"]
DEVELOPMENT = ("tests/", "tools/", "bench/", "extensions/", ".ci/", ".venv/", ".tmp/", "docs/site/", "Makefile",
               "requirements-dev.txt", "pyproject.toml", ".hypothesis/", ".ruff_cache/", "changelogs/fragments/")


def galaxy(*args, cwd, collections):
    # only the temporary collections path: make exports one that already holds this work tree as convox.rack, and
    # ansible-galaxy would then find the collection "already installed"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections)
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy")] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The tarball built from this tree, installed (without dependencies: amazon.aws comes from the ansible package,
    as the README's Installation says for an offline machine) into a collections path of its own."""
    root = tmp_path_factory.mktemp("installed")
    collections = root / "collections"
    galaxy("collection", "build", "--output-path", str(root), REPO, cwd=str(root), collections=str(collections))
    tarball, = [str(p) for p in root.glob("convox-rack-*.tar.gz")]
    out = galaxy("collection", "install", "--no-deps", "-p", str(collections), tarball, cwd=str(root),
                 collections=str(collections))
    assert "was installed successfully" in out, out
    return tarball, str(collections)


def test_the_tarball_holds_what_users_need_and_not_the_development_tree(installed):
    tarball, collections = installed
    with tarfile.open(tarball) as tar:
        names = [n for n in tar.getnames() if not n.endswith("/")]
    assert [n for n in SHIPPED if n not in names] == []
    assert [n for n in names if n.startswith(DEVELOPMENT) or n in DEVELOPMENT or "__pycache__" in n] == []
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert manifest["dependencies"] == {"amazon.aws": ">=9.0.0,<11.0.0"}
    assert {k: bool(manifest[k]) for k in ("repository", "documentation", "issues")} == {
        "repository": True, "documentation": True, "issues": True}
    assert os.path.isfile(os.path.join(collections, "ansible_collections", "convox", "rack", "MANIFEST.json"))


def test_the_fleet_playbooks_run_by_name_from_the_installed_collection(aws, installed, tmp_path):
    dummy, collections = installed
    home = os.path.join(collections, "ansible_collections", "convox", "rack")
    inventory = str(tmp_path / "inventory")
    shutil.copytree(os.path.join(home, "playbooks", "inventory", "demo"), inventory)   # the user's own copy
    env = {"ANSIBLE_COLLECTIONS_PATH": collections}            # only the installed copy: not this work tree

    def play(name, *args, **kw):
        return aws.playbook(name, *args, inventory=inventory, cwd=str(tmp_path), env=env, **kw)

    # the demo releases, published by the installed collection's own demo playbook (its templates: formation/)
    play(os.path.join(home, "playbooks", "demo", "publish.yml"), extra_vars={"demo_count": 1})
    # before any rack is installed (a new fleet): the channel's releases all the same, the rack named as missing
    releases = play("convox.rack.releases", "-l", "acme-staging")
    assert "Releases in s3://convox-demo-releases/stable:" in releases and V1 in releases, releases[-3000:]
    assert 'acme-staging     error: rack \\"acme-staging\\" does not exist in region us-east-1.' in releases, \
        releases[-3000:]
    out = play("convox.rack.site", "-l", "acme-staging,globex-dev")
    assert re.search(r"acme-staging\s+: ok=\d+\s+changed=[1-9]", out), out[-3000:]
    stack = aws.client("cloudformation").describe_stacks(StackName="acme-staging")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == V1
    play(os.path.join(home, "playbooks", "demo", "publish.yml"))
    rec = aws.recording.mark()
    dry = play("convox.rack.update", "-l", "acme-staging,globex-dev", check=True, diff=True)
    assert rec.mutating() == [] and "0 failed, 2 to update" in dry, dry[-3000:]
    done = play("convox.rack.update", "-l", "acme-staging,globex-dev")
    assert "0 failed, 2 updated" in done, done[-3000:]
    stack = aws.client("cloudformation").describe_stacks(StackName="globex-dev")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == V3
    report_dir = tmp_path / "report"
    play("convox.rack.report", "-l", "acme-staging,globex-dev", extra_vars={"convox_report_dir": str(report_dir)})
    rows = json.loads((report_dir / "fleet-report.json").read_text())
    assert sorted(r["rack"] for r in rows["racks"]) == ["acme-staging", "globex-dev"], rows
    play("convox.rack.uninstall", "-l", "globex-dev", extra_vars={"confirm": "globex-dev", "convox_force": True})
    names = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]]
    assert "globex-dev" not in names and "acme-staging" in names
