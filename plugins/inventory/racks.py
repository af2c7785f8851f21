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
  - Groups are C(org_<org>), C(region_<region with _>) and C(version_<version>), so
    C(-l 'org_acme:&region_eu_west_1') picks a slice of a fleet from live AWS state.
  - Host variables C(rack_name), C(rack_org), C(rack_region), C(rack_version), C(rack_status); C(ansible_connection)
    is C(local), since a rack is managed through AWS APIs.
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
compose:
  rack_channel: "'s3://acme-convox-releases/stable'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/convox-racks
"""

import re

from ansible.errors import AnsibleError
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.convox.rack.plugins.module_utils._common import ClientFactory, botocore_config
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._info import RackInfo


def group_name(prefix, value):
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)))


class InventoryModule(AWSInventoryBase):

    NAME = "convox.rack.racks"
    INVENTORY_FILE_SUFFIXES = ("racks.yml", "racks.yaml")

    def _racks(self, regions, orgs, strict):
        found = []
        for region in regions:
            factory = ClientFactory(
                lambda service, region=region: self.client(service, region=region, config=botocore_config()), region)
            try:
                racks = RackInfo({}, factory).racks()
            except ConvoxError as exc:
                message = "convox.rack.racks: region %s could not be read: %s" % (region, exc.msg)
                if strict:
                    raise AnsibleError(message + " (set strict: false to skip unreadable regions)") from exc
                Display().warning(message)
                continue
            found.extend(r for r in racks if not orgs or r.get("org") in orgs)
        return found

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        # without a regions option, every region the credentials may use (amazon.aws's public all_clients)
        regions = self.get_option("regions") or [region for dummy, region in self.all_clients("cloudformation")]
        orgs = self.get_option("orgs") or []
        cached, racks = self.get_cached_result(path, cache)
        if not cached:
            racks = [{"name": r["name"], "org": r["org"], "region": r["region"], "version": r["version"], "status": r["status"]}
                     for r in self._racks(regions, orgs, self.get_option("strict"))]
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

    def _populate(self, racks):
        strict = self.get_option("strict")
        hosts = {}
        for rack in racks:
            # values read from AWS are data, never templates: unsafe on every ansible-core
            hostvars = {"rack_name": wrap_var(rack["name"]), "rack_org": wrap_var(rack["org"]),
                        "rack_region": wrap_var(rack["region"]), "rack_version": wrap_var(rack["version"]),
                        "rack_status": wrap_var(rack["status"]), "ansible_connection": "local"}
            host = self._host_name(hostvars)
            if host in hosts:
                other = hosts[host][1]
                raise AnsibleError("convox.rack.racks: rack %s in %s and rack %s in %s would both be host %s; set "
                                   "hostnames (for example '{{ rack_name }}-{{ rack_region }}') to tell them apart."
                                   % (other["name"], other["region"], rack["name"], rack["region"], host))
            hosts[host] = (hostvars, rack)
        for host, (hostvars, rack) in hosts.items():
            self.inventory.add_host(host)
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for group in ([group_name("org", rack["org"])] if rack["org"] else []) + [
                    group_name("region", rack["region"]), group_name("version", rack["version"])]:
                self.inventory.add_group(group)
                self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
