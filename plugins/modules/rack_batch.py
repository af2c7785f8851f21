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
  - The fleet engine has four entry points, each with its own options - M(convox.rack.rack_batch_preflight) once
    before a run changes anything, this module per batch, M(convox.rack.rack_batch_bake) after a batch, and
    M(convox.rack.rack_batch_result) per host - run in this order by C(site.yml) and C(update.yml).
  - Hand each host its entry of RV(results) with M(convox.rack.rack_batch_result), so the recap, C(--diff) and
    C(register) are per rack as with M(convox.rack.rack).
  - Runs in the controller process only (the racks are managed through AWS APIs).
  - 'Each host variable maps to the option of M(convox.rack.rack) of the same name: C(rack_name) (default: the host
    name), C(rack_state), C(rack_org), C(rack_region), C(rack_channel), C(rack_version), C(rack_parameters),
    C(rack_tags), C(rack_purge_tags), C(rack_termination_protection), C(rack_max_steps), C(rack_allow_downgrade),
    C(rack_force), C(rack_recover), C(rack_adopt), C(rack_wait_timeout), C(rack_releases), C(rack_apps),
    C(rack_account_id), C(rack_assume_role_arn), C(rack_assume_role_external_id), C(rack_assume_role_session_name),
    C(rack_notification_arns), C(rack_role_arn), C(rack_template_bucket), C(rack_resources_to_skip),
    C(rack_retain_resources), C(rack_cancel_on_timeout), C(rack_rollback_alarms),
    C(rack_rollback_monitoring_minutes), C(rack_protect_stateful), C(rack_allow_replace); and the run''s
    C(convox_detect_drift) to its O(convox.rack.rack#module:drift).'
  - 'A variable that is not set, V(null) or an empty string is not passed, so the option keeps its default; for
    C(rack_org), C(rack_region), C(rack_channel), C(rack_version), C(rack_releases), C(rack_account_id), the
    C(rack_assume_role_*) variables, C(rack_notification_arns), C(rack_role_arn) and C(rack_template_bucket) an empty
    list means not set too - the rack keeps what it has (its SNS topics, its service role) - exactly as the role
    C(convox.rack.rack) passes them.'
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  hosts:
    description:
      - The hosts (racks) of the batch, typically C(ansible_play_batch).
    type: list
    elements: str
    required: true
  versions:
    description:
      - What V(latest), V(stable) and V(edge) mean for this run, per channel (the fact C(convox_run_versions) of
        M(convox.rack.rack_batch_preflight), a dictionary of channel to alias to version); a rack whose
        C(rack_version) is such an alias goes to that release.
    type: dict
    default: {}
  releases:
    description:
      - Each channel's releases as the run read them when it started (the preflight's fact C(convox_run_releases), a
        dictionary of channel to its releases), so every batch plans its paths from them; a channel not in it is read
        once for the batch.
    type: dict
    default: {}
  pins:
    description:
      - The rack template of each release the run goes to, as the run read it when it started (the
        preflight's fact C(convox_run_pins), a dictionary of channel to version to the template's sha256 digest).
        The batch reads each of them once, for all its racks, and checks it against the pin; a release republished
        since the run started stops every rack of the batch on that channel, none of which is changed.
    type: dict
    default: {}
  halted:
    description:
      - Why the fleet halted before this batch (C(update.yml) passes its C(convox_halt)). When not
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
    description: Per host, with M(convox.rack.rack_batch_result).
  action:
    support: full
    description: Runs in the controller process.
notes:
  - Used by C(site.yml) and C(update.yml); see C(docs/performance.md) for batch size, canary and concurrency advice.
seealso:
  - module: convox.rack.rack
  - module: convox.rack.rack_batch_preflight
  - module: convox.rack.rack_batch_bake
  - module: convox.rack.rack_batch_result
"""

EXAMPLES = r"""
- name: Converge the racks of this batch at once
  convox.rack.rack_batch:
    hosts: "{{ ansible_play_batch }}"
  run_once: true
  register: convox_batch

- name: Each rack's result, as its own task result
  convox.rack.rack_batch_result:
    result: "{{ convox_batch.results[inventory_hostname] }}"
  register: rack_result
"""

RETURN = r"""
results:
  description:
    - Each host's rack result (what M(convox.rack.rack) returns, or C(failed) and C(msg)), with
      C(convox_row), the host's line of the fleet summary (C(rack), C(org), C(region), C(from), C(to), C(path),
      C(steps), C(result), C(msg), C(stateful), C(security), C(drifted)).
  returned: always
  type: dict
  sample: {"acme-prod": {"changed": true, "plan": {"action": "update"}, "steps": [], "convox_row": {"result": "updated"}}}
plan_lines:
  description: One line per rack - its action, path and parameter changes - for the batch's log.
  returned: always
  type: list
  elements: str
  sample: ["acme-prod: update 1 -> 3 via 2 -> 3"]
polls:
  description: The reads of each region's stacks made while racks waited.
  returned: always
  type: dict
  sample: {"us-east-1": 12}
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import controller_only


def main() -> None:
    controller_only("rack_batch")


if __name__ == "__main__":
    main()
