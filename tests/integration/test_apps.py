# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rack_app, rack_info and the racks inventory plugin against the local AWS server."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import BIN, target


def test_apps_and_rack_info(aws, tmp_path):
    aws.playbook(target("apps"), extra_vars={"channel": "file://%s" % (tmp_path / "channel")})
    # the deleted app left no bucket behind
    names = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert not [n for n in names if n.startswith("acme-prod-web1")], names


def test_inventory_plugin_groups_racks_by_org_and_region(aws, tmp_path):
    aws.playbook(target("apps", "racks.yml"), extra_vars={"channel": "file://%s" % (tmp_path / "channel")})
    inventory = tmp_path / "fleet.racks.yml"
    inventory.write_text("plugin: convox.rack.racks\nregions: [us-east-1, eu-west-1]\n"
                         "keyed_groups:\n  - key: rack_status\n    prefix: status\n")
    graph = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(inventory), "--graph"],
                           env=aws.env(), capture_output=True, text=True, check=True).stdout
    for line in ("@org_acme:", "@org_globex:", "@region_us_east_1:", "@region_eu_west_1:", "@version_1:",
                 "@status_CREATE_COMPLETE:", "|--acme-eu", "|--globex-prod"):
        assert line in graph, graph
    listing = json.loads(subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(inventory), "--list"],
                                        env=aws.env(), capture_output=True, text=True, check=True).stdout)
    # values from AWS (tags) are marked unsafe, so a tag cannot inject a template
    hostvars = {h: {k: v.get("__ansible_unsafe", v) if isinstance(v, dict) else v for k, v in hv.items()}
                for h, hv in listing["_meta"]["hostvars"].items()}
    assert hostvars["acme-eu"]["rack_region"] == "eu-west-1"
    assert hostvars["acme-eu"]["rack_org"] == "acme"
    assert hostvars["globex-prod"]["rack_current_version"] == "1"
    assert "rack_version" not in hostvars["globex-prod"]      # a target, never discovered state
    assert hostvars["globex-prod"]["rack_status"] == "CREATE_COMPLETE"
    assert sorted(listing["org_acme"]["hosts"]) == ["acme-eu", "acme-prod"]
    assert sorted(listing["region_us_east_1"]["hosts"]) == ["acme-prod", "globex-prod"]
    # targeting a slice, as users do with -l 'org_acme:&region_eu_west_1'
    hosts = subprocess.run([os.path.join(BIN, "ansible"), "-i", str(inventory), "org_acme:&region_eu_west_1",
                            "--list-hosts"], env=aws.env(), capture_output=True, text=True, check=True).stdout
    assert "acme-eu" in hosts and "acme-prod" not in hosts
