# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Matches convox.rack.plugins.module_utils.model._specs.stack_options_argument_spec()
    DOCUMENTATION = r"""
options:
  notification_arns:
    description:
      - SNS topics CloudFormation sends the stack's events to (C(NotificationARNs)), on install and on every update.
      - Not given, an existing stack keeps its topics; an empty list removes them.
    type: list
    elements: str
  role_arn:
    description:
      - A CloudFormation service role (C(RoleARN)) the stack's operations run with - creating, updating, rolling
        back and deleting its resources - instead of the task's own credentials, as in M(amazon.aws.cloudformation).
      - Not given, an existing stack keeps the role it has. The task's credentials need C(iam:PassRole) on it.
    type: str
  template_bucket:
    description:
      - An S3 bucket to stage a template larger than CloudFormation's 51,200-byte C(TemplateBody) limit that its
        channel cannot serve by URL (a C(file://) channel, an C(https://) channel not served by S3, or - in the
        C(aws-cn) and C(aws-us-gov) partitions - a channel bucket in another region). The template is written once
        as C(convox-rack/templates/<sha256>.json) and CloudFormation reads it from there (C(TemplateURL)).
      - Outside the C(aws) partition the bucket must be in the stack's region. Without it, such a template is an error
        naming this option, before any change. A dry run never stages it, and plans that step from a template diff.
    type: str
    version_added: 1.1.0
  resources_to_skip:
    description:
      - With O(recover=true) on a stack in C(UPDATE_ROLLBACK_FAILED), the logical ids (C(Nested.Logical) for a nested
        stack's) that ContinueUpdateRollback skips - resources whose rollback cannot succeed, left as they are and
        named in the result.
      - Without it, a rollback that fails again leaves the stack in C(UPDATE_ROLLBACK_FAILED) and the task fails naming
        the resources that failed, and this option.
    type: list
    elements: str
    default: []
  retain_resources:
    description:
      - With O(state=absent), on a stack whose deletion failed (C(DELETE_FAILED), found so or met during this task),
        the logical ids of resources to leave in place so that the stack's deletion completes (C(RetainResources));
        they are named in the result (RV(retained)) and are not emptied or deleted by the collection.
    type: list
    elements: str
    default: []
  protect_stateful:
    description:
      - During every update step, a stack policy (C(StackPolicyDuringUpdateBody), added to the stack's own policy)
        denies replacing or deleting the stack's stateful resources - buckets, tables, keys, log groups, volumes,
        databases and any resource its template retains - except those O(allow_replace) names. An update that would
        replace or delete one fails and rolls back before anything is lost, the task naming the resource and
        O(allow_replace). The dry run lists the protected resources (C(plan.protected)).
      - Needs C(cloudformation:GetStackPolicy) (in C(docs/iam-policy.json)).
    type: bool
    default: true
  allow_replace:
    description:
      - Logical ids of stateful resources an update may replace or delete despite O(protect_stateful).
    type: list
    elements: str
    default: []
  rollback_alarms:
    description:
      - CloudWatch alarms (names, or ARNs) that guard every update step - CloudFormation's rollback triggers
        (C(RollbackConfiguration)) - when one goes into C(ALARM) during the step (or during
        O(rollback_monitoring_minutes) after it), CloudFormation rolls the step back, and the task fails naming the
        alarm. A name is resolved in the task's account and region before any change; an alarm that does not exist
        fails the task, changing nothing.
      - Needs C(cloudwatch:DescribeAlarms) (not in C(docs/iam-policy.json), which holds what every task needs).
    type: list
    elements: str
    default: []
  rollback_monitoring_minutes:
    description:
      - How long CloudFormation keeps watching O(rollback_alarms) after an update step's resources are updated,
        before the step completes (0 to 180).
    type: int
    default: 0
  cancel_on_timeout:
    description:
      - When O(wait_timeout) passes while an update is in progress, cancel it (C(CancelUpdateStack)), wait for the
        stack to roll back to where it was, and fail saying so - instead of leaving the update running.
    type: bool
    default: false
"""
