#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_info
short_description: List Convox racks in a region, with their versions, outputs and apps
version_added: 1.0.0
description:
  - Lists the racks of a region - stacks tagged C(System=convox), C(Type=rack) - with status, release, parameters,
    outputs and apps (each name, status, release); what C(convox racks), C(convox rack) and C(convox apps) show.
  - A rack whose stack is being deleted or has failed still appears, with its status.
  - One paginated DescribeStacks listing per region, whatever the number of racks. Never changes anything.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  name:
    description:
      - Only the rack with this name.
    type: str
    aliases: [rack]
  org:
    description:
      - Only the racks of this organization (C(Org) tag).
    type: str
extends_documentation_fragment:
  - convox.rack.account
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: The module never changes anything.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
seealso:
  - module: convox.rack.rack
  - plugin: convox.rack.racks
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Every rack in the region (convox racks)
  convox.rack.rack_info:
    region: us-east-1
  register: all_racks

- name: One org's racks
  convox.rack.rack_info:
    org: acme
  register: acme

- name: One rack and its apps (convox rack; convox apps)
  convox.rack.rack_info:
    name: production
  register: production

- name: Show the apps of each rack
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.version }}): {{ item.apps | map(attribute='name') | join(', ') }}"
  loop: "{{ all_racks.racks }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
racks:
  description: The racks found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Rack name.
      type: str
      sample: production
    org:
      description: The C(Org) tag, or null.
      type: str
      sample: acme
    region:
      description: AWS region.
      type: str
      sample: us-east-1
    account_id:
      description: The AWS account the rack's stack is in (from its stack id).
      type: str
      sample: "123456789012"
    status:
      description: CloudFormation stack status.
      type: str
      sample: UPDATE_COMPLETE
    version:
      description: Current release.
      type: str
      sample: "20240301000000"
    stack_id:
      description: Stack ARN.
      type: str
      sample: arn:aws:cloudformation:us-east-1:123456789012:stack/production/0a1b2c3d
    parameters:
      description: Stack parameters.
      type: dict
      sample: {"InstanceCount": "3", "Version": "20240301000000"}
    outputs:
      description: Stack outputs.
      type: dict
      sample: {"Cluster": "production"}
    tags:
      description: Stack tags.
      type: dict
      sample: {"System": "convox", "Type": "rack", "Rack": "production"}
    termination_protection:
      description: Whether termination protection is on.
      type: bool
      sample: true
    apps:
      description: The rack's apps, each C(name), C(stack_name), C(status), C(version) and C(parameters).
      type: list
      elements: dict
      sample: [{"name": "webapp", "stack_name": "production-webapp", "status": "CREATE_COMPLETE", "version": "20240301000000"}]
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main as run_module


def main() -> None:
    run_module("rack_info")


if __name__ == "__main__":
    main()
