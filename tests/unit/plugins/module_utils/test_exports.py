# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which exports an update would change: replaced resources (create-only properties, transitively), exported
outputs whose value, parameters or resources change; the create-only table is AWS's."""

from __future__ import annotations

import json
import os

import yaml

from ansible_collections.convox.rack.plugins.module_utils.model._exports import CREATE_ONLY, changed_exports, replaced_resources

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def rack():
    with open(os.path.join(REPO, "formation", "rack.yml")) as f:
        return yaml.safe_load(f)


def test_toggling_private_replaces_the_balancer_and_changes_what_apps_import():
    template = rack()
    replaced = replaced_resources(template, template, {"Private"})
    assert replaced["Balancer"] == "its Scheme changes (parameter Private)"
    assert replaced["BalancerListener"] == "its LoadBalancerArn changes (Balancer is replaced)"
    changed = changed_exports(template, template, {"Private"})
    assert changed["BalancerListener"] == ("AWS::ElasticLoadBalancingV2::Listener BalancerListener is replaced: its "
                                           "LoadBalancerArn changes (Balancer is replaced)")
    assert changed["Subnets"] == "parameter Private changes"
    assert "Cluster" not in changed and "Vpc" not in changed


def test_what_does_not_replace_changes_no_export():
    template = rack()
    assert changed_exports(template, template, {"LogRetention", "InstanceCount"}) == {}
    later = json.loads(json.dumps(template))
    later["Resources"]["Settings"]["Properties"]["VersioningConfiguration"]["Status"] = "Suspended"
    assert changed_exports(template, later, set()) == {}
    del later["Outputs"]["Registry"]
    later["Resources"]["Cluster"]["Properties"]["ClusterName"] = "renamed"
    assert changed_exports(template, later, set()) == {
        "Registry": "the release removes it",
        "Cluster": "AWS::ECS::Cluster Cluster is replaced: its ClusterName changes"}


def test_the_create_only_table_is_what_aws_publishes():
    import cfnlint
    schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
    with open(os.path.join(schemas, "providers", "us-east-1.json")) as f:
        index = json.load(f)
    for rtype, props in CREATE_ONLY.items():
        with open(os.path.join(schemas, "resources", "%s.json" % index[rtype])) as f:
            published = {p.split("/")[2] for p in json.load(f).get("createOnlyProperties", []) if p.count("/") == 2}
        assert props == published, rtype
    types = {r["Type"] for r in rack()["Resources"].values()}
    assert {t for t in types if t not in CREATE_ONLY} <= {"AWS::EC2::InternetGateway", "AWS::KMS::Key"}
