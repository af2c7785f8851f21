# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user gets it (conftest's ``installed``): ``ansible-galaxy collection build`` makes a tarball
holding what users run and read (not the development tree), ``ansible-galaxy collection install`` puts it into a
collections path of its own, and the playbooks run from there by name - ``convox.rack.releases`` and ``.report``
here, ``.site``, ``.update`` and ``.uninstall`` in test_fleet.py - with the demo inventory the tarball ships."""

from __future__ import annotations

import json
import os
import shutil
import tarfile

V1 = "20260101000000"
# what the tarball must hold, and what it must not
SHIPPED = ["README.md", "COPYING", "CHANGELOG.rst", "requirements.txt", "bindep.txt", "meta/runtime.yml", "meta/execution-environment.yml",
           "plugins/modules/rack.py", "plugins/module_utils/managers/_rack.py", "roles/rack/meta/argument_specs.yml",
           "playbooks/site.yml", "playbooks/update.yml", "playbooks/uninstall.yml", "playbooks/releases.yml",
           "playbooks/report.yml", "playbooks/inventory/demo/hosts.yml", "formation/rack.yml", "docs/guide.md",
           "changelogs/changelog.yaml"]
DEVELOPMENT = ("tests/", "tools/", "bench/", "extensions/", ".ci/", ".venv/", ".tmp/", "docs/site/", "Makefile",
               "requirements-dev.txt", "constraints.txt", "pyproject.toml", ".hypothesis/", ".ruff_cache/", "changelogs/fragments/")


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


def test_a_new_fleet_reads_its_releases_and_report_by_name(aws, installed, tmp_path):
    """releases.yml and report.yml by name from the installed collection, before any rack is installed: the channel's
    releases all the same, each rack named as missing.  (site, update and uninstall run by name in test_fleet.py.)"""
    dummy, collections = installed
    home = os.path.join(collections, "ansible_collections", "convox", "rack")
    inventory = str(tmp_path / "inventory")
    shutil.copytree(os.path.join(home, "playbooks", "inventory", "demo"), inventory)   # the user's own copy
    env = {"ANSIBLE_COLLECTIONS_PATH": collections}            # only the installed copy: not this work tree

    def play(name, *args, **kw):
        return aws.playbook(name, *args, inventory=inventory, cwd=str(tmp_path), env=env, **kw)

    play("convox.rack.demo.publish", extra_vars={"demo_count": 1})
    releases = play("convox.rack.releases", "-l", "acme-staging")
    assert "Releases in s3://convox-demo-releases/stable:" in releases and V1 in releases, releases[-3000:]
    assert 'acme-staging     error: rack \\"acme-staging\\" does not exist in region us-east-1.' in releases, \
        releases[-3000:]
    report_dir = tmp_path / "report"
    play("convox.rack.report", "-l", "acme-staging,globex-dev", extra_vars={"convox_report_dir": str(report_dir)})
    rows = json.loads((report_dir / "fleet-report.json").read_text())
    assert sorted((r["rack"], r["status"]) for r in rows["racks"]) == [
        ("acme-staging", "NOT_INSTALLED"), ("globex-dev", "NOT_INSTALLED")], rows
