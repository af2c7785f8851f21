# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: racks
short_description: Convox racks discovered from CloudFormation, grouped by org, region and version
version_added: 1.0.0
description:
  - Discovers racks - CloudFormation stacks tagged C(System=convox) and C(Type=rack) whose C(Rack) tag equals the
    stack's name - in the listed regions. A stack tagged C(Rack=prod) under another name is not the rack C(prod).
  - The host name is the rack name (or what O(hostnames) makes of it). The same rack name in two regions never merges
    into one host; it fails the inventory naming both regions unless O(hostnames) makes the two names distinct.
  - Groups are C(org_<org>), C(region_<region with _>), C(account_<id>) and C(version_<current version>), so
    C(-l 'org_acme:&region_eu_west_1') picks a slice of a fleet from live AWS state.
  - Host variables are discovered state only - C(rack_name), C(rack_org), C(rack_region), C(rack_account_id),
    C(rack_current_version) (the release the rack runs) and C(rack_status) - and C(ansible_connection=local), since a
    rack is managed through AWS APIs; and, for racks found through O(accounts), C(rack_assume_role_arn) (with its
    C(rack_assume_role_external_id) and C(rack_assume_role_session_name) when set).
  - 'The plugin never sets C(rack_version), C(rack_parameters) or any other input of the fleet playbooks: those are
    your targets, from C(group_vars) and C(host_vars) beside the inventory file (for example a
    C(group_vars/all.yml) with C(rack_version: latest) moves every discovered rack to the latest release).'
  - Regions (and accounts) are read concurrently.
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
  accounts:
    description:
      - Racks in other AWS accounts, found through a role in each. Each entry is a dictionary with
        C(assume_role_arn) (required, the role the inventory's credentials assume in that account), C(external_id)
        (what the role's trust policy asks for), C(session_name), C(org) (the C(rack_org) of racks found there
        without an C(Org) tag) and C(regions) (default O(regions)).
      - Each rack found through a role carries C(rack_assume_role_arn) (and C(rack_assume_role_external_id),
        C(rack_assume_role_session_name) when set) besides C(rack_account_id), and the fleet playbooks pass them to
        every task of that rack, so a rack found in account B is only ever read or changed in account B, with the
        role's credentials (which renew themselves during long runs).
      - Empty, the racks of the inventory's own credentials' account. Accounts and regions are read concurrently;
        one that cannot be read fails the inventory (see O(strict)), naming the account and region.
    type: list
    elements: dict
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
        Each place skipped is listed in the variable C(convox_unreadable_scope) of group C(all) (its C(account),
        C(region), C(assume_role_arn) and C(reason)), and the fleet report says the fleet was read only in part.
    type: bool
    default: true
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - convox.rack.aws.plugins
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

# acme-racks.yml: racks in three accounts, each found through its role (one credential for the whole fleet)
plugin: convox.rack.racks
regions: [us-east-1, eu-west-1]
accounts:
  - assume_role_arn: arn:aws:iam::111111111111:role/convox-fleet
    org: acme
  - assume_role_arn: arn:aws:iam::222222222222:role/convox-fleet
    external_id: acme-fleet
    org: beta
    regions: [us-east-1]
  - assume_role_arn: arn:aws:iam::333333333333:role/convox-fleet
    org: gamma

# group_vars/all.yml beside it: the targets of every discovered rack
# rack_channel: s3://acme-convox-releases/stable
# rack_version: latest
"""

import concurrent.futures
import re
from typing import Any, Iterable, Mapping, cast

from ansible.errors import AnsibleError
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import check_account_params, role_account, role_factory
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, botocore_config, client_kwargs
from ansible_collections.convox.rack.plugins.module_utils.managers._info import RackInfo
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

# what the plugin keeps of a rack (and caches): discovered state only
FIELDS = ("name", "org", "region", "account_id", "current_version", "status")
ROLE_FIELDS = ("assume_role_arn", "assume_role_external_id", "assume_role_session_name")   # racks found through a role
MAX_READERS = 16        # account-regions read at once
ACCOUNT_KEYS = ("assume_role_arn", "external_id", "session_name", "org", "regions")


def group_name(prefix: str, value: Any) -> str:
    return "%s_%s" % (prefix, re.sub(r"[^A-Za-z0-9_]", "_", str(value)))


def read_region(job: tuple[ClientFactory, Mapping[str, Any]]) -> list[dict[str, Any]] | ConvoxError:
    """The racks of one account-region (what the plugin keeps of each), or the ConvoxError that says why it cannot be
    read.  ``job``: (factory, the account entry or {})."""
    factory, account = job
    try:
        racks = RackInfo({}, factory).racks()
    except ConvoxError as exc:
        return exc
    found = []
    for r in racks:
        rack = {"name": r["name"], "org": r["org"] or account.get("org") or "", "region": r["region"],
                "account_id": r["account_id"], "current_version": r["version"], "status": r["status"]}
        role = {"assume_role_arn": account.get("assume_role_arn"), "assume_role_external_id": account.get("external_id"),
                "assume_role_session_name": account.get("session_name")}
        rack.update((k, v) for k, v in role.items() if v)
        found.append(rack)
    return found


def account_entries(accounts: Any) -> list[dict[str, Any]]:
    """The ``accounts`` option checked: a list of dicts, each with a valid role (AnsibleError naming the entry)."""
    entries = []
    for index, entry in enumerate(accounts or []):
        if not isinstance(entry, dict) or not entry.get("assume_role_arn"):
            raise AnsibleError("convox.rack.racks: accounts[%d] needs assume_role_arn (the role to find racks through)."
                               % index)
        unknown = sorted(set(entry) - set(ACCOUNT_KEYS))
        if unknown:
            raise AnsibleError("convox.rack.racks: accounts[%d] has unknown keys %s (known: %s)."
                               % (index, ", ".join(unknown), ", ".join(ACCOUNT_KEYS)))
        try:
            check_account_params({"assume_role_arn": entry["assume_role_arn"],
                                  "assume_role_external_id": entry.get("external_id"),
                                  "assume_role_session_name": entry.get("session_name")})
        except ConvoxError as exc:
            raise AnsibleError("convox.rack.racks: accounts[%d]: %s" % (index, exc.msg)) from None
        entries.append(dict(entry))
    return entries


class InventoryModule(AWSInventoryBase):

    NAME = "convox.rack.racks"
    INVENTORY_FILE_SUFFIXES = ("racks.yml", "racks.yaml")

    def _factory(self, region: str) -> ClientFactory | ConvoxError:
        """A client factory for ``region`` whose CloudFormation client is made now, in this thread (a boto3
        session is not thread-safe; the reads then run concurrently)."""
        def make(service: str, region: str = region) -> Any:
            return self.client(service, region=region, config=botocore_config())
        factory = ClientFactory(make, region)
        try:
            factory("cloudformation")
        except ConvoxError as exc:
            return exc
        return factory

    def _role_factory(self, region: str, account: Mapping[str, Any]) -> ClientFactory | ConvoxError:
        """A client factory for ``region`` acting as the role of ``account`` (an entry of the accounts option)."""
        source = self._factory(region)
        if isinstance(source, ConvoxError):
            return source
        dummy, endpoint, connect = get_aws_connection_info(self)
        factory = role_factory(source, {"assume_role_arn": account["assume_role_arn"],
                                        "assume_role_external_id": account.get("external_id"),
                                        "assume_role_session_name": account.get("session_name")},
                               endpoint, client_kwargs(connect),
                               source_key="%s|%s" % (connect.get("profile_name") or "",
                                                     connect.get("aws_access_key_id") or ""))
        try:
            factory("cloudformation")
        except ConvoxError as exc:
            return exc
        return factory

    def _racks(self, regions: list[str], orgs: list[str], strict: bool,
               accounts: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Every rack of ``regions`` - of each account of ``accounts`` (its own regions, or these) - read
        concurrently, in the order of the accounts and regions."""
        places = {}                         # "region" or "region of role ARN" -> (factory or error, account entry)
        for account in accounts or [{}]:
            for region in (account.get("regions") or regions) if account else regions:
                if account:
                    label = "%s through role %s" % (region, account["assume_role_arn"])
                    places[label] = (self._role_factory(region, account), account)
                else:
                    places[region] = (self._factory(region), account)
        answers: dict[str, list[dict[str, Any]] | ConvoxError] = {
            label: f for label, (f, dummy) in places.items() if isinstance(f, ConvoxError)}
        readable = [label for label in places if label not in answers]
        if readable:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(readable), MAX_READERS),
                                                       thread_name_prefix="convox-racks") as pool:
                jobs = [cast("tuple[ClientFactory, Mapping[str, Any]]", places[label]) for label in readable]
                answers.update(zip(readable, pool.map(read_region, jobs)))
        found: list[dict[str, Any]] = []
        self.unreadable = []
        for region in places:            # in the order of the accounts and regions options
            answer = answers[region]
            if isinstance(answer, ConvoxError):
                message = "convox.rack.racks: region %s could not be read: %s" % (region, answer.msg)
                if strict:
                    raise AnsibleError(message + " (set strict: false to skip unreadable regions)")
                Display().warning(message)
                account = places[region][1] or {}
                self.unreadable.append({"region": region.split(" ", 1)[0],
                                        "account": role_account(account.get("assume_role_arn")) or "",
                                        "assume_role_arn": account.get("assume_role_arn") or "",
                                        "reason": answer.msg})
                continue
            found.extend(r for r in answer if not orgs or r.get("org") in orgs)
        return found

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache=cache)
        # without a regions option, every region the credentials may use (amazon.aws's public all_clients)
        regions = self.get_option("regions") or [region for dummy, region in self.all_clients("cloudformation")]
        orgs = self.get_option("orgs") or []
        accounts = account_entries(self.get_option("accounts"))
        cached, answer = self.get_cached_result(path, cache)
        racks = answer.get("racks") if cached and isinstance(answer, dict) else None
        self.unreadable = (answer.get("unreadable") or []) if racks is not None else []
        if not isinstance(racks, list) or not all(isinstance(r, dict) and set(FIELDS) <= set(r) for r in racks):
            racks = self._racks(regions, orgs, self.get_option("strict"), accounts)
        self._populate(racks)
        # what could not be read (strict: false), for the fleet report: a fleet read in part is never shown as whole
        self.inventory.set_variable("all", "convox_unreadable_scope", [wrap_var(dict(u)) for u in self.unreadable])
        self.update_cached_result(path, cache, {"racks": racks, "unreadable": self.unreadable})

    def _host_name(self, hostvars: Mapping[str, Any]) -> str:
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
    def _where(rack: Mapping[str, Any]) -> str:
        return "%s%s" % (rack["region"], " of account %s" % rack["account_id"] if rack.get("account_id") else "")

    def _populate(self, racks: list[dict[str, Any]]) -> None:
        strict = self.get_option("strict")
        hosts: dict[str, Any] = {}
        for rack in racks:
            # discovered state only (never a target such as rack_version), and data, never templates: unsafe on
            # every ansible-core
            hostvars = {"rack_%s" % key: wrap_var(rack[key]) for key in FIELDS + ROLE_FIELDS
                        if rack.get(key) is not None}
            hostvars["ansible_connection"] = "local"
            host = self._host_name(hostvars)
            if host in hosts:
                other = hosts[host][1]
                raise AnsibleError("convox.rack.racks: rack %s in %s and rack %s in %s would both be host %s; set "
                                   "hostnames to tell them apart, by account and region: for example "
                                   "'{{ rack_name }}-{{ rack_account_id }}-{{ rack_region }}' (or "
                                   "'{{ rack_name }}-{{ rack_region }}' for one account)."
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
