# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real duration (off by default: the instant mode of the fast suite).  ``configure({"seconds": T})``: CreateStack,
UpdateStack and DeleteStack take T seconds, the stack showing CREATE_IN_PROGRESS / UPDATE_IN_PROGRESS /
DELETE_IN_PROGRESS meanwhile and then its outcome (a delete happens at the end); CancelUpdateStack,
ContinueUpdateRollback and RollbackStack likewise (``cfn.py``); a busy stack refuses updates and
deletes with AWS's messages, as it always does.  Every status change is logged (``transitions()``) with its time,
for tests of ordering."""

from __future__ import annotations

import threading
import time
from typing import Any

from .common import find_stack
from .patching import Patches

PATCHES = Patches("timing", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html")
RESPONSE = "moto.cloudformation.responses:CloudFormationResponse"
TIMING = {"seconds": 0.0}
_PENDING: dict[str, dict[str, Any]] = {}          # stack id -> dict(until, final, delete, backend)
_TRANSITIONS: list[tuple[float, str, str, str, Any]] = []      # (unix time, region, stack name, status, Version parameter)
LOCK = threading.RLock()


def configure(spec):
    """``{"seconds": T}``: operations take T seconds (0: instant).  Clears the transition log."""
    with LOCK:
        TIMING["seconds"] = float(spec.get("seconds") or 0.0)
        _PENDING.clear()
        del _TRANSITIONS[:]


def reset():
    configure({})


def seconds():
    return TIMING["seconds"]


def transitions():
    with LOCK:
        return list(_TRANSITIONS)


def log(stack, status):
    version = None
    try:
        version = stack.resource_map.resolved_parameters.get("Version")
    except Exception:
        pass
    _TRANSITIONS.append((time.time(), stack.region_name, stack.name, status, version))


def begin(backend, stack, in_progress, delete=False):
    """Hold ``stack`` in ``in_progress`` for TIMING seconds; its outcome is what moto made of it (or, for a delete,
    the deletion itself at the end)."""
    with LOCK:
        final = stack.status
        _PENDING[stack.stack_id] = {"until": time.time() + TIMING["seconds"], "final": final, "delete": delete,
                                    "backend": backend}
        stack.status = in_progress
        log(stack, in_progress)


def pending(stack_id):
    """The operation still running on a stack (its outcome status), or None."""
    op = _PENDING.get(stack_id)
    return None if op is None else op


def has_pending():
    return bool(_PENDING)


def fired_trigger(stack):
    """The ARN of a rollback trigger of ``stack``'s update (RollbackConfiguration) whose alarm is in ALARM, or None."""
    triggers = (getattr(stack, "_localaws_rollback", None) or {}).get("RollbackTriggers") or []
    if not triggers:
        return None
    from moto.cloudwatch.models import cloudwatch_backends
    for trigger in triggers:
        arn = trigger.get("Arn") or ""
        parts = arn.split(":")
        if len(parts) < 7:
            continue
        from .cloudwatch import state_of
        backend = cloudwatch_backends[parts[4]][parts[3]]
        alarm = backend.alarms.get(parts[6])
        if alarm is not None and state_of(backend, alarm) == "ALARM":
            return arn
    return None


def roll_back_triggered(stack, arn):
    """The update of ``stack`` rolls back because its rollback trigger ``arn`` went into ALARM."""
    from .cfn import roll_back_last_update
    log(stack, "UPDATE_ROLLBACK_IN_PROGRESS")
    roll_back_last_update(stack, "The following rollback trigger(s) were triggered: [%s]" % arn)
    log(stack, "UPDATE_ROLLBACK_COMPLETE")


def settle():
    """Finish every operation whose time is up (called before each request is served); an update whose rollback
    trigger is in ALARM rolls back now."""
    if not _PENDING:
        return
    with LOCK:
        now = time.time()
        for stack_id, op in list(_PENDING.items()):
            stack = find_stack(op["backend"], stack_id)
            if stack is not None and not op["delete"] and stack.status == "UPDATE_IN_PROGRESS":
                arn = fired_trigger(stack)
                if arn:
                    del _PENDING[stack_id]
                    roll_back_triggered(stack, arn)
                    continue
            if op["until"] > now:
                continue
            del _PENDING[stack_id]
            stack = find_stack(op["backend"], stack_id)
            if stack is None:
                continue
            if op["delete"]:
                stack.status = "DELETE_IN_PROGRESS"
                op["backend"].delete_stack(stack_id)
                log(stack, "DELETE_COMPLETE")
            elif op["final"] == "UPDATE_COMPLETE" and not op.get("cleaned"):
                # as AWS does after an update: the cleanup of what it replaced, the stack still busy (an update
                # or delete meanwhile is refused), then UPDATE_COMPLETE
                stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
                log(stack, stack.status)
                _PENDING[stack_id] = dict(op, cleaned=True, until=now + max(0.05, TIMING["seconds"] / 5))
            else:
                stack.status = op["final"]
                log(stack, op["final"])


@PATCHES.wrap(RESPONSE + ".create_stack", "CreateStack takes time: CREATE_IN_PROGRESS meanwhile")
def _create_stack(original):
    def create_stack(self):
        result = original(self)
        if TIMING["seconds"] > 0:
            stack = find_stack(self.cloudformation_backend, self._get_param("StackName"))
            if stack is not None:
                begin(self.cloudformation_backend, stack, "CREATE_IN_PROGRESS")
        return result
    return create_stack


@PATCHES.wrap(RESPONSE + ".update_stack", "UpdateStack takes time: UPDATE_IN_PROGRESS, then "
              "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS (a fifth of it) before UPDATE_COMPLETE; its rollback triggers "
              "(RollbackConfiguration) are watched: an alarm in ALARM during the update rolls it back to the stack as "
              "it was (UPDATE_ROLLBACK_COMPLETE)")
def _update_stack(original):
    def update_stack(self):
        result = original(self)
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack._localaws_rollback = self._get_param("RollbackConfiguration") or {}
        if stack.status == "UPDATE_COMPLETE" and fired_trigger(stack):       # an alarm already in ALARM
            roll_back_triggered(stack, fired_trigger(stack))
        elif TIMING["seconds"] > 0:
            begin(self.cloudformation_backend, stack, "UPDATE_IN_PROGRESS")
        return result
    return update_stack


@PATCHES.wrap(RESPONSE + ".delete_stack", "DeleteStack takes time: DELETE_IN_PROGRESS meanwhile, gone at the end")
def _delete_stack(original):
    def delete_stack(self):
        from moto.core.responses import EmptyResult
        stack = find_stack(self.cloudformation_backend, self._get_param("StackName"))
        if TIMING["seconds"] > 0 and stack is not None:
            if stack.status != "DELETE_IN_PROGRESS":
                begin(self.cloudformation_backend, stack, "DELETE_IN_PROGRESS", delete=True)
            return EmptyResult()
        return original(self)
    return delete_stack


def apply():
    PATCHES.apply()
