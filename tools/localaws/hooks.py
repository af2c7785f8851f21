# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test hooks: put a stack into any state (``set_stack``, also served as ``POST /_localaws/stack``) so that
failure paths run through ansible-playbook too - AWS never fails on demand, and neither does moto - and make later
updates of a stack fail on a resource and roll back, as they would on AWS.  Also: moto's request recorder writes
each request as one whole line, even from concurrent threads."""

from __future__ import annotations

import threading
from typing import Any

from . import drift
from .common import DEFAULT_ACCOUNT, add_event, backend_of, find_stack
from .patching import Patches

PATCHES = Patches("hooks")
FAIL_UPDATES: dict[str, Any] = {}      # stack name -> the failure each of its updates meets (see set_stack)


def reset():
    FAIL_UPDATES.clear()


@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse.update_stack",
              "(test hook) an update the test made fail on a resource rolls back: UPDATE_ROLLBACK_COMPLETE, with the "
              "resource's UPDATE_FAILED event, its template and parameters back to what they were (as AWS leaves it)")
def _update_stack(original):
    def update_stack(self):
        result = original(self)
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        failure = FAIL_UPDATES.get(stack.name)
        if failure is not None and failure.get("after", 0) > 0:
            failure["after"] -= 1       # this update still succeeds
        elif failure is not None:       # the update "ran", failed on a resource, and rolled back
            before = getattr(stack, "_localaws_before_update", None)
            if before is not None:      # back to the template and parameters it had, as AWS leaves it
                from .cfn import _roll_back_update
                stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
                _roll_back_update(stack, before, failure.get("reason", "Received 0 SUCCESS signal(s) out of 2."),
                                  failure.get("logical_id", "Instances"),
                                  failure.get("type", "AWS::AutoScaling::AutoScalingGroup"))
                return result
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
            add_event(stack, {"status": "UPDATE_FAILED", "logical_id": failure.get("logical_id", "Instances"),
                              "type": failure.get("type", "AWS::AutoScaling::AutoScalingGroup"),
                              "reason": failure.get("reason", "Received 0 SUCCESS signal(s) out of 2.")})
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        return result
    return update_stack


@PATCHES.wrap("moto.moto_api._internal.recorder.models:Recorder._record_request",
              "(recorder) each request is written as one whole line, even from concurrent threads")
def _record_request(original):
    lock = threading.Lock()

    def record_request(self, request, body=None):
        with lock:
            return original(self, request, body)
    return record_request


def set_stack(spec, account=DEFAULT_ACCOUNT):
    """Put a stack into ``status`` (with ``reason``), append ``events`` (each a dict of logical_id, type, status,
    reason), and with ``fail_updates`` (a dict of logical_id, type, reason, and ``after``: how many updates still
    succeed first; false to clear) make every later update of the stack fail on that resource and roll back;
    ``drift`` (logical id -> status MODIFIED / DELETED and ``differences``, each path, expected, actual, type;
    false to clear) marks resources drifted for the next drift detection, ``drift_failure`` (a reason; false to
    clear) makes its detections fail in part; ``termination_protection`` sets it; ``delete: true`` deletes the
    stack as someone else would, in whatever state it is; ``rollback_blocked`` (logical ids; empty to clear): their
    rollback fails, so ContinueUpdateRollback ends UPDATE_ROLLBACK_FAILED again unless it skips them
    (ResourcesToSkip).  Returns (http code, payload)."""
    backend = backend_of(spec.get("account", account), spec.get("region", "us-east-1"))
    stack = find_stack(backend, spec["stack_name"])
    if stack is None:
        return 404, {"error": "stack %s not found" % spec["stack_name"]}
    for event in spec.get("events", []):
        add_event(stack, event)
    if "fail_updates" in spec:
        if spec["fail_updates"]:
            FAIL_UPDATES[stack.name] = dict(spec["fail_updates"]) if isinstance(spec["fail_updates"], dict) else {}
        else:
            FAIL_UPDATES.pop(stack.name, None)
    if spec.get("delete"):
        stack.enable_termination_protection = False
        backend.delete_stack(stack.stack_id)
        return 200, {"stack_id": stack.stack_id, "status": stack.status}
    if "status" in spec:
        stack.status = spec["status"]
        stack.status_reason = spec.get("reason")
    if "termination_protection" in spec:
        stack.enable_termination_protection = bool(spec["termination_protection"])
    if "rollback_blocked" in spec:
        from .cfn import ROLLBACK_BLOCKED
        if spec["rollback_blocked"]:
            ROLLBACK_BLOCKED[stack.name] = list(spec["rollback_blocked"])
        else:
            ROLLBACK_BLOCKED.pop(stack.name, None)
    if "drift" in spec:
        if spec["drift"]:
            drift.DRIFTS[stack.stack_id] = {k: dict(v or {}) for k, v in spec["drift"].items()}
        else:
            drift.DRIFTS.pop(stack.stack_id, None)
    if "drift_failure" in spec:
        if spec["drift_failure"]:
            drift.FAILURES[stack.stack_id] = str(spec["drift_failure"])
        else:
            drift.FAILURES.pop(stack.stack_id, None)
    return 200, {"stack_id": stack.stack_id, "status": stack.status}


def apply():
    PATCHES.apply()


def publish_parameter(spec, account=DEFAULT_ACCOUNT):
    """AWS publishes a new value of one of its public SSM parameters (``/aws/service/...``, which nobody else may
    write): ``{"name": N, "value": V, "region": R}`` - as when a new ECS-optimized image comes out."""
    import datetime

    from moto.ssm.models import Parameter, ssm_backends
    backend = ssm_backends[spec.get("account", account)][spec.get("region", "us-east-1")]
    name = spec["name"]
    backend._parameters._check_loading_status(name)
    versions = backend._parameters[name]
    last = versions[-1] if versions else None
    # moto's SSM parameter: concrete at run time, abstract to mypy
    versions.append(Parameter(account_id=backend.account_id, name=name, value=str(spec["value"]),  # type: ignore[abstract]
                              parameter_type=last.parameter_type if last else "String", description=None,
                              allowed_pattern=None, keyid=None,
                              last_modified_date=datetime.datetime.now(datetime.timezone.utc),
                              version=(last.version + 1) if last else 1,
                              data_type=last.data_type if last else "text"))
    return 200, {"name": name, "version": versions[-1].version}
