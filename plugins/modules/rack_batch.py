#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_batch
short_description: Converge a batch of racks at once, waiting shared per region (fleet runs)
version_added: 1.0.0
description:
  - The fleet playbooks' way of moving racks at AWS speed. Run once per batch (C(run_once)), it converges every rack
    of O(hosts) at once, whatever C(forks) is - each rack exactly as M(convox.rack.rack) would, from the host's
    inventory variables - and returns every rack's result.
  - Every rack of the batch starts at once (at most O(max_concurrent) at a time) and takes its release steps one
    after another, each waited for; a rack starts its next step as soon as its own step completes.
  - The waiting is shared per account and region - one ListStacks of the stacks in progress per poll for every rack
    waiting there, and one DescribeStacks of a rack's stack once it has left that list - so a poll costs in
    proportion to the stacks that are moving, not to the region's stacks or the fleet's size. The gap between two
    polls is a tenth of how long the oldest rack has waited, at least 1.5 s and at most O(poll_interval), so an
    operation is seen to end within about 10 % of its duration. Each release channel is read once per batch, and
    one listing per account-region serves each stack's first read.
  - Clients, shared waits and the racks installed at once (quota reservations) are per account and region. A rack
    with C(rack_assume_role_arn) is read and changed through its role, in its account; with C(rack_account_id), the
    credentials' account is checked once per account-region before its racks are read.
  - With O(label), a line is printed through the display of Ansible (so a terminal and an AWX job log show it within
    one poll) each time a rack of the batch changes state, for example C(batch 2/5 - 37/50 done, 12 updating, 1
    failed) (the line itself has a colon after the label).
  - Run per host with O(result) (the host's entry of the batch's RV(results)), it returns that rack result as its
    own task result (changed, failed, diff, plan, steps), so the recap, C(--diff) and C(register) are per rack as with
    M(convox.rack.rack), and sets the fact C(convox_result) (the host's line of the fleet summary). Pass only the
    host's entry, not the whole batch result, so that a fleet run stays linear in its number of racks.
  - Run once before a fleet run changes anything, with O(preflight), it checks the fleet instead - two hosts that
    resolve to one rack (the same name, region after defaults and account) are refused, naming both - and resolves
    V(latest), V(stable) and V(edge) once for the whole run (RV(versions), also set as the fact
    C(convox_run_versions), with each channel's releases as C(convox_run_releases)); every later batch passes them
    back as O(versions) and O(releases), so the canary and every batch go to the same release, along the same
    path, even when one is published mid-run, and each channel is read once per run. A run that is one slice of a
    sliced AWX / Automation Platform job (its workflow job named after its job template) is refused there, before any
    change - the canary, the batches and the failure budget are decisions about the whole fleet (C(-e
    convox_not_a_sliced_job=true) for a workflow of your own that shares the template's name).
  - Runs in the controller process only (the racks are managed through AWS APIs).
  - 'Each host variable maps to the option of M(convox.rack.rack) of the same name: C(rack_name) (default: the host
    name), C(rack_state), C(rack_org), C(rack_region), C(rack_channel), C(rack_version), C(rack_parameters),
    C(rack_tags), C(rack_purge_tags), C(rack_termination_protection), C(rack_max_steps), C(rack_allow_downgrade),
    C(rack_force), C(rack_recover), C(rack_adopt), C(rack_wait_timeout), C(rack_apps), C(rack_account_id),
    C(rack_assume_role_arn), C(rack_assume_role_external_id), C(rack_assume_role_session_name). Empty values are
    omitted.'
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  hosts:
    description:
      - The hosts (racks) of the batch, typically C(ansible_play_batch). Mutually exclusive with O(result).
    type: list
    elements: str
  result:
    description:
      - This host's entry of the batch task's RV(results); returned as this task's result. Mutually exclusive with
        O(hosts).
    type: dict
  preflight:
    description:
      - With O(hosts), check the fleet and resolve the run's releases instead of converging (see above). Fails,
        changing nothing, on two hosts that resolve to one rack, on a channel that cannot be read, and on an
        O(report_dir) that exists but is not a writable directory.
    type: bool
    default: false
  report_dir:
    description:
      - With O(preflight), the directory the run will write its results to (C(convox_report_dir)); refused before any
        change when it exists and is not a writable directory.
    type: path
  report_room:
    description:
      - With O(preflight), add to RV(lines) each region's quotas and what is used of them (VPCs, internet gateways,
        Elastic IPs, NAT gateways per zone, stacks), read from Service Quotas (AWS's defaults where it is denied).
        C(update.yml) sets it. Whatever this says, an install is refused, changing nothing, when its region has no
        room left for it.
    type: bool
    default: false
  state:
    description:
      - With O(preflight), the state every rack of the run is to reach, whatever its C(rack_state) says
        (C(uninstall.yml) passes V(absent), so no channel is read and no release resolved).
    type: str
    choices: [present, absent]
  versions:
    description:
      - With O(hosts), what V(latest), V(stable) and V(edge) mean for this run, per channel (RV(versions) of the
        preflight, a dictionary of channel to alias to version); a rack whose C(rack_version) is such an alias goes to
        that release.
    type: dict
    default: {}
  releases:
    description:
      - With O(hosts), each channel's releases as the run read them when it started (the preflight's fact
        C(convox_run_releases), a dictionary of channel to its releases), so every batch plans its paths from them; a channel
        not in it is read once for the batch.
    type: dict
    default: {}
  pins:
    description:
      - With O(hosts), the rack template of each release the run goes to, as the run read it when it started (the
        preflight's fact C(convox_run_pins), a dictionary of channel to version to the template's sha256 digest).
        The batch reads each of them once, for all its racks, and checks it against the pin; a release republished
        since the run started stops every rack of the batch on that channel, none of which is changed.
    type: dict
    default: {}
  halted:
    description:
      - With O(hosts), why the fleet halted before this batch (C(update.yml) passes its C(convox_halt)). When not
        empty, no rack of the batch is touched and each host's result says it was skipped and why.
    type: str
    default: ""
  max_concurrent:
    description:
      - At most this many racks at once; V(0) is the whole batch.
    type: int
    default: 0
  poll_interval:
    description:
      - The longest gap, in seconds, between two reads of a region's stacks while racks wait there (at most 30).
    type: float
    default: 30
  bake_minutes:
    description:
      - With O(hosts), bake the batch instead of converging it - the fleet's bake gate after the canary and after
        each batch - wait this many minutes, then read O(bake_alarms).
    type: float
    default: 0
  bake_alarms:
    description:
      - With O(hosts), CloudWatch alarms (names, read in each account and region of the batch's racks through their
        roles, or ARNs) checked after the bake; RV(halt) names those in C(ALARM), and update.yml halts the fleet.
    type: list
    elements: str
    default: []
  plan_file:
    description:
      - With O(preflight) outside check mode, a plan file an C(update.yml --check -e convox_plan_file=...) run wrote -
        its approved plans are returned as the fact C(convox_run_plan), for every batch's O(plan). A file that cannot
        be read, or is not a plan file, fails the preflight before any change.
    type: path
  plan:
    description:
      - The approved plans (C(convox_run_plan)). Only the racks they name move, each with its plan's fingerprint as
        M(convox.rack.rack)'s O(convox.rack.rack#module:expect_fingerprint); a rack not in them is skipped as C(not in the
        plan), a rack whose plan computed now differs is skipped as C(plan is stale) naming what changed (its stack,
        parameters, tags, target, path or a template on it). Neither is changed.
    type: dict
  label:
    description:
      - The batch's name in its progress lines (for example V(batch 2/5) or V(canary)); empty, no progress line.
    type: str
    default: ""
extends_documentation_fragment:
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: Every rack is planned as M(convox.rack.rack) plans it in check mode, all at once.
  diff_mode:
    support: full
    description: Per host, with O(result).
  action:
    support: full
    description: Runs in the controller process.
notes:
  - Used by C(site.yml) and C(update.yml); see C(docs/performance.md) for batch size, canary and concurrency advice.
seealso:
  - module: convox.rack.rack
"""

EXAMPLES = r"""
- name: Converge the racks of this batch at once
  convox.rack.rack_batch:
    hosts: "{{ ansible_play_batch }}"
  run_once: true
  register: convox_batch

- name: Each rack's result, as its own task result
  convox.rack.rack_batch:
    result: "{{ convox_batch.results[inventory_hostname] }}"
  register: rack_result
"""

RETURN = r"""
results:
  description:
    - With O(hosts), each host's rack result (what M(convox.rack.rack) returns, or C(failed) and C(msg)), with
      C(convox_row), the host's line of the fleet summary (C(rack), C(org), C(region), C(from), C(to), C(path),
      C(steps), C(result), C(msg), C(stateful), C(security), C(drifted)).
  returned: with O(hosts)
  type: dict
  sample: {"acme-prod": {"changed": true, "plan": {"action": "update"}, "steps": [], "convox_row": {"result": "updated"}}}
plan_lines:
  description: With O(hosts), one line per rack - its action, path and parameter changes - for the batch's log.
  returned: with O(hosts)
  type: list
  elements: str
  sample: ["acme-prod: update 1 -> 3 via 2 -> 3"]
versions:
  description: With O(preflight), what V(latest), V(stable) and V(edge) mean for this run, per channel.
  returned: with O(preflight)
  type: dict
  sample: {"s3://acme-releases/stable": {"latest": "20260301000000"}}
lines:
  description: With O(preflight), the releases of this run, one line per channel and alias, to print first.
  returned: with O(preflight)
  type: list
  elements: str
  sample: ["release of this run: latest = 20260301000000 in s3://acme-releases/stable"]
racks:
  description: With O(preflight), the distinct rack names the run targets (what C(uninstall.yml) asks to confirm).
  returned: with O(preflight)
  type: list
  elements: str
  sample: ["acme-prod", "acme-staging"]
targets:
  description: With O(preflight), the rack each host resolves to.
  returned: with O(preflight)
  type: list
  elements: dict
  sample: [{"host": "acme-prod", "rack": "acme-prod", "region": "us-east-1", "account": null, "state": "present",
            "channel": "s3://acme-releases/stable", "version": "latest"}]
polls:
  description: With O(hosts), the reads of each region's stacks made while racks waited.
  returned: with O(hosts)
  type: dict
  sample: {"us-east-1": 12}
halt:
  description: With O(bake_minutes) or O(bake_alarms), the bake alarms in C(ALARM) (each with its account-region), or
    an empty string when the fleet may go on.
  returned: when baking
  type: str
  sample: "checkout-errors (111111111111/us-east-1)"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.convox.rack.plugins.module_utils._specs import SPEC_OPTIONS, rack_batch_spec


def main():
    module = AnsibleAWSModule(argument_spec=rack_batch_spec(), supports_check_mode=True, **SPEC_OPTIONS["rack_batch"])
    module.fail_json(msg="convox.rack.rack_batch runs in the controller process only; do not delegate it to a host "
                         "reached over a remote connection.")


if __name__ == "__main__":
    main()
