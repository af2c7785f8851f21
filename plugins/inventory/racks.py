# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: racks
short_description: Convox racks discovered from CloudFormation, grouped by org, region and version
version_added: 0.1.0
description:
  - Discovers racks - CloudFormation stacks tagged C(System=convox) and C(Type=rack) whose C(Rack) tag equals the
    stack's name - in the listed regions. A stack tagged C(Rack=prod) under another name is not the rack C(prod).
  - The host name is the rack name (or what O(hostnames) makes of it). The same rack name in two regions never merges
    into one host; it fails the inventory naming both regions unless O(hostnames) makes the two names distinct.
  - Groups are C(org_<org>), C(region_<region with _>), C(account_<id>) and C(version_<current version>), so
    C(-l 'org_acme:&region_eu_west_1') picks a slice of a fleet from live AWS state.
  - Host variables are discovered state only - C(rack_name), C(rack_org), C(rack_region), C(rack_account_id),
    C(rack_current_version) (the release the rack runs) and C(rack_status) - and C(ansible_connection=local), since a
    rack is managed through AWS APIs.
  - 'The plugin never sets C(rack_version), C(rack_parameters) or any other input of the fleet playbooks: those are
    your targets, from C(group_vars) and C(host_vars) beside the inventory file (for example a
    C(group_vars/all.yml) with C(rack_version: latest) moves every discovered rack to the latest release).'
  - Regions are read concurrently.
  - Every value read from AWS (tags, names, versions, statuses) is marked unsafe, so a tag holding C({{ ... }}) is
    never templated, on every supported ansible-core.
  - The inventory file name must end with C(racks.yml) or C(racks.yaml).
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
    choices: [convox.rack.racks]
  regions:
    description:
      - Regions to look in. Default, every region the account can describe.
    type: list
    elements: str
    default: []
  orgs:
    description:
      - Only racks of these organizations (C(Org) tag).
    type: list
    elements: str
    default: []
  hostnames:
    description:
      - A template for the host name of each rack, over the host variables above, for example
        V({{ rack_name }}-{{ rack_region }}) for a fleet that uses one rack name in several regions.
      - Empty, the host name is the rack name.
    type: str
    default: ""
  strict:
    description:
      - A region that cannot be read (unknown region, no credentials, access denied) fails the inventory, and so does
        an error in O(compose), O(groups) or O(keyed_groups).
      - V(false) skips an unreadable region with a warning (and ignores template errors, as C(constructed) does).
    type: bool
    default: true
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
"""

EXAMPLES = r"""
# racks.yml
plugin: convox.rack.racks
regions:
  - us-east-1
  - eu-west-1
orgs:
  - acme
keyed_groups:
  - key: rack_status
    prefix: status
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/convox-racks

# group_vars/all.yml beside it: the targets of every discovered rack
# rack_channel: s3://acme-convox-releases/stable
# rack_version: latest
"""

import concurrent.futures
import re

from ansible.errors import AnsibleError
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.convox.rack.plugins.module_utils._common import ClientFactory, botocore_config
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._info import RackInfo

# what the plugin keeps of a rack (and caches): discovered state only
FIELDS = ("name", "org", "region", "account_id", "current_version", "status")
MAX_READERS = 16        # regions read at once


def group_name(prefix, value):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)))


def read_region(factory):
    """The racks of one region (what the plugin keeps of each), or the ConvoxError that says why it cannot be read."""
    try:
        racks = RackInfo({}, factory).racks()
    except ConvoxError as exc:
        return exc
    return [{"name": r["name"], "org": r["org"], "region": r["region"], "account_id": r["account_id"],
             "current_version": r["version"], "status": r["status"]} for r in racks]


class InventoryModule(AWSInventoryBase):

    NAME = "convox.rack.racks"
    INVENTORY_FILE_SUFFIXES = ("racks.yml", "racks.yaml")

    def _factory(self, region):
        """A client factory for ``region`` whose CloudFormation client is made now, in this thread (a boto3
        session is not thread-safe; the reads then run concurrently)."""
        factory = ClientFactory(
            lambda service, region=region: self.client(service, region=region, config=botocore_config()), region)
        try:
            factory("cloudformation")
        except ConvoxError as exc:
            return exc
        return factory

    def _racks(self, regions, orgs, strict):
        """Every rack of ``regions`` (read concurrently), in the order of the regions."""
        factories = {region: self._factory(region) for region in regions}
        answers = {region: f for region, f in factories.items() if isinstance(f, ConvoxError)}
        readable = [region for region in factories if region not in answers]
        if readable:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(readable), MAX_READERS),
                                                       thread_name_prefix="convox-racks") as pool:
                answers.update(zip(readable, pool.map(read_region, [factories[region] for region in readable])))
        found = []
        for region in factories:            # in the order of the regions option
            answer = answers[region]
            if isinstance(answer, ConvoxError):
                message = "convox.rack.racks: region %s could not be read: %s" % (region, answer.msg)
                if strict:
                    raise AnsibleError(message + " (set strict: false to skip unreadable regions)")
                Display().warning(message)
                continue
            found.extend(r for r in answer if not orgs or r.get("org") in orgs)
        return found

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        # without a regions option, every region the credentials may use (amazon.aws's public all_clients)
        regions = self.get_option("regions") or [region for dummy, region in self.all_clients("cloudformation")]
        orgs = self.get_option("orgs") or []
        cached, racks = self.get_cached_result(path, cache)
        if not cached or not all(isinstance(r, dict) and set(FIELDS) <= set(r) for r in racks or []):
            racks = self._racks(regions, orgs, self.get_option("strict"))
        self._populate(racks)
        self.update_cached_result(path, cache, racks)

    def _host_name(self, hostvars):
        template = self.get_option("hostnames")
        if not template:
            return str(hostvars["rack_name"])
        self.templar.available_variables = hostvars
        name = self.templar.template(template)
        if not isinstance(name, str) or not name.strip():
            raise AnsibleError("convox.rack.racks: hostnames %r gives no name for rack %s in %s."
                               % (template, hostvars["rack_name"], hostvars["rack_region"]))
        return str(name)

    @staticmethod
    def _where(rack):
        return "%s%s" % (rack["region"], " of account %s" % rack["account_id"] if rack.get("account_id") else "")

    def _populate(self, racks):
        strict = self.get_option("strict")
        hosts = {}
        for rack in racks:
            # discovered state only (never a target such as rack_version), and data, never templates: unsafe on
            # every ansible-core
            hostvars = {"rack_%s" % key: wrap_var(rack[key]) for key in FIELDS if rack.get(key) is not None}
            hostvars["ansible_connection"] = "local"
            host = self._host_name(hostvars)
            if host in hosts:
                other = hosts[host][1]
                raise AnsibleError("convox.rack.racks: rack %s in %s and rack %s in %s would both be host %s; set "
                                   "hostnames (for example '{{ rack_name }}-{{ rack_region }}') to tell them apart."
                                   % (other["name"], self._where(other), rack["name"], self._where(rack), host))
            hosts[host] = (hostvars, rack)
        for host, (hostvars, rack) in hosts.items():
            self.inventory.add_host(host)
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            groups = [group_name("org", rack["org"])] if rack["org"] else []
            groups.append(group_name("region", rack["region"]))
            if rack.get("account_id"):
                groups.append(group_name("account", rack["account_id"]))
            if rack.get("current_version"):
                groups.append(group_name("version", rack["current_version"]))
            for group in groups:
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
