# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The racks inventory plugin against in-process moto: what is a rack (and what is not), hosts, groups
and host variables, names clashing across regions, the orgs filter, unreadable regions with and
without strict, values from AWS never templated, the plugin's options as ansible-core reads them."""

from __future__ import annotations

import json

import boto3
import pytest
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from corecompat import trust_as_template

from ansible_collections.convox.rack.plugins.inventory import racks
from ansible_collections.convox.rack.plugins.inventory.racks import InventoryModule

ACCOUNT = "123456789012"       # moto's default account
TEMPLATE = json.dumps({"Parameters": {"Version": {"Type": "String"}},
                       "Resources": {"Settings": {"Type": "AWS::S3::Bucket"}}})


def stack(region, name, version="1", **tags):
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name, TemplateBody=TEMPLATE, Parameters=[{"ParameterKey": "Version", "ParameterValue": version}],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def rack(region, name, org="acme", version="1"):
    stack(region, name, version, System="convox", Type="rack", Rack=name, Org=org)


def plugin(**options):
    """The plugin as ansible-core drives it, with its options set (defaults from its DOCUMENTATION)."""
    values = {"regions": ["us-east-1", "eu-west-1"], "orgs": [], "hostnames": "", "strict": True, "compose": {},
              "groups": {}, "keyed_groups": [], "leading_separator": True, "use_extra_vars": False, "accounts": []}
    values.update(options)
    inv = InventoryModule()
    inv.inventory = InventoryData()
    inv.templar = Templar(loader=DataLoader())
    inv.get_option = lambda name: values[name]
    inv.client = lambda service, region=None, config=None: boto3.client(service, region_name=region, config=config)
    inv.all_clients = lambda service: [(inv.client(service, region=r), r) for r in ("us-east-1", "ap-south-1")]
    return inv


def hosts(inv):
    return {name: {k: v for k, v in host.vars.items() if k.startswith(("rack_", "ansible_"))}
            for name, host in inv.inventory.hosts.items()}


def groups(inv):
    return {name: sorted(h.name for h in group.hosts) for name, group in inv.inventory.groups.items()
            if group.hosts}


def populate(inv):
    inv._populate(inv._racks(inv.get_option("regions"), inv.get_option("orgs"), inv.get_option("strict")))


def test_racks_become_hosts_grouped_by_org_region_and_version(aws):
    rack("us-east-1", "prod", version="3")
    rack("eu-west-1", "staging", org="initech", version="2")
    stack("us-east-1", "prod-web1", System="convox", Type="app", Rack="prod", Name="web1")      # an app: no host
    stack("us-east-1", "impostor", System="convox", Type="rack", Rack="prod")                  # Rack tag not its name
    stack("us-east-1", "plain")                                                                 # not ours at all
    inv = plugin()
    populate(inv)
    # discovered state only: never rack_version (the user's target) or any other input of the fleet playbooks
    assert hosts(inv) == {
        "prod": {"rack_name": "prod", "rack_org": "acme", "rack_region": "us-east-1", "rack_account_id": ACCOUNT,
                 "rack_current_version": "3", "rack_status": "CREATE_COMPLETE", "ansible_connection": "local"},
        "staging": {"rack_name": "staging", "rack_org": "initech", "rack_region": "eu-west-1", "rack_account_id": ACCOUNT,
                    "rack_current_version": "2", "rack_status": "CREATE_COMPLETE", "ansible_connection": "local"}}
    assert groups(inv) == {"org_acme": ["prod"], "org_initech": ["staging"], "region_us_east_1": ["prod"],
                           "region_eu_west_1": ["staging"], "version_3": ["prod"], "version_2": ["staging"],
                           "account_%s" % ACCOUNT: ["prod", "staging"]}


def test_values_read_from_aws_are_never_templated(aws):
    rack("us-east-1", "prod", org="{{ lookup('pipe', 'id') }}")
    inv = plugin()
    populate(inv)
    org = inv.inventory.hosts["prod"].vars["rack_org"]
    assert org == "{{ lookup('pipe', 'id') }}"
    assert Templar(loader=DataLoader()).template(org) == "{{ lookup('pipe', 'id') }}"      # stays text
    assert "org____lookup__pipe____id_____" in inv.inventory.groups


def test_one_name_in_two_regions_fails_unless_hostnames_tells_them_apart(aws):
    rack("us-east-1", "prod")
    rack("eu-west-1", "prod")
    with pytest.raises(AnsibleError) as err:
        populate(plugin())
    assert ("rack prod in us-east-1 of account %s and rack prod in eu-west-1 of account %s would both be host prod; "
            "set hostnames to tell them apart, by account and region: for example "
            "'{{ rack_name }}-{{ rack_account_id }}-{{ rack_region }}'" % (ACCOUNT, ACCOUNT)) in str(err.value)
    inv = plugin(hostnames=trust_as_template("{{ rack_name }}-{{ rack_region }}"))
    populate(inv)
    assert sorted(hosts(inv)) == ["prod-eu-west-1", "prod-us-east-1"]
    with pytest.raises(AnsibleError, match="gives no name for rack prod in us-east-1"):
        populate(plugin(hostnames=trust_as_template("{{ '' }}")))


def test_the_orgs_option_keeps_only_those_orgs(aws):
    rack("us-east-1", "prod", org="acme")
    rack("us-east-1", "other", org="initech")
    inv = plugin(orgs=["initech"])
    populate(inv)
    assert sorted(hosts(inv)) == ["other"]


def test_an_unreadable_region_fails_strict_and_is_skipped_otherwise(aws, monkeypatch):
    rack("us-east-1", "prod")
    with pytest.raises(AnsibleError) as err:
        populate(plugin(regions=["us-east-1", "mars-north-1"]))
    assert str(err.value).startswith('convox.rack.racks: region mars-north-1 could not be read: region "mars-north-1" is '
                                     'not an AWS region (for CloudFormation). (set strict: false to skip unreadable regions)')
    warnings = []
    monkeypatch.setattr(racks.Display, "warning", lambda self, msg: warnings.append(msg))
    inv = plugin(regions=["us-east-1", "mars-north-1"], strict=False)
    populate(inv)
    assert sorted(hosts(inv)) == ["prod"] and warnings == [
        'convox.rack.racks: region mars-north-1 could not be read: region "mars-north-1" is not an AWS region (for '
        'CloudFormation).']


def test_compose_and_keyed_groups_see_the_host_variables(aws):
    rack("us-east-1", "prod", version="3")
    inv = plugin(compose={"tier": trust_as_template("'gold' if rack_org == 'acme' else 'tin'")},
                 keyed_groups=[{"key": trust_as_template("rack_status"), "prefix": "status"}])
    populate(inv)
    assert inv.inventory.hosts["prod"].vars["tier"] == "gold"
    assert groups(inv)["status_CREATE_COMPLETE"] == ["prod"]


def test_parse_reads_every_region_without_the_regions_option_and_caches(aws, monkeypatch):
    rack("us-east-1", "prod")
    rack("ap-south-1", "mumbai")
    inv = plugin(regions=[])
    monkeypatch.setattr(racks.AWSInventoryBase, "parse", lambda self, *a, **kw: None)
    stored = {}
    inv.get_cached_result = lambda path, cache: (False, None)
    inv.update_cached_result = lambda path, cache, result: stored.update({path: result})
    inv.parse(inv.inventory, DataLoader(), "/x/racks.yml")
    assert sorted(hosts(inv)) == ["mumbai", "prod"]
    assert stored["/x/racks.yml"]["unreadable"] == []
    assert stored["/x/racks.yml"]["racks"] == [       # in the order of the regions all_clients gives
        {"name": "prod", "org": "acme", "region": "us-east-1", "account_id": ACCOUNT, "current_version": "1",
         "status": "CREATE_COMPLETE"},
        {"name": "mumbai", "org": "acme", "region": "ap-south-1", "account_id": ACCOUNT, "current_version": "1",
         "status": "CREATE_COMPLETE"}]
    # a cached answer is used as it is: no AWS call
    again = plugin(regions=["us-east-1"])
    again.client = None
    again.get_cached_result = lambda path, cache: (True, stored[path])
    again.update_cached_result = lambda path, cache, result: None
    again.parse(again.inventory, DataLoader(), "/x/racks.yml")
    assert sorted(hosts(again)) == ["mumbai", "prod"]


def test_only_inventory_files_named_racks_yml_are_claimed(tmp_path):
    inv = InventoryModule()
    for name, claimed in (("racks.yml", True), ("prod.racks.yaml", True), ("hosts.yml", False)):
        path = tmp_path / name
        path.write_text("plugin: convox.rack.racks\n")
        assert bool(inv.verify_file(str(path))) is claimed, name
