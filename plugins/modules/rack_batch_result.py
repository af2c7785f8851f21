#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_batch_result
short_description: One rack's result of a fleet batch, as its host's own task result
version_added: 2.0.0
description:
  - Run per host after M(convox.rack.rack_batch), with the host's entry of its
    RV(convox.rack.rack_batch#module:results), it returns that rack result as its own task result (changed, failed, diff, plan, steps), so the recap, C(--diff)
    and C(register) are per rack as with M(convox.rack.rack), and sets the fact C(convox_result) (the host's line of
    the fleet summary).
  - Pass only the host's entry, not the whole batch result, so that a fleet run stays linear in its number of racks.
  - Makes no AWS call; runs in the controller process only.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  result:
    description:
      - This host's entry of the batch's RV(convox.rack.rack_batch#module:results).
    type: dict
    required: true
extends_documentation_fragment:
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: As the batch was run.
  diff_mode:
    support: full
    description: The rack's diff, as the batch computed it, when run with C(--diff).
  action:
    support: full
    description: Runs in the controller process.
seealso:
  - module: convox.rack.rack_batch
"""

EXAMPLES = r"""
- name: Each rack's result, as its own task result
  convox.rack.rack_batch_result:
    result: "{{ convox_batch.results[inventory_hostname] }}"
  register: rack_result
"""

RETURN = r"""
convox_row:
  description: The host's line of the fleet summary, also set as the fact C(convox_result).
  returned: when the batch made one
  type: dict
  sample: {"rack": "acme-prod", "result": "updated", "from": "1", "to": "3"}
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import controller_only


def main() -> None:
    controller_only("rack_batch_result")


if __name__ == "__main__":
    main()
