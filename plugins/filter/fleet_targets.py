# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_targets
short_description: The racks a fleet play targets, and the hosts that name the same rack twice
version_added: 0.1.0
description:
  - Takes the hosts of a play and C(hostvars); returns one entry per host with C(host), C(rack) (its C(rack_name),
    else the host name) and C(region) (its C(rack_region), else empty for the default region), sorted by host.
  - Used by the fleet playbooks to confirm an uninstall against the racks that would be deleted and to refuse two
    hosts that name the same rack in the same region (see M(convox.rack.rack)).
  - One pass over the hosts, so a fleet play stays linear in its number of hosts.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  _input:
    description: Host names (for example C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse two hosts that name the same rack in the same region
  ansible.builtin.assert:
    that: convox_clashes | length == 0
    fail_msg: "{{ convox_clashes | join('; ') }}"
  vars:
    convox_clashes: "{{ ansible_play_hosts_all | convox.rack.fleet_targets(hostvars) | convox.rack.fleet_clashes }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One entry per host, C(host), C(rack), C(region).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def _var(hostvars, host, name):
    try:
        value = hostvars[host].get(name)
    except Exception as exc:  # an undefined or failing template in the host's variables
        raise AnsibleFilterError("host %s: %s cannot be read (%s)" % (host, name, exc))
    return "" if value is None else str(value).strip()


def fleet_targets(hosts, hostvars):
    """[{host, rack, region}] for ``hosts``, sorted by host."""
    out = []
    for host in sorted(str(h) for h in hosts):
        out.append(dict(host=host, rack=_var(hostvars, host, "rack_name") or host,
                        region=_var(hostvars, host, "rack_region")))
    return out


def fleet_clashes(targets):
    """One sentence per (rack, region) that more than one host names."""
    seen = {}
    for target in targets:
        seen.setdefault((target["rack"], target["region"]), []).append(target["host"])
    return ["hosts %s all name rack %s in %s; one rack must be one host" % (
        ", ".join(hosts), rack, region or "the default region")
        for (rack, region), hosts in sorted(seen.items()) if len(hosts) > 1]


def rack_names(targets):
    """The sorted, distinct rack names of ``targets``."""
    return sorted(set(t["rack"] for t in targets))


class FilterModule(object):
    def filters(self):
        return {"fleet_targets": fleet_targets, "fleet_clashes": fleet_clashes, "rack_names": rack_names}
