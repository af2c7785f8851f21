# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Matches convox.rack.plugins.module_utils.model._specs.account_argument_spec()
    DOCUMENTATION = r"""
options:
  assume_role_arn:
    description:
      - An IAM role the task's own credentials (profile, keys, environment, instance role) assume first; every
        request of the task is then made as that role, in its account.
      - The role's credentials renew themselves before they expire (a quarter of their life before, at most
        15 minutes), so a task or a fleet run may last many hours; a request refused as expired anyway is retried
        once with renewed credentials, then fails naming the expired token.
      - One set of credentials per role is shared by every task of a process (one C(sts:AssumeRole), not one per
        rack).
    type: str
  assume_role_external_id:
    description:
      - The external id the role's trust policy asks for (C(sts:ExternalId)). Needs O(assume_role_arn).
    type: str
  assume_role_session_name:
    description:
      - The role session's name, as CloudTrail shows it. Needs O(assume_role_arn).
      - Defaults to C(convox-rack).
    type: str
  account_id:
    description:
      - The AWS account (12 digits) the task must act in. Before anything is read, planned or changed (in check
        mode too), the account of the credentials - after O(assume_role_arn) - is compared with it
        (C(sts:GetCallerIdentity)); the task fails, naming both accounts, when they differ.
    type: str
notes:
  - The task needs C(sts:AssumeRole) on O(assume_role_arn), and the role needs the collection's policy
    (C(docs/iam-policy.json)) in its account; C(sts:GetCallerIdentity) needs no permission.
"""
