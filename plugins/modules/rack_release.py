#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack_release
short_description: Publish a rack release into a release channel
version_added: 1.0.0
description:
  - Uploads C(<version>/rack.json) and C(<version>/app.json) into a release channel and adds (or
    updates) the release's entry in C(versions.json).
  - Templates may be written in JSON or YAML (short intrinsic tags such as C(!Ref) are understood); they are
    published as JSON.
  - C(versions.json) is updated with optimistic concurrency (S3 conditional writes, a lock on a
    filesystem), so a publisher never loses an entry written at the same moment by another.
  - Idempotent; with O(state=absent) the entry and its templates are removed.
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  channel:
    required: true
    description:
      - Only V(s3://) and V(file://) (or bare path) channels can be written.
  version:
    description:
      - The release name. Conventionally C(YYYYMMDDHHMMSS); only its position in C(versions.json) orders it.
      - Letters, digits, C(.), C(_), C(-) and C(+); not V(latest), V(stable) or V(edge).
    type: str
    required: true
  src:
    description:
      - A directory holding C(rack.json) (or C(rack.yml)) and C(app.json) (or C(app.yml)).
      - A relative path is looked up on the controller as other file arguments are, in the role's or play's
        C(files/) directory, then beside the playbook (over a C(local) connection; on another connection it names a
        directory of the host the module runs on).
      - Required with O(state=present).
    type: path
  description:
    description:
      - Free text shown by M(convox.rack.rack_release_info).
    type: str
    default: ""
  published:
    description:
      - Whether V(latest) may pick this release. Unpublished releases are reachable by name or V(edge).
    type: bool
    default: true
  required:
    description:
      - Whether update paths must pass through this release (when it is published).
    type: bool
    default: false
  force:
    description:
      - A published release is immutable - racks on it are defined by its templates - so publishing different
        templates under the version of a published release fails. V(true) replaces them all the same, and leaves a
        trace in its entry (C(republished), the time), so racks running the template it replaced are reported as
        not up to date by M(convox.rack.rack_release_info), and M(convox.rack.rack) takes the release again.
      - Unpublished releases (O(published=false)) can be republished freely until they are published.
    type: bool
    default: false
  state:
    description:
      - V(present) publishes; V(absent) removes the entry and its templates.
      - A new version is appended at the end of C(versions.json); an existing one keeps its position.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - convox.rack.account
  - convox.rack.channel
  - convox.rack.aws.modules
attributes:
  check_mode:
    support: full
    description: Reads the channel and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the release entry before and after, and which templates change.
"""

EXAMPLES = r"""
- name: Publish a release from a directory of templates
  convox.rack.rack_release:
    channel: s3://acme-convox-releases/stable
    version: "20240301000000"
    src: "{{ playbook_dir }}/formation"
    description: Adds private subnets

- name: Publish a required release (update paths may not skip it)
  convox.rack.rack_release:
    channel: file:///tmp/convox/channel
    version: "20240201000000"
    src: "{{ playbook_dir }}/formation"
    required: true

- name: Stage a release that latest does not pick yet
  convox.rack.rack_release:
    channel: file:///tmp/convox/channel
    version: "20240401000000"
    src: "{{ playbook_dir }}/formation"
    published: false

- name: Withdraw a release
  convox.rack.rack_release:
    channel: file:///tmp/convox/channel
    version: "20240401000000"
    state: absent
"""

RETURN = r"""
release:
  description: The release entry after the task; null after O(state=absent).
  returned: always
  type: dict
  sample: {"version": "20240301000000", "description": "Adds private subnets", "published": true, "required": false}
releases:
  description: The channel's releases after the task, in release order.
  returned: always
  type: list
  elements: dict
  sample: [{"version": "20240301000000", "description": "", "published": true, "required": false}]
templates_changed:
  description: The templates (V(rack), V(app)) uploaded or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["rack", "app"]
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main as run_module


def main() -> None:
    run_module("rack_release")


if __name__ == "__main__":
    main()
