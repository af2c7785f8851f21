#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_release_info
short_description: Read a release channel and compute a rack's update path
version_added: 1.0.0
description:
  - Reads C(versions.json) of a release channel and returns its releases in release order.
  - Resolves a target (V(latest), V(stable), V(edge) or an explicit version) and, given a rack or a
    current version, the update path to it.
  - 'The path rule: every release strictly between the current and the target that is both
    published and required, in file order, then the target. The current release need not be
    published but must be listed. A rack already past the target is not behind: its path is empty.'
  - Never changes anything.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  channel:
    required: true
  rack:
    description:
      - The name of a rack (CloudFormation stack) whose current release, its C(Version) parameter, is the start of the path.
      - Mutually exclusive with O(current).
    type: str
  current:
    description:
      - A version to compute the path from, instead of reading a rack.
    type: str
  version:
    description:
      - The target release. V(latest) (alias V(stable)) is the last published entry; V(edge) the last entry
        whether published or not; any other string names that entry.
    type: str
    default: latest
  drift:
    description:
      - Also run CloudFormation drift detection on O(rack)'s stack and return what it finds (RV(drift)). Drift
        detection changes no stack. Needs O(rack).
    type: bool
    default: false
extends_documentation_fragment:
  - convox.rack.account
  - convox.rack.channel
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: The module never changes anything.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
notes:
  - Reading an V(s3://) channel or a rack uses the standard AWS options and C(AWS_*) environment
    variables, C(AWS_ENDPOINT_URL) included.
"""

EXAMPLES = r"""
- name: What does the channel offer?
  convox.rack.rack_release_info:
    channel: s3://acme-convox-releases/stable
  register: channel

- name: How far behind is the production rack, and through which required releases?
  convox.rack.rack_release_info:
    channel: s3://acme-convox-releases/stable
    rack: production
  register: info

- name: Report
  ansible.builtin.debug:
    msg: >-
      production runs {{ info.current }}; latest is {{ info.latest }};
      path {{ info.path | join(' -> ') }}

- name: Path from an explicit version to the newest release, published or not
  convox.rack.rack_release_info:
    channel: file:///tmp/convox/channel
    current: "20240201000000"
    version: edge
"""

RETURN = r"""
releases:
  description: Every release of the channel, in file (release) order.
  returned: always
  type: list
  elements: dict
  contains:
    version:
      description: The release name.
      type: str
      sample: "20240301000000"
    description:
      description: Free text.
      type: str
      sample: Adds private subnets
    published:
      description: Whether V(latest) can pick it.
      type: bool
      sample: true
    required:
      description: Whether an update path may not skip it.
      type: bool
      sample: false
    republished:
      description: When the release was republished with C(force) (its trace); absent for a release never republished.
      type: str
      returned: when the release was republished
      sample: "2026-12-01T10:00:00Z"
latest:
  description: The last published release, or null when none is published.
  returned: always
  type: str
  sample: "20240301000000"
current:
  description: The rack's current release (or O(current)); null when neither was given.
  returned: always
  type: str
  sample: "20240101000000"
target:
  description: The resolved target release.
  returned: always
  type: str
  sample: "20240301000000"
path:
  description: The releases to step through, in order, ending with the target; empty when up to date or no current.
  returned: always
  type: list
  elements: str
  sample: ["20240201000000", "20240301000000"]
next:
  description: The first step of RV(path), or null.
  returned: always
  type: str
  sample: "20240201000000"
up_to_date:
  description: Whether there is nothing to do; null when no current release is known.
  returned: always
  type: bool
  sample: false
ahead:
  description: Whether the current release is after the target (for example a rack on V(edge)); null without a current release.
  returned: always
  type: bool
  sample: false
republished:
  description:
    - V(true) when the rack runs a release that was republished (C(rack_release force)) and the template it runs is
      not the one the channel now holds; RV(up_to_date) is then false and RV(path) is that release again.
  returned: when the rack runs a republished release's replaced template
  type: bool
  sample: true
required:
  description: The required releases on RV(path).
  returned: always
  type: list
  elements: str
  sample: ["20240201000000"]
drift:
  description:
    - What drift detection found on the rack's stack; see RV(convox.rack.rack#module:drift) for its keys
      (C(status), C(reason), C(drifted)).
  returned: when O(drift=true)
  type: dict
  sample: {"status": "IN_SYNC", "reason": null, "drifted": []}
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main as run_module


def main() -> None:
    run_module("rack_release_info")


if __name__ == "__main__":
    main()
