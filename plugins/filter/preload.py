# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: preload
short_description: Load the collection's AWS code into the controller before workers fork
version_added: 0.1.0
description:
  - Returns its input unchanged. As a side effect, imports boto3 and the collection's managers and parses the AWS
    service models they use, in the process that evaluates it.
  - Used in a play's C(hosts) keyword (evaluated by the controller before it forks a worker per host and task), so
    that every worker starts with the SDK already loaded instead of importing it again. The fleet playbooks
    (C(site.yml), C(update.yml)) use it; fleet runs get noticeably faster, nothing else changes.
  - Makes no network call and reads no credentials.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  _input:
    description: Any value (typically a host pattern).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Converge racks
  hosts: "{{ 'all' | convox.rack.preload }}"
  roles:
    - convox.rack.rack
"""

RETURN = r"""
_value:
  description: The input, unchanged.
  type: raw
"""

from ansible_collections.convox.rack.plugins.plugin_utils import _action


def preload(value):
    try:
        _action.warm()
    except Exception:  # pylint: disable=broad-except  # a warm-up must never break a play
        pass
    return value


class FilterModule:
    def filters(self):
        return {"preload": preload}
