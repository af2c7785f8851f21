# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift detection (moto has none): DetectStackDrift, DescribeStackDriftDetectionStatus and
DescribeStackResourceDrifts.  A detection takes a quarter of the real-duration seconds (DETECTION_IN_PROGRESS
meanwhile; instant by default), finds the resources a test marked drifted (``hooks.set_stack`` with ``drift``)
and every other resource of the stack IN_SYNC; it is refused while the stack is busy, as AWS refuses it.  With the
IAM model on, a resource the caller may not read (its type's read handler permissions) fails the detection:
DETECTION_FAILED, naming the resource and the action.  A test
can make the next detections of a stack fail in part (``drift_failure``): DETECTION_FAILED with AWS's reason, the
resources it could check still reported, as AWS does."""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

from . import iam, timing
from .patching import Patches

PATCHES = Patches("drift", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html")
RESPONSE = "moto.cloudformation.responses:CloudFormationResponse"
DRIFTS: dict[str, dict[str, Any]] = {}            # stack id -> {logical id: dict(status, differences)}, marked by tests
FAILURES: dict[str, str] = {}          # stack id -> the reason its detections fail in part
_DETECTIONS: dict[str, Any] = {}       # detection id -> what it found


def reset():
    DRIFTS.clear()
    FAILURES.clear()
    _DETECTIONS.clear()


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _error(message, name):
    from moto.cloudformation.exceptions import ValidationError
    return ValidationError(name, message=message)


def _detection(detection_id):
    d = _DETECTIONS.get(detection_id)
    if d is None:
        raise _error("Drift detection %s was not found" % detection_id, detection_id)
    return d, time.time() >= d["until"]


@PATCHES.wrap(RESPONSE + ".detect_stack_drift", "DetectStackDrift, refused while the stack is busy or failed",
              adds=True)
def _detect_stack_drift(dummy):
    from moto.core.responses import ActionResult

    def detect_stack_drift(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status.endswith("_IN_PROGRESS") or stack.status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED"):
            raise _error("Stack [%s] is in %s state and drift detection cannot be performed" % (stack.name, stack.status),
                         stack.stack_id)
        detection_id = str(uuid.uuid4())
        wanted = self._get_param("LogicalResourceIds") or None
        marked = DRIFTS.get(stack.stack_id, {})
        found = {k: v for k, v in marked.items() if wanted is None or k in wanted}
        with timing.LOCK:
            _DETECTIONS[detection_id] = {"stack_id": stack.stack_id, "started": _now(), "found": found, "wanted": wanted,
                                         "until": time.time() + timing.seconds() / 4.0,
                                         "failure": FAILURES.get(stack.stack_id) or iam.unreadable(stack)}
        return ActionResult({"StackDriftDetectionId": detection_id})
    return detect_stack_drift


@PATCHES.wrap(RESPONSE + ".describe_stack_drift_detection_status", "DescribeStackDriftDetectionStatus", adds=True)
def _describe_status(dummy):
    from moto.core.responses import ActionResult

    def describe_stack_drift_detection_status(self):
        d, done = _detection(self._get_param("StackDriftDetectionId"))
        out = {"StackId": d["stack_id"], "StackDriftDetectionId": self._get_param("StackDriftDetectionId"),
               "DetectionStatus": "DETECTION_COMPLETE" if done else "DETECTION_IN_PROGRESS",
               "Timestamp": d["started"]}
        if done:
            out["StackDriftStatus"] = "DRIFTED" if d["found"] else "IN_SYNC"
            out["DriftedStackResourceCount"] = len(d["found"])
            if d["failure"]:
                out["DetectionStatus"] = "DETECTION_FAILED"
                out["DetectionStatusReason"] = d["failure"]
        return ActionResult(out)
    return describe_stack_drift_detection_status


@PATCHES.wrap(RESPONSE + ".describe_stack_resource_drifts", "DescribeStackResourceDrifts", adds=True)
def _describe_resource_drifts(dummy):
    from moto.core.responses import ActionResult

    def describe_stack_resource_drifts(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        latest = [d for d in _DETECTIONS.values() if d["stack_id"] == stack.stack_id and time.time() >= d["until"]]
        if not latest:
            return ActionResult({"StackResourceDrifts": []})
        d = max(latest, key=lambda x: x["started"])
        filters = self._get_param("StackResourceDriftStatusFilters") or None
        resources = (stack.template_dict or {}).get("Resources") or {}
        drifts = []
        for logical_id in sorted(resources):
            if d["wanted"] is not None and logical_id not in d["wanted"]:
                continue
            marked = d["found"].get(logical_id)
            status = (marked or {}).get("status", "MODIFIED") if marked is not None else "IN_SYNC"
            if filters and status not in filters:
                continue
            physical = stack.resource_map.get(logical_id) if logical_id in stack.resource_map else None
            entry = {"StackId": stack.stack_id, "LogicalResourceId": logical_id,
                     "PhysicalResourceId": getattr(physical, "physical_resource_id", None) or logical_id,
                     "ResourceType": resources[logical_id].get("Type"), "StackResourceDriftStatus": status,
                     "Timestamp": d["started"], "PropertyDifferences": []}
            for diff in (marked or {}).get("differences") or []:
                entry["PropertyDifferences"].append({"PropertyPath": diff.get("path", "/"),
                                                     "ExpectedValue": str(diff.get("expected", "")),
                                                     "ActualValue": str(diff.get("actual", "")),
                                                     "DifferenceType": diff.get("type", "NOT_EQUAL")})
            drifts.append(entry)
        return ActionResult({"StackResourceDrifts": drifts})
    return describe_stack_resource_drifts


def apply():
    PATCHES.apply()
