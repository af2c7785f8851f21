# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rack or app task means to do (``Plan``) and each CloudFormation operation it did
(``Step``), as small records; their ``to_dict()`` is the ``plan`` and ``steps`` of the task result
(DESIGN: snake_case, ``from`` / ``to`` for a step)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, ClassVar, Mapping

NO_CHANGES = "NO_CHANGES"       # a Step's status when CloudFormation had nothing to do


@dataclasses.dataclass
class Plan:
    """``action`` is install / update / none / uninstall for a rack, create / update / none / delete for
    an app.  ``path`` (racks only) is every release the rack moves through, the target last.  The fields after
    ``resource_changes`` are what only some plans have: None (or, for the lists a plan gathers, empty) leaves them
    out of the result, which lists them in the order declared here."""

    action: str
    from_version: str | None = None
    to_version: str | None = None
    path: list[str] | None = None
    parameter_changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    resource_changes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # the path beyond max_steps; parameters a release on the path adds; steps that replace the instances
    remaining_path: list[str] | None = None
    added_parameters: list[dict[str, Any]] | None = None
    instances_replaced: list[dict[str, Any]] | None = None
    # an uninstall's apps
    apps: list[str] | None = None
    # a dry run's: each step's resource changes, the protected resources and the stateful changes among them
    steps: list[dict[str, Any]] | None = None
    protected: list[str] | None = None
    stateful_changes: list[dict[str, Any]] | None = None
    # what the plan must warn about: exports other stacks import, apps of one task whose instances are replaced,
    # the room left in the region, security-sensitive changes
    exports_in_use: list[dict[str, Any]] | None = None
    single_task_apps: list[dict[str, Any]] | None = None
    region_room: int | None = None
    security_changes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    note: str | None = None
    # what the plan was computed from (an approved plan's apply checks it)
    fingerprint: str | None = None
    fingerprint_of: dict[str, str] | None = None

    OPTIONAL: ClassVar[tuple[str, ...]] = (
        "remaining_path", "added_parameters", "instances_replaced", "apps", "steps", "protected", "stateful_changes",
        "exports_in_use", "single_task_apps", "region_room", "security_changes", "warnings", "note", "fingerprint",
        "fingerprint_of")
    GATHERED: ClassVar[tuple[str, ...]] = ("security_changes", "warnings")     # in the result when not empty

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "from_version": self.from_version, "to_version": self.to_version}
        if self.path is not None:
            out["path"] = list(self.path)
        out["parameter_changes"] = self.parameter_changes
        out["resource_changes"] = self.resource_changes
        for name in self.OPTIONAL:
            value = getattr(self, name)
            if value is not None and (value or name not in self.GATHERED):
                out[name] = value
        return out


@dataclasses.dataclass
class Step:
    """One CloudFormation operation of a task: from and to which release, the stack's status after it
    (``NO_CHANGES`` when CloudFormation had nothing to do, the failure's status when it failed), and
    how long it took."""

    from_version: str | None
    to_version: str | None
    status: str | None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_version, "to": self.to_version, "status": self.status, "seconds": self.seconds}


def added_resources(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The resource changes of creating a stack from ``template``: every resource added."""
    return [{"action": "Add", "logical_id": k, "type": v.get("Type"), "replacement": None}
            for k, v in sorted(template["Resources"].items())]


# what a plan is computed from, by part: a fingerprint that differs says which part changed.  Everything that alters
# what the apply does is a part of it: the stack as it is, what the task asks for, the path and its templates, the
# apps, every guard rail and where the rack lives.
BASIS = {"stack": "the stack (its status or last update)", "parameters": "the stack's parameters",
         "tags": "the stack's tags", "target": "the target (version, parameters, tags or protection asked for)",
         "path": "the path of releases", "templates": "a template on the path (the channel)",
         "state": "the state asked for (present or absent)",
         "apps": "the apps (their state, release, parameters or stacks)",
         "protect_stateful": "protect_stateful", "allow_replace": "allow_replace",
         "retain_resources": "retain_resources", "resources_to_skip": "resources_to_skip",
         "notification_arns": "notification_arns", "role_arn": "role_arn",
         "rollback_alarms": "rollback_alarms (or rollback_monitoring_minutes)",
         "force": "force", "recover": "recover", "where": "the account or region"}


def fingerprint(basis: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(fingerprint, digest of each part) of what a plan was computed from (``basis``: the parts of ``BASIS``)."""
    parts = {name: hashlib.sha256(json.dumps(basis.get(name), sort_keys=True, default=str).encode("utf-8"))
             .hexdigest()[:16] for name in BASIS}
    whole = hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    return whole, parts


def what_changed(approved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The parts of a plan's basis whose digests differ between an approved plan and the plan computed now."""
    return [BASIS[name] for name in BASIS if approved.get(name) != now.get(name)] or ["what the plan was computed from"]
