#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_batch_bake
short_description: The bake gate after a batch of a fleet update - wait, then read the alarms
version_added: 2.0.0
description:
  - Run once after a batch of C(update.yml) (the canary included), it waits O(bake_minutes), then reads
    O(bake_alarms) (metric and composite alarms) and says in RV(halt) which are in C(ALARM); C(update.yml) halts the
    fleet when any is.
  - The gate fails closed - an alarm that cannot be found or read halts the fleet too.
  - A name is read in each account and region of the batch's racks (through their roles); an ARN in its own account
    and region.
  - Runs in the controller process only.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  hosts:
    description:
      - The hosts (racks) of the batch just moved, typically C(ansible_play_batch).
    type: list
    elements: str
    required: true
  bake_minutes:
    description:
      - Minutes to wait before reading the alarms.
    type: float
    default: 0
  bake_alarms:
    description:
      - CloudWatch alarms (names or ARNs) read after the wait.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: The fleet playbooks skip the gate in check mode; run in check mode it waits and reads as usual (it changes nothing either way).
  diff_mode:
    support: none
    description: Nothing to show, it changes nothing.
  action:
    support: full
    description: Runs in the controller process.
seealso:
  - module: convox.rack.rack_batch
"""

EXAMPLES = r"""
- name: Bake the batch
  convox.rack.rack_batch_bake:
    hosts: "{{ ansible_play_batch }}"
    bake_minutes: 10
    bake_alarms: [checkout-errors]
  run_once: true
  register: bake
"""

RETURN = r"""
halt:
  description: The bake alarms in C(ALARM) or that cannot be read (each with its account-region), or an empty string
    when the fleet may go on.
  returned: success
  type: str
  sample: "checkout-errors (111111111111/us-east-1)"
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import controller_only


def main() -> None:
    controller_only("rack_batch_bake")


if __name__ == "__main__":
    main()
