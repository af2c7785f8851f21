# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource changes of a release step, for dry runs: read from a change set (the first step, against
the live stack) or computed statically from two consecutive templates (later steps, whose start
state does not exist yet), and which of them would remove or replace a stateful resource.  Pure:
imports nothing."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Mapping

# Resources whose removal or replacement loses something that cannot be recreated as it was: data (buckets, tables,
# databases, file systems, caches, queues, streams, logs, secrets, parameters, backups) or an identity others hold on
# to (a key's material, a user pool's users and their ids, a hosted zone's name servers, a certificate, a key pair,
# an Elastic IP's address).  docs/reliability.md ("Safety") says how the list is chosen.
STATEFUL_TYPES = frozenset([
    # data
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Logs::LogGroup",
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster", "AWS::EFS::FileSystem",
    "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache",
    "AWS::ElastiCache::GlobalReplicationGroup", "AWS::SQS::Queue", "AWS::ECR::Repository",
    "AWS::SecretsManager::Secret", "AWS::SSM::Parameter", "AWS::EC2::Volume", "AWS::Kinesis::Stream",
    "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain", "AWS::Neptune::DBCluster",
    "AWS::Neptune::DBInstance", "AWS::DocDB::DBCluster", "AWS::DocDB::DBInstance", "AWS::Redshift::Cluster",
    "AWS::FSx::FileSystem", "AWS::Backup::BackupVault", "AWS::MSK::Cluster", "AWS::Timestream::Table",
    "AWS::Cassandra::Table", "AWS::MemoryDB::Cluster",
    # identity: recreated, it is another one
    "AWS::KMS::Key", "AWS::Cognito::UserPool", "AWS::Cognito::IdentityPool", "AWS::Route53::HostedZone",
    "AWS::CertificateManager::Certificate", "AWS::EC2::KeyPair", "AWS::EC2::EIP",
])
# DeletionPolicy / UpdateReplacePolicy values that keep the data when CloudFormation deletes or replaces the resource
KEEPING_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")
# IAM resources whose addition or widening grants access
IAM_TYPES = frozenset([
    "AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role",
    "AWS::IAM::Group", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy",
    "AWS::IAM::UserToGroupAddition", "AWS::IAM::InstanceProfile",
])
OPEN_CIDRS = ("0.0.0.0/0", "::/0")

# action, logical_id, type, replacement, stateful, source (snake_case: it is returned as it is)
Change = Dict[str, Any]


def _resources(template: Mapping[str, Any] | None) -> dict[str, Any]:
    resources = (template or {}).get("Resources") or {}
    return resources if isinstance(resources, dict) else {}


def is_stateful(resource_type: str | None, declaration: Any = None) -> bool:
    """A resource that holds data: by its type, or because its template retains it on deletion."""
    declaration = declaration if isinstance(declaration, dict) else {}
    return resource_type in STATEFUL_TYPES or declaration.get("DeletionPolicy") in KEEPING_POLICIES


def fate(action: str | None, replacement: str | None, declaration: Any) -> str | None:
    """What happens to the data of a resource removed or replaced, by the policy that governs it (``DeletionPolicy``
    on removal, ``UpdateReplacePolicy`` on replacement): ``retained`` (left behind, no longer managed: orphaned),
    ``snapshot`` (deleted after a final snapshot) or None (deleted: lost)."""
    declaration = declaration if isinstance(declaration, dict) else {}
    policy = declaration.get("DeletionPolicy" if action == "Remove" else "UpdateReplacePolicy")
    if action == "Modify" and str(replacement) not in ("True", "Conditional"):
        return None
    if policy in ("Retain", "RetainExceptOnCreate"):
        return "retained"
    if policy == "Snapshot":
        return "snapshot"
    return None


def change(action: str | None, logical_id: str | None, resource_type: str | None, replacement: str | None = None,
           stateful: bool = False, source: str = "change set", declaration: Any = None) -> Change:
    """One resource change: ``action`` Add / Modify / Remove; ``replacement`` True / Conditional / False
    (None for Add and Remove); ``stateful`` when it would remove or replace a stateful resource; ``fate``, for one
    removed or replaced under a keeping policy (``declaration``, the resource as it was), ``retained`` or
    ``snapshot``."""
    out = {"action": action, "logical_id": logical_id, "type": resource_type, "replacement": replacement,
           "stateful": bool(stateful), "source": source}
    kept = fate(action, replacement, declaration) if stateful else None
    if kept:
        out["fate"] = kept
    return out


def annotate(changes: Iterable[Mapping[str, Any]], old_template: Mapping[str, Any] | None) -> list[Change]:
    """Change-set changes with the ``stateful`` flag (the live stack's template gives DeletionPolicy)."""
    old = _resources(old_template)
    out: list[Change] = []
    for item in changes:
        replaces = item.get("action") == "Remove" or (item.get("action") == "Modify" and str(
            item.get("replacement")) in ("True", "Conditional"))
        declaration = old.get(item.get("logical_id") or "")
        stateful = replaces and is_stateful(item.get("type"), declaration)
        out.append(change(item.get("action"), item.get("logical_id"), item.get("type"), item.get("replacement"),
                          stateful, "change set", declaration))
    return out


def template_diff(old_template: Mapping[str, Any] | None, new_template: Mapping[str, Any] | None) -> list[Change]:
    """The resource changes from one template to the next, statically: added, removed, type changed
    (a replacement) and properties changed (a modification whose replacement depends on which
    property: ``Conditional``)."""
    old, new = _resources(old_template), _resources(new_template)
    out: list[Change] = []
    for logical_id in sorted(set(old) | set(new)):
        before, after = old.get(logical_id), new.get(logical_id)
        before_type = (before or {}).get("Type") if isinstance(before, dict) else None
        after_type = (after or {}).get("Type") if isinstance(after, dict) else None
        if before is None:
            out.append(change("Add", logical_id, after_type, None, False, "template diff"))
        elif after is None:
            out.append(change("Remove", logical_id, before_type, None, is_stateful(before_type, before),
                              "template diff", before))
        elif before_type != after_type:
            out.append(change("Modify", logical_id, after_type, "True", is_stateful(before_type, before),
                              "template diff", before))
        elif _canonical(before) != _canonical(after):
            props_changed = _canonical(before.get("Properties")) != _canonical(after.get("Properties"))
            replacement = "Conditional" if props_changed else "False"
            out.append(change("Modify", logical_id, after_type, replacement,
                              props_changed and is_stateful(before_type, before), "template diff", before))
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def describe(item: Mapping[str, Any]) -> str:
    """``Remove AWS::S3::Bucket Data`` (+ the replacement, + what happens to a kept resource) for diffs and
    warnings."""
    text = "%s %s %s" % (item.get("action"), item.get("type"), item.get("logical_id"))
    if item.get("action") == "Modify" and item.get("replacement") not in (None, "False"):
        text += " (replacement: %s)" % item.get("replacement")
    if item.get("fate") == "retained":
        text += " (retained: left behind, orphaned)"
    elif item.get("fate") == "snapshot":
        text += " (deleted after a final snapshot)"
    return text


def stateful_warning(item: Mapping[str, Any]) -> str:
    """What a stateful change does to the data, as the end of a warning sentence."""
    if item.get("fate") == "retained":
        return "%s would leave a stateful resource behind, orphaned: CloudFormation keeps it (DeletionPolicy or " \
               "UpdateReplacePolicy Retain) but no longer manages it, and nothing deletes it later" % describe(item)
    if item.get("fate") == "snapshot":
        return "%s would delete a stateful resource after a final snapshot: its live data goes, the snapshot " \
               "stays" % describe(item)
    return "%s would lose a stateful resource's data" % describe(item)


# -- security-sensitive changes, from two templates -----------------------------------------------------------
def _grants(value: Any) -> set[str]:
    """Every (effect Allow) statement element of the IAM policy documents inside ``value``, as canonical text:
    ``Action|Resource|Principal|Condition`` of each Allow statement, with NotAction/NotResource as such."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Statement" in value and value["Statement"] is not None:
            for statement in _as_list(value["Statement"]):
                if isinstance(statement, dict) and statement.get("Effect") == "Allow":
                    found |= _statement_grants(statement)
        for key, item in value.items():
            if key != "Statement":
                found |= _grants(item)
    elif isinstance(value, list):
        for item in value:
            found |= _grants(item)
    return found


def _statement_grants(statement: Mapping[str, Any]) -> set[str]:
    """The grants of one Allow statement: each action (or NotAction) on each resource (or NotResource), with its
    principal and condition; a resource policy's statement names no resource."""
    found: set[str] = set()
    scope = _canonical({k: statement.get(k) for k in ("Principal", "NotPrincipal", "Condition")})
    for kind in ("Action", "NotAction"):
        for action in _as_list(statement.get(kind)):
            for rkind in ("Resource", "NotResource"):
                for resource in _as_list(statement.get(rkind)):
                    found.add("%s=%s|%s=%s|%s" % (kind, _canonical(action), rkind, _canonical(resource), scope))
            if "Resource" not in statement and "NotResource" not in statement:
                found.add("%s=%s|%s" % (kind, _canonical(action), scope))     # resource policies
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _managed_policies(declaration: Mapping[str, Any]) -> set[str]:
    props = declaration.get("Properties") or {}
    return {_canonical(arn) for arn in _as_list(props.get("ManagedPolicyArns") if isinstance(props, dict) else None)}


def _open_ingress(declaration: Mapping[str, Any]) -> set[str]:
    """Ingress rules of a security group (or a SecurityGroupIngress) that admit 0.0.0.0/0 or ::/0 (in any branch of
    an Fn::If), as canonical text."""
    props = declaration.get("Properties") or {}
    if not isinstance(props, dict):
        return set()
    rules = [props] if declaration.get("Type") == "AWS::EC2::SecurityGroupIngress" else _as_list(
        props.get("SecurityGroupIngress"))
    return {_canonical(rule) for rule in rules if isinstance(rule, dict) and any(
        cidr in _canonical({k: rule.get(k) for k in ("CidrIp", "CidrIpv6")}) for cidr in OPEN_CIDRS)}


def _secret_outputs(template: Mapping[str, Any]) -> set[str]:
    """Outputs whose value reads an access key's SecretAccessKey."""
    resources = _resources(template)
    keys = {name for name, res in resources.items() if isinstance(res, dict) and res.get("Type") == "AWS::IAM::AccessKey"}
    outputs = (template or {}).get("Outputs") or {}
    found = set()
    for name, output in outputs.items() if isinstance(outputs, dict) else ():
        text = _canonical((output or {}).get("Value") if isinstance(output, dict) else output)
        if "SecretAccessKey" in text and any('"%s"' % key in text or "%s.SecretAccessKey" % key in text for key in keys):
            found.add(name)
    return found


def security_findings(old_template: Mapping[str, Any] | None, new_template: Mapping[str, Any] | None) -> list[str]:
    """What a step from ``old_template`` to ``new_template`` does that weakens security or the protection of data,
    one sentence each: IAM users, access keys, policies or roles added or widened; ingress from 0.0.0.0/0 or ::/0
    added; a DeletionPolicy or UpdateReplacePolicy weakened (Retain or Snapshot to Delete); an output that exposes
    an access key's secret.  Pure and static (conditions are not evaluated: a rule in either branch counts)."""
    old, new = _resources(old_template), _resources(new_template)
    found: list[str] = []
    for logical_id in sorted(new):
        after = new[logical_id] if isinstance(new[logical_id], dict) else {}
        before = old.get(logical_id) if isinstance(old.get(logical_id), dict) else None
        rtype = after.get("Type")
        if rtype in IAM_TYPES:
            if before is None or before.get("Type") != rtype:
                found.append("adds %s %s (IAM: it grants access)" % (rtype, logical_id))
            else:
                wider = _grants(after) - _grants(before)
                policies = _managed_policies(after) - _managed_policies(before)
                if wider or policies:
                    found.append("widens %s %s (IAM: %s)" % (rtype, logical_id, "; ".join(
                        (["%d more allowed action/resource pair%s" % (len(wider), "" if len(wider) == 1 else "s")]
                         if wider else []) + (["managed policies added: %s" % ", ".join(sorted(p.strip('"') for p in policies))]
                                              if policies else []))))
        opened = _open_ingress(after) - (_open_ingress(before) if before else set())
        if opened:
            found.append("opens %s %s to ingress from %s" % (rtype, logical_id, " or ".join(
                c for c in OPEN_CIDRS if any(c in rule for rule in opened))))
        if before is not None:
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                was, now = before.get(policy), after.get(policy)
                if was in KEEPING_POLICIES and now not in KEEPING_POLICIES:
                    found.append("weakens the %s of %s %s from %s to %s: its data would be deleted with it"
                                 % (policy, rtype, logical_id, was, now or "Delete (the default)"))
    for output in sorted(_secret_outputs(new_template or {}) - _secret_outputs(old_template or {})):
        found.append("adds output %s, which exposes an access key's secret to anyone allowed to describe the stack"
                     % output)
    return found


def stateful_changes(steps: Iterable[Mapping[str, Any]]) -> list[tuple[str, Change]]:
    """(step label, change) of every change of ``steps`` that removes or replaces a stateful resource."""
    return [(step["label"], item) for step in steps for item in step["resource_changes"] if item.get("stateful")]


def drift_lines(drift: Mapping[str, Any] | None) -> list[str]:
    """One line per drifted resource: ``Data (AWS::S3::Bucket) MODIFIED: /Properties/X: a -> b``."""
    lines = []
    for item in (drift or {}).get("drifted") or []:
        diffs = "; ".join("%s: %s -> %s" % (d.get("path"), d.get("expected"), d.get("actual"))
                          for d in item.get("differences") or [])
        lines.append("%s (%s) %s%s" % (item.get("logical_id"), item.get("type"), item.get("status"),
                                       (": " + diffs) if diffs else ""))
    return lines
