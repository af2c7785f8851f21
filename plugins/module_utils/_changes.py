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

# Resources whose removal or replacement loses data.
STATEFUL_TYPES = frozenset([
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster", "AWS::EFS::FileSystem", "AWS::ElastiCache::CacheCluster", "AWS::SQS::Queue",
    "AWS::ECR::Repository", "AWS::SecretsManager::Secret",
])

# action, logical_id, type, replacement, stateful, source (snake_case: it is returned as it is)
Change = Dict[str, Any]


def _resources(template: Mapping[str, Any] | None) -> dict[str, Any]:
    resources = (template or {}).get("Resources") or {}
    return resources if isinstance(resources, dict) else {}


def is_stateful(resource_type: str | None, declaration: Any = None) -> bool:
    """A resource that holds data: by its type, or because its template retains it on deletion."""
    declaration = declaration if isinstance(declaration, dict) else {}
    return resource_type in STATEFUL_TYPES or declaration.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate",
                                                                                    "Snapshot")


def change(action: str | None, logical_id: str | None, resource_type: str | None, replacement: str | None = None,
           stateful: bool = False, source: str = "change set") -> Change:
    """One resource change: ``action`` Add / Modify / Remove; ``replacement`` True / Conditional / False
    (None for Add and Remove); ``stateful`` when it would remove or replace a stateful resource."""
    return {"action": action, "logical_id": logical_id, "type": resource_type, "replacement": replacement,
            "stateful": bool(stateful), "source": source}


def annotate(changes: Iterable[Mapping[str, Any]], old_template: Mapping[str, Any] | None) -> list[Change]:
    """Change-set changes with the ``stateful`` flag (the live stack's template gives DeletionPolicy)."""
    old = _resources(old_template)
    out: list[Change] = []
    for item in changes:
        replaces = item.get("action") == "Remove" or (item.get("action") == "Modify" and str(
            item.get("replacement")) in ("True", "Conditional"))
        stateful = replaces and is_stateful(item.get("type"), old.get(item.get("logical_id") or ""))
        out.append(change(item.get("action"), item.get("logical_id"), item.get("type"), item.get("replacement"),
                          stateful, "change set"))
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
                              "template diff"))
        elif before_type != after_type:
            out.append(change("Modify", logical_id, after_type, "True", is_stateful(before_type, before),
                              "template diff"))
        elif _canonical(before) != _canonical(after):
            props_changed = _canonical(before.get("Properties")) != _canonical(after.get("Properties"))
            replacement = "Conditional" if props_changed else "False"
            out.append(change("Modify", logical_id, after_type, replacement,
                              props_changed and is_stateful(before_type, before), "template diff"))
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def describe(item: Mapping[str, Any]) -> str:
    """``Remove AWS::S3::Bucket Data`` (+ the replacement) for diffs and warnings."""
    text = "%s %s %s" % (item.get("action"), item.get("type"), item.get("logical_id"))
    if item.get("action") == "Modify" and item.get("replacement") not in (None, "False"):
        text += " (replacement: %s)" % item.get("replacement")
    return text


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
