#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_app
short_description: Create, update and delete an app on a Convox rack
version_added: 1.0.0
description:
  - An app is the CloudFormation stack C(<rack>-<app>), built from C(<channel>/<rack version>/app.json) - the app
    template of the release the rack runs - and tagged C(System=convox), C(Type=app), C(Rack=<rack>), C(Name=<app>).
  - When the rack has moved to a newer release, O(state=present) moves the app to that release's template (after a
    rack update, apps need redeploying).
  - O(state=absent) empties the app's retained buckets, deletes the stack, waits, and removes the emptied buckets.
  - Invalid names, an app named like its rack, a missing rack, a rack that is not in a healthy C(*_COMPLETE) state
    and unknown parameters fail before any change. A stack found in progress is waited for; failed states are handled
    as for M(convox.rack.rack).
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  name:
    description:
      - The app name. Starts with a letter; letters, digits and hyphens; 4 to 30 characters; not the rack's name.
    type: str
    required: true
    aliases: [app]
  rack:
    description:
      - The rack the app runs on.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the app; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  channel:
    description:
      - Required to create the app or move it to the rack's new release.
  parameters:
    description:
      - App template parameters. C(Rack) and C(Version) are set by the collection. Parameters not given keep their
        current value.
    type: dict
    default: {}
  recover:
    description:
      - An app in C(UPDATE_ROLLBACK_FAILED) is first recovered with ContinueUpdateRollback (skipping
        O(resources_to_skip)); one in C(UPDATE_FAILED) or C(CREATE_FAILED) (rollback disabled) is first rolled back
        with RollbackStack (C(cloudformation:RollbackStack), not in C(docs/iam-policy.json)).
    type: bool
    default: false
  adopt:
    description:
      - Take over an existing stack named C(<rack>-<name>) that lacks the app's tags (C(System=convox), C(Type=app),
        C(Rack=<rack>), C(Name=<name>)). The tags it gains are shown in the diff and in C(plan.note).
      - Without it such a stack is refused with a message naming it and its tags, and nothing is changed (in check
        mode too). A stack that is a rack is never adopted.
    type: bool
    default: false
  rack_details:
    description:
      - B(Deprecated), to be removed in 2.0.0; setting it reports the deprecation. M(convox.rack.rack) hands the apps
        of its O(convox.rack.rack#module:apps) option the rack it just read itself, and nothing else needs it.
      - The rack as returned by M(convox.rack.rack) (RV(convox.rack.rack#module:rack)) or an element of
        RV(convox.rack.rack_info#module:racks), so that the app does not read the rack's stack again; its status and
        version are checked as a fresh read would be.
    type: dict
extends_documentation_fragment:
  - convox.rack.account
  - convox.rack.stack_options
  - convox.rack.channel
  - convox.rack.tags
  - convox.rack.wait
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: Changes nothing; an update's resource changes come from a change set created and deleted.
  diff_mode:
    support: full
    description: Shows the version, parameters and tags before and after.
seealso:
  - module: convox.rack.rack
"""

EXAMPLES = r"""
- name: Create an app on a rack
  convox.rack.rack_app:
    name: webapp
    rack: production
    channel: s3://acme-convox-releases/stable
    parameters:
      Image: registry.example.com/acme/web:1.4.2
      Count: 2

- name: A second app; each app on a rack needs its own load balancer rule priority
  convox.rack.rack_app:
    name: admin
    rack: production
    channel: s3://acme-convox-releases/stable
    parameters:
      Priority: 200

- name: After a rack update, move every app to the rack's release
  convox.rack.rack_app:
    name: "{{ item }}"
    rack: production
    channel: s3://acme-convox-releases/stable
  loop: [webapp, admin]

- name: Delete an app (its buckets are emptied and removed)
  convox.rack.rack_app:
    name: webapp
    rack: production
    state: absent
"""

RETURN = r"""
retained:
  description:
    - The logical ids of the resources O(retain_resources) left in place when the app's stack, whose deletion had
      failed, was deleted.
  returned: when O(state=absent) deleted a stack leaving resources in place
  type: list
  elements: str
  sample: ["Settings"]
app:
  description: The app after the task; null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: App name.
      type: str
      sample: webapp
    rack:
      description: Rack name.
      type: str
      sample: production
    stack_name:
      description: The app's stack name, C(<rack>-<app>).
      type: str
      sample: production-webapp
    status:
      description: Stack status.
      type: str
      sample: CREATE_COMPLETE
    version:
      description: The release the app's template came from.
      type: str
      sample: "20240301000000"
    parameters:
      description: Stack parameters.
      type: dict
      sample: {"Count": "2", "Rack": "production", "Version": "20240301000000"}
    outputs:
      description: Stack outputs.
      type: dict
      sample: {"Service": "arn:aws:ecs:eu-west-1:123456789012:service/production/production-webapp"}
    tags:
      description: Stack tags.
      type: dict
      sample: {"System": "convox", "Type": "app", "Rack": "production", "Name": "webapp"}
plan:
  description: What the task does or would do - C(action) (V(create), V(update), V(delete), V(none)), C(from_version),
    C(to_version), C(parameter_changes), C(resource_changes), and C(note) when a stack was adopted or found in an
    unusual state.
  returned: always
  type: dict
  sample: {"action": "update", "from_version": "1", "to_version": "2", "parameter_changes": {}, "resource_changes": []}
resources:
  description: After a create or update, the app's resources, each C(type), C(logical_id), C(physical_id), C(status).
  returned: always
  type: list
  elements: dict
  sample: [{"type": "AWS::ECS::Service", "logical_id": "Service", "physical_id": "arn:aws:ecs:...", "status": "CREATE_COMPLETE"}]
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main as run_module


def main() -> None:
    run_module("rack_app")


if __name__ == "__main__":
    main()
