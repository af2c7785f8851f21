#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_batch_preflight
short_description: Check a fleet and resolve its run's releases before any change (fleet runs)
version_added: 2.0.0
description:
  - The first step of the fleet playbooks, run once (C(run_once)) before a run changes anything. It checks the fleet -
    two hosts that resolve to one rack (the same name, region after defaults and account) are refused, naming both -
    and resolves V(latest), V(stable) and V(edge) once for the whole run (RV(versions), also set as the fact
    C(convox_run_versions), with each channel's releases as C(convox_run_releases) and the digest of each release's
    rack template as C(convox_run_pins)); every later batch (M(convox.rack.rack_batch)) passes them back, so the
    canary and every batch go to the same release, along the same path, even when one is published mid-run, and each
    channel is read once per run.
  - A run that is one slice of a sliced AWX / Automation Platform job (its workflow job named after its job template)
    is refused, before any change - the canary, the batches and the failure budget are decisions about the whole
    fleet (C(-e convox_not_a_sliced_job=true) for a workflow of your own that shares the template's name).
  - Reads each host's variables as M(convox.rack.rack_batch) does.
  - Runs in the controller process only (the racks are managed through AWS APIs).
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  hosts:
    description:
      - The hosts (racks) of the run, typically C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  report_dir:
    description:
      - The directory the run will write its results to (C(convox_report_dir)); refused before any change when it
        exists and is not a writable directory.
    type: path
  report_room:
    description:
      - Add to RV(lines) each region's quotas and what is used of them (VPCs, internet gateways, Elastic IPs, NAT
        gateways per zone, stacks), read from Service Quotas (AWS's defaults where it is denied). C(update.yml) sets
        it. Whatever this says, an install is refused, changing nothing, when its region has no room left for it.
    type: bool
    default: false
  state:
    description:
      - The state every rack of the run is to reach, whatever its C(rack_state) says (C(uninstall.yml) passes
        V(absent), so no channel is read and no release resolved).
    type: str
    choices: [present, absent]
  plan_file:
    description:
      - Outside check mode, a plan file an C(update.yml --check -e convox_plan_file=...) run wrote - its approved plans
        are returned as the fact C(convox_run_plan), for every batch's
        O(convox.rack.rack_batch#module:plan). A file that cannot be read, or is not a plan file, fails the preflight
        before any change.
    type: path
  bake_alarms:
    description:
      - The run's bake alarms (C(convox_bake_alarms)); each must exist where M(convox.rack.rack_batch_bake) will read
        it (a name in each account and region of the racks, an ARN in its own), and every rack's C(rack_rollback_alarms)
        in its own account and region, else the run is refused before any change.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: Checks and resolves as in a real run (it changes nothing either way).
  diff_mode:
    support: none
    description: Nothing to show, it changes nothing.
  action:
    support: full
    description: Runs in the controller process.
notes:
  - Fails, changing nothing, on two hosts that resolve to one rack, on a channel that cannot be read, on a bake or
    rollback alarm that does not exist, and on an O(report_dir) that exists but is not a writable directory.
seealso:
  - module: convox.rack.rack_batch
"""

EXAMPLES = r"""
- name: Check the fleet and resolve the run's releases
  convox.rack.rack_batch_preflight:
    hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
  register: preflight
"""

RETURN = r"""
versions:
  description: What V(latest), V(stable) and V(edge) mean for this run, per channel.
  returned: success
  type: dict
  sample: {"s3://acme-releases/stable": {"latest": "20260301000000"}}
lines:
  description: The releases of this run, one line per channel and alias, to print first (and with O(report_room), each
    region's quotas).
  returned: success
  type: list
  elements: str
  sample: ["release of this run: latest = 20260301000000 in s3://acme-releases/stable"]
racks:
  description: The distinct rack names the run targets (what C(uninstall.yml) asks to confirm).
  returned: success
  type: list
  elements: str
  sample: ["acme-prod", "acme-staging"]
qualified:
  description: The racks the run targets as C(account/region/rack) (C(-) for an unknown account), as C(uninstall.yml)
    names a rack it would delete.
  returned: success
  type: list
  elements: str
  sample: ["111111111111/us-east-1/acme-prod"]
targets:
  description: The rack each host resolves to.
  returned: success
  type: list
  elements: dict
  sample: [{"host": "acme-prod", "rack": "acme-prod", "region": "us-east-1", "account": null, "state": "present",
            "channel": "s3://acme-releases/stable", "version": "latest"}]
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import controller_only


def main() -> None:
    controller_only("rack_batch_preflight")


if __name__ == "__main__":
    main()
