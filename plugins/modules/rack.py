#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rack
short_description: Install, update through required releases, and uninstall a Convox rack
version_added: 1.0.0
description:
  - A rack is a self-contained AWS environment (VPC, ECS cluster on an Auto Scaling group, load balancer, KMS key,
    encrypted buckets and tables, log group, IAM) built as one CloudFormation stack named after the rack, from the
    C(rack.json) template of a release in a release channel. Its current release is the stack parameter C(Version).
  - B(Install) creates the stack from the target release (V(latest) by default) and waits for it.
  - B(Update) moves the rack along the update path - every published and required release between the current
    one and the target, then the target - with one stack update per step, each waited for and reported in RV(steps).
    O(max_steps) limits how many steps one run takes.
  - Parameters, tags and termination protection are changed in place. Parameters not given keep their current
    value (a parameter new in the target release takes its template default; one the release dropped is dropped).
    A key the target template does not declare is an error, reported before any change is made.
  - B(Uninstall) (O(state=absent)) refuses while the rack has apps unless O(force=true) (then the apps are deleted
    first), empties the rack's retained buckets, disables termination protection, deletes the stack, waits, and
    deletes the emptied buckets, so nothing is left behind.
  - 'A stack found in any CloudFormation status is handled deliberately: an operation in progress is waited for
    (within O(wait_timeout)); a failed install (C(ROLLBACK_COMPLETE)) is deleted and installed again;
    C(UPDATE_ROLLBACK_FAILED) is recovered with ContinueUpdateRollback when O(recover=true); other failed states
    fail with a message saying what the operator must do.'
  - C(No updates are to be performed) is reported as C(changed=false), never as an error.
  - B(Ownership.) A stack is the rack O(name) only if it carries the tags C(System=convox), C(Type=rack) and
    C(Rack=<name>). Any other stack of that name is refused before any change and before planning, unless
    O(adopt=true). The apps deleted by O(force=true) are the stacks tagged C(System=convox), C(Type=app),
    C(Rack=<name>), whatever their names.
  - A run that changes nothing costs one DescribeStacks call (plus reading the channel when O(version) must be
    resolved, unless O(releases) is given).
author:
  - Convox Rack Maintainers (@convox-rack)
options:
  name:
    description:
      - The rack name, which is also the CloudFormation stack name.
      - Starts with a letter; letters, digits and hyphens; at most 64 characters.
    type: str
    required: true
    aliases: [rack]
  state:
    description:
      - V(present) installs or updates the rack; V(absent) uninstalls it.
    type: str
    choices: [present, absent]
    default: present
  org:
    description:
      - The organization the rack belongs to, set as the C(Org) stack tag.
    type: str
  channel:
    description:
      - Required to install a rack or to change its version.
  version:
    description:
      - The target release. V(latest) (alias V(stable)) is the last published release; V(edge) the last release,
        published or not; any other string names that release.
      - Omitted, an install takes V(latest) and an existing rack keeps its version.
    type: str
  parameters:
    description:
      - Template parameters, as a dictionary. C(Version) is set by the collection.
      - Values may be strings, numbers, booleans (C(true) becomes C(Yes) where the template allows C(Yes)/C(No))
        or lists (joined with commas).
    type: dict
    default: {}
  termination_protection:
    description:
      - CloudFormation termination protection of the rack's stack. Uninstalling disables it first.
      - Omitted, an install turns it on and an existing rack keeps it as it is (like an omitted parameter).
    type: bool
  adopt:
    description:
      - Take over an existing stack named O(name) that lacks the rack's tags (C(System=convox), C(Type=rack),
        C(Rack=<name>)). The tags it gains are shown in the diff and in RV(plan.note).
      - Without it such a stack is refused with a message naming it and its tags, and nothing is changed (in check
        mode too). With O(state=absent) and O(adopt=true), the stack is uninstalled as a rack would be.
    type: bool
    default: false
  max_steps:
    description:
      - At most this many release steps in this run. V(0) takes the whole path; V(1) one step, like a single
        C(convox rack update). RV(plan.remaining_path) lists the steps left for later runs.
    type: int
    default: 0
  allow_downgrade:
    description:
      - Permit a target release earlier than the current one, taken as a single direct step.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), uninstall even if the rack has apps, deleting them first.
    type: bool
    default: false
  recover:
    description:
      - A rack in C(UPDATE_ROLLBACK_FAILED) is first recovered with ContinueUpdateRollback (skipping
        O(resources_to_skip)); one in C(UPDATE_FAILED) or C(CREATE_FAILED) (rollback disabled) is first rolled back
        to its last stable state with RollbackStack (C(cloudformation:RollbackStack), not in
        C(docs/iam-policy.json)). Without it such a rack fails the task, saying so.
    type: bool
    default: false
  drift:
    description:
      - Run CloudFormation drift detection on the rack's stack before planning, and report the resources changed
        outside CloudFormation (RV(drift)) in the result, as a warning and as an entry of the diff.
      - Drift detection changes no stack, so it also runs in check mode. It needs
        C(cloudformation:DetectStackDrift), C(cloudformation:DescribeStackDriftDetectionStatus),
        C(cloudformation:DescribeStackResourceDrifts) and read access to the rack's resources.
      - A rack that is not installed, or whose stack is not in a complete state, is reported C(NOT_CHECKED).
    type: bool
    default: false
  expect_fingerprint:
    description:
      - Apply only the approved plan. The plan is computed as usual and, before any change, its
        RV(plan.fingerprint) compared with this value (the fingerprint of the plan that was reviewed, for example
        from a C(--check) run); when they differ - the stack's status or last update, its parameters or tags, the
        target asked for, the path or a template on it changed since - the task fails, changing nothing, with both
        fingerprints named and C(stale=true).
      - The fleet's C(update.yml -e convox_plan_file=plan.json) sets it for every rack from the plan file its
        C(--check) run wrote.
    type: str
  releases:
    description:
      - The RV(convox.rack.rack_release_info#module:releases) list, so that fleet runs read the channel once and
        pass the result to every rack instead of re-reading it. Templates are still read from O(channel).
    type: list
    elements: dict
  apps:
    description:
      - The rack's apps, converged in the same task right after the rack, on the rack's release (as
        M(convox.rack.rack_app) would converge each of them). One task per rack instead of one per app and rack is
        what keeps fleet runs fast.
      - Only the listed apps are managed; apps on the rack that are not listed are left alone.
      - Omitted, apps are not touched. Ignored with O(state=absent) (see O(force)).
      - In check mode the apps are planned against the release the rack would move to.
    type: list
    elements: dict
    suboptions:
      name:
        description: App name (the app's stack is C(<rack>-<name>)).
        type: str
        required: true
      state:
        description: V(present) creates or updates the app; V(absent) deletes it (its buckets emptied first).
        type: str
        choices: [present, absent]
        default: present
      parameters:
        description: The app template's parameters (C(Rack) and C(Version) are set by the collection).
        type: dict
        default: {}
      tags:
        description: Extra stack tags of the app.
        type: dict
        default: {}
      purge_tags:
        description: Remove the app's user tags that O(apps[].tags) does not list.
        type: bool
        default: true
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
    description:
      - Changes nothing and reports the plan. To list the resource changes of the first step, a change set is
        created, read and deleted; that is the only write check mode makes.
  diff_mode:
    support: full
    description:
      - Shows the version, parameters, tags and termination protection before and after; with O(apps), the version,
        parameters and tags of each app too.
notes:
  - Updates use the template of each release on the path; parameter values are sent explicitly (C(UsePreviousValue)
    only for C(NoEcho) parameters, whose values CloudFormation masks).
  - A failed operation fails the task with the failing resource, its type and CloudFormation's reason, taken from
    the stack events of that operation only.
seealso:
  - module: convox.rack.rack_release_info
  - module: convox.rack.rack_release
"""

EXAMPLES = r"""
- name: Install a rack at the latest release
  convox.rack.rack:
    name: production
    org: acme
    channel: s3://acme-convox-releases/stable
    parameters:
      InstanceType: t3.large
      InstanceCount: 3
      Private: true

- name: Update to the latest release, through every required release on the way
  convox.rack.rack:
    name: production
    channel: s3://acme-convox-releases/stable
    version: latest
  register: update

- name: Show what was done
  ansible.builtin.debug:
    msg: "{{ update.steps | map(attribute='to') | join(' -> ') }}"

- name: Converge a rack and its apps in one task (what the convox.rack.rack role does)
  convox.rack.rack:
    name: production
    channel: s3://acme-convox-releases/stable
    version: latest
    apps:
      - name: website
        parameters:
          Count: 2
          Priority: 300     # each app on a rack needs its own load balancer rule priority
      - name: old-worker
        state: absent

- name: Take a single release step, like one `convox rack update`
  convox.rack.rack:
    name: production
    channel: s3://acme-convox-releases/stable
    version: latest
    max_steps: 1

- name: Change one parameter in place; the others keep their values
  convox.rack.rack:
    name: production
    parameters:
      InstanceCount: 5

- name: Recover a rack whose update rollback failed, then converge it
  convox.rack.rack:
    name: production
    channel: s3://acme-convox-releases/stable
    recover: true

- name: Uninstall a rack and its apps; its buckets are emptied and removed
  convox.rack.rack:
    name: sandbox
    state: absent
    force: true
"""

RETURN = r"""
retained:
  description:
    - The logical ids of the resources O(retain_resources) left in place when the rack's stack, whose deletion had
      failed, was deleted.
  returned: when O(state=absent) deleted a stack leaving resources in place
  type: list
  elements: str
  sample: ["Settings"]
rack:
  description: The rack after the task (its last state, with status C(DELETE_COMPLETE), after an uninstall); null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Rack name.
      type: str
      sample: production
    org:
      description: The C(Org) tag.
      type: str
      sample: acme
    region:
      description: AWS region.
      type: str
      sample: eu-west-1
    account_id:
      description: The AWS account the rack's stack is in (from its stack id).
      type: str
      sample: "123456789012"
    status:
      description: CloudFormation stack status.
      type: str
      sample: UPDATE_COMPLETE
    version:
      description: Current release (the C(Version) parameter).
      type: str
      sample: "20240301000000"
    stack_id:
      description: Stack ARN.
      type: str
      sample: arn:aws:cloudformation:eu-west-1:123456789012:stack/production/0a1b2c3d
    parameters:
      description: Stack parameters (C(NoEcho) values masked).
      type: dict
      sample: {"InstanceCount": "3", "Version": "20240301000000"}
    outputs:
      description: Stack outputs.
      type: dict
      sample: {"Cluster": "production", "Vpc": "vpc-0123"}
    tags:
      description: Stack tags.
      type: dict
      sample: {"System": "convox", "Type": "rack", "Rack": "production", "Org": "acme"}
    termination_protection:
      description: Whether termination protection is on.
      type: bool
      sample: true
plan:
  description: What the task does (or, in check mode, would do).
  returned: always
  type: dict
  contains:
    action:
      description: V(install), V(update), V(uninstall) or V(none).
      type: str
      sample: update
    from_version:
      description: Release before the task.
      type: str
      sample: "20240101000000"
    to_version:
      description: Release after the task.
      type: str
      sample: "20240301000000"
    path:
      description: Release steps taken in this run.
      type: list
      elements: str
      sample: ["20240201000000", "20240301000000"]
    fingerprint:
      description:
        - The fingerprint of what the plan was computed from - the stack's status and last update, its parameters
          and tags, the target asked for (version, parameters, tags, protection; a NoEcho value only as set, never
          its value), the path and each step's template digest. O(expect_fingerprint) applies a plan only when it
          is the same.
      returned: always, with O(state=present)
      type: str
      sample: 8f0c2d6b1e7a4c3f9b5d0e2a1c4b6d8e
    fingerprint_of:
      description: The digest of each part the fingerprint is computed from (C(stack), C(parameters), C(tags),
        C(target), C(path), C(templates)), so that a stale plan can say what changed.
      returned: always, with O(state=present)
      type: dict
    remaining_path:
      description: Steps left for later runs when O(max_steps) cut the path.
      type: list
      elements: str
      returned: when O(max_steps) cut the path
      sample: ["20240301000000"]
    parameter_changes:
      description: Parameters that change, each with C(before) and C(after).
      type: dict
      sample: {"InstanceCount": {"before": "3", "after": "5"}}
    resource_changes:
      description:
        - Resource changes of the first step, each C(action), C(logical_id), C(type), C(replacement).
        - In check mode from a change set (created and deleted); for an install, every template resource.
      type: list
      elements: dict
      sample: [{"action": "Modify", "logical_id": "Instances", "type": "AWS::AutoScaling::AutoScalingGroup", "replacement": "False"}]
    apps:
      description: Apps found on the rack when uninstalling.
      type: list
      elements: str
      returned: when O(state=absent)
      sample: ["web1"]
    note:
      description: How a stack found in an unusual state was handled (or why a rack takes its own release again).
      type: str
      returned: when applicable
      sample: a failed install (ROLLBACK_COMPLETE) was deleted and is installed again
    steps:
      description:
        - In check mode, each release step's resource changes - the first from a change set, later ones from a static
          diff of consecutive templates - as C(step), C(source) and C(resource_changes) (each C(action),
          C(logical_id), C(type), C(replacement), C(stateful), C(source), and C(fate) - V(retained) or V(snapshot) -
          for a stateful resource kept by its policy).
      type: list
      elements: dict
      returned: in check mode, for an update
      sample: [{"step": "1 -> 2", "source": "change set", "resource_changes": []}]
    stateful_changes:
      description: In check mode, every change that removes or replaces a stateful resource, with its C(step).
      type: list
      elements: dict
      returned: in check mode, for an update
      sample: [{"step": "1 -> 2", "action": "Remove", "logical_id": "Data", "type": "AWS::S3::Bucket",
                "replacement": null, "stateful": true, "fate": "retained", "source": "change set"}]
    security_changes:
      description:
        - Security-sensitive changes of the plan, each C(step) and C(finding) - IAM users, access keys, policies or
          roles added or widened; ingress from 0.0.0.0/0 or ::/0 added; a DeletionPolicy or UpdateReplacePolicy
          weakened; an output exposing an access key's secret; a parameter losing NoEcho.
      type: list
      elements: dict
      returned: when there are any
      sample: [{"step": "1 -> 2", "finding": "opens AWS::EC2::SecurityGroup Group to ingress from 0.0.0.0/0"}]
    warnings:
      description: Every warning of the plan (stateful and security-sensitive changes), as sentences; each is also a
        task warning.
      type: list
      elements: str
      returned: when there are any
      sample: ["rack prod, step 1 -> 2: opens AWS::EC2::SecurityGroup Group to ingress from 0.0.0.0/0."]
drift:
  description: What drift detection found, before the task changed anything.
  returned: when O(drift=true)
  type: dict
  contains:
    status:
      description: V(DRIFTED), V(IN_SYNC), V(UNKNOWN) or V(NOT_CHECKED).
      type: str
      sample: DRIFTED
    reason:
      description: Why the detection did not run, or what CloudFormation said about it.
      type: str
      sample: null
    drifted:
      description:
        - Each resource changed outside CloudFormation, with C(logical_id), C(physical_id), C(type), C(status)
          (V(MODIFIED) or V(DELETED)) and C(differences) (each C(path), C(expected), C(actual), C(type)).
      type: list
      elements: dict
      sample: [{"logical_id": "Data", "physical_id": "production-data-1a2b", "type": "AWS::S3::Bucket",
                "status": "MODIFIED", "differences": [{"path": "/VersioningConfiguration/Status",
                "expected": "Enabled", "actual": "Suspended", "type": "NOT_EQUAL"}]}]
steps:
  description:
    - One entry per stack operation of this run. Also returned by a failure after a change was made, with the
      failed step last, and then with RV(rack) as last read and C(changed=true).
  returned: always
  type: list
  elements: dict
  sample: [{"from": "20240101000000", "to": "20240201000000", "status": "UPDATE_COMPLETE", "seconds": 312.4}]
apps:
  description:
    - One entry per app of O(apps), in order, each with C(name), C(state), C(changed), C(app), C(plan) and C(resources)
      as M(convox.rack.rack_app) returns them.
  returned: when O(apps) is given and O(state=present)
  type: list
  elements: dict
  sample: [{"name": "website", "state": "present", "changed": false, "app": {"name": "website", "rack": "production",
            "stack_name": "production-website", "status": "UPDATE_COMPLETE", "version": "20240301000000"},
            "plan": {"action": "none"}, "resources": []}]
resources:
  description: After an install or update, the rack's resources, each C(type), C(logical_id), C(physical_id), C(status).
  returned: always
  type: list
  elements: dict
  sample: [{"type": "AWS::EC2::VPC", "logical_id": "Vpc", "physical_id": "vpc-0123", "status": "CREATE_COMPLETE"}]
"""

from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main as run_module


def main() -> None:
    run_module("rack")


if __name__ == "__main__":
    main()
