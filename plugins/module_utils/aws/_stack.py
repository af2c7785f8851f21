# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation only: describe, wait with backoff, create / update / delete, change-set plans
and failure events.  Knows nothing of racks or apps."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from typing import Any, Callable, Mapping, Protocol, TypeVar, cast

from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, aws_error_code, aws_error_message, describe_aws_error, is_transient
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template, template_source
from ansible_collections.convox.rack.plugins.module_utils.model import _statuses
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError, still_in_progress

# what each stack status means (_statuses, pure: the report reads it too), read through here as cfn.STABLE, ...: the
# layers let the managers import this module, not _statuses
ALL_STATUSES = _statuses.ALL_STATUSES
FAILED_INSTALL = _statuses.FAILED_INSTALL
GONE = _statuses.GONE
IN_PROGRESS = _statuses.IN_PROGRESS
LAST_OPERATION_FAILED = _statuses.LAST_OPERATION_FAILED
REVIEW = _statuses.REVIEW
STABLE = _statuses.STABLE
STUCK = _statuses.STUCK
STUCK_ADVICE = _statuses.STUCK_ADVICE

NO_UPDATES = "No updates are to be performed"
T = TypeVar("T")


def no_updates(exc: BaseException) -> bool:
    """CloudFormation's answer that an update (or change set) would change nothing."""
    return aws_error_code(exc) == "ValidationError" and NO_UPDATES in aws_error_message(exc)


def _tags_to_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def tags_to_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def params_to_dict(parameters: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {p["ParameterKey"]: p.get("ParameterValue") for p in parameters or []}


class Stack:
    """A snapshot of DescribeStacks for one stack."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.name: str = raw["StackName"]
        self.stack_id: str = raw.get("StackId") or ""
        self.status: str = raw.get("StackStatus") or ""
        self.reason: str | None = raw.get("StackStatusReason")
        self.parameters = params_to_dict(raw.get("Parameters"))
        # what CloudFormation resolved an SSM-typed parameter to (its value is the SSM path)
        self.resolved = {p["ParameterKey"]: p["ResolvedValue"] for p in raw.get("Parameters") or [] if "ResolvedValue" in p}
        self.outputs = {o["OutputKey"]: o.get("OutputValue") for o in raw.get("Outputs") or []}
        self.export_names = {o["OutputKey"]: o["ExportName"] for o in raw.get("Outputs") or [] if o.get("ExportName")}
        self.tags = _tags_to_dict(raw.get("Tags"))
        self.termination_protection = bool(raw.get("EnableTerminationProtection", False))
        self.last_updated = raw.get("LastUpdatedTime") or raw.get("CreationTime")

    @property
    def account_id(self) -> str | None:
        """The AWS account of the stack, from its ARN (arn:<partition>:cloudformation:<region>:<account>:stack/...)."""
        parts = self.stack_id.split(":")
        return parts[4] if len(parts) > 5 and parts[4] else None


class StackTimeout(ConvoxError):
    pass


def unreachable_timeout(name: str, timeout: float, exc: BaseException) -> StackTimeout:
    """The failure of a wait that could not read its stack until its deadline (the endpoint unreachable)."""
    return StackTimeout("stack %s could not be read until the wait ended after %d seconds (%s); its operation may still "
                        "be running: check the stack in CloudFormation, then run again."
                        % (name, timeout, describe_aws_error(exc, "reading it").rstrip(".")))


class Watcher(Protocol):
    """A shared poller of one region's stacks (``_fleet.RegionWatcher``): the first read of a stack from
    the region's listing, and waits served by one listing per poll for every stack of the batch."""

    def take(self, name: str) -> tuple[bool, Stack | None]: ...

    def wait(self, name: str, timeout: float, until: Callable[[Stack], bool] | None) -> Stack | None: ...


class Stacks:
    """CloudFormation operations over a client factory, with backoff waits."""

    def __init__(self, client_factory: ClientFactory, sleep: Callable[[float], Any] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, poll_min: float = 2.0, poll_max: float = 30.0,
                 watcher: Watcher | None = None) -> None:
        self.factory = client_factory
        self.sleep = sleep
        self.clock = clock
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.watcher = watcher      # a shared per-region poller (fleet runs), or None: poll this stack alone
        self.changed = False        # whether a change was made through this object (a task's result says so)
        self.options: dict[str, Any] = {}   # NotificationARNs, RoleARN: given to every create, update and plan
        self.update_options: dict[str, Any] = {}    # RollbackConfiguration: given to every update
        self.seen: dict[str, Stack | None] = {}    # stack name -> as last read (where a failed task leaves it)

    def _saw(self, name: str, stack: Stack | None) -> Stack | None:
        self.seen[stack.name if stack is not None else name] = stack
        return stack

    @property
    def cfn(self) -> Any:
        return self.factory("cloudformation")

    # -- reading ---------------------------------------------------------------------------
    def describe(self, name: str) -> Stack | None:
        """The Stack named ``name`` (or with that id), or None when it does not exist.  In a fleet run the
        first read of each stack comes from the region's listing taken as the batch started."""
        if self.watcher is not None:
            found, stack = self.watcher.take(name)
            if found:
                return stack
        return self.read(name)

    def read(self, name: str) -> Stack | None:
        """The Stack named ``name`` (or with that id) as it is now (one DescribeStacks), or None."""
        try:
            resp = self.cfn.describe_stacks(StackName=name)
        except Exception as exc:
            if aws_error_code(exc) == "ValidationError" and "does not exist" in aws_error_message(exc):
                return self._saw(name, None)
            raise
        stacks = resp.get("Stacks") or []
        if not stacks:
            return self._saw(name, None)
        stack = Stack(stacks[0])
        return self._saw(name, None if stack.status == GONE else stack)

    def live(self) -> list[Stack]:
        """Every live stack of the region (paginated)."""
        result = self.cfn.paginate("describe_stacks")
        return [Stack(raw) for raw in result.get("Stacks", []) if raw.get("StackStatus") != GONE]

    def moving(self) -> list[Stack]:
        """The stacks of the region whose operation is in progress, as summaries (name, id, status only): one
        ListStacks filtered by status, whose pages hold a region's moving stacks however many stacks it has."""
        result = self.cfn.paginate("list_stacks", StackStatusFilter=sorted(IN_PROGRESS))
        return [Stack(raw) for raw in result.get("StackSummaries", [])]

    def importers(self, export_name: str) -> list[str]:
        """The stacks that import ``export_name`` (ListImports, every page; none when nobody does)."""
        names: list[str] = []
        try:
            for page in self.cfn.pages("list_imports", ExportName=export_name):
                names += page.get("Imports") or []
        except Exception as exc:
            if aws_error_code(exc) == "ValidationError" and "not imported" in aws_error_message(exc):
                return []
            raise
        return sorted(names)

    def resources(self, stack_id: str) -> list[dict[str, Any]]:
        result = self.cfn.paginate("list_stack_resources", StackName=stack_id)
        return [{"type": r.get("ResourceType"), "logical_id": r.get("LogicalResourceId"),
                 "physical_id": r.get("PhysicalResourceId"), "status": r.get("ResourceStatus")}
                for r in result.get("StackResourceSummaries", [])]

    def template(self, stack_id: str) -> dict[str, Any]:
        """The stack's template as it was given (JSON or YAML: an adopted stack may have been created from
        either)."""
        body = self.cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"]
        if isinstance(body, dict):
            return body
        return dict(parse_template(body, "the template of stack %s" % stack_id))

    def events_since(self, stack_id: str, since: datetime.datetime | None) -> list[dict[str, Any]]:
        """The stack's events back to ``since`` (newest first, as CloudFormation lists them): pages are read only as
        far back as the operation started, not through the stack's whole history."""
        out: list[dict[str, Any]] = []
        for page in self.cfn.pages("describe_stack_events", StackName=stack_id):
            for ev in page.get("StackEvents", []):
                ts = ev.get("Timestamp")
                if since is not None and ts is not None and ts < since:
                    return out
                out.append(ev)
        return out

    def failure(self, stack_id: str, since: datetime.datetime | None, token: str | None = None) -> str | None:
        """The first resource failure of the operation started at ``since`` as a sentence, or None."""
        try:
            events = self.events_since(stack_id, since)
        except Exception as exc:
            # the operation failed either way; say why its reason is missing
            return "the reason could not be read (%s)" % describe_aws_error(exc, "reading the stack events").rstrip(".")
        ours = [ev for ev in events if not (token and ev.get("ClientRequestToken") and ev.get("ClientRequestToken") != token)]
        ours.sort(key=lambda e: cast(Any, e.get("Timestamp") or since))
        for ev in ours:
            status = ev.get("ResourceStatus", "")
            reason = ev.get("ResourceStatusReason") or ""
            if not status.endswith("_FAILED") or ev.get("ResourceType") == "AWS::CloudFormation::Stack":
                continue
            if "cancelled" in reason.lower():
                continue
            return "%s %s (%s) %s: %s" % (ev.get("ResourceType"), ev.get("LogicalResourceId"),
                                          ev.get("PhysicalResourceId") or "no physical id", status,
                                          reason.rstrip(".") or "no reason given")
        for ev in ours:
            reason = ev.get("ResourceStatusReason") or ""
            if ev.get("ResourceStatus", "").endswith("_FAILED") and reason:
                return "%s %s %s: %s" % (ev.get("ResourceType"), ev.get("LogicalResourceId"), ev.get("ResourceStatus"),
                                         reason.rstrip("."))
        return None

    def _poll(self, read: Callable[[], T], pending: Callable[[T], bool], timeout: float, what: str) -> T:
        """``read()`` until ``pending(answer)`` is false, backing off from 1 s to 10 s; StackTimeout naming
        ``what`` after ``timeout`` seconds."""
        deadline = self.clock() + timeout
        delay = 1.0
        while True:
            answer = read()
            if not pending(answer):
                return answer
            if self.clock() > deadline:
                raise StackTimeout("%s was not done after %d seconds." % (what, timeout))
            self.sleep(delay)
            delay = min(delay * 2, 10.0)

    def drift(self, stack: Stack, timeout: float = 300) -> dict[str, Any]:
        """CloudFormation drift detection on ``stack`` (a Stack); changes no stack.  Returns dict(status:
        DRIFTED, IN_SYNC or UNKNOWN, detection_status, reason, drifted: [dict(logical_id, physical_id, type,
        status: MODIFIED or DELETED, differences: [dict(path, expected, actual, type)])]); status NOT_CHECKED,
        with the reason, for a stack not in a complete state (CloudFormation refuses to check it)."""
        if stack.status not in STABLE:
            return {"status": "NOT_CHECKED", "reason": "stack %s is %s; drift is detected on a stack in a complete state"
                    % (stack.name, stack.status), "drifted": []}
        stack_id = stack.stack_id
        detection = self.cfn.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"]
        status = self._poll(lambda: self.cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection),
                            lambda answer: answer.get("DetectionStatus") == "DETECTION_IN_PROGRESS", timeout,
                            "drift detection of stack %s" % stack_id)
        drifted: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": stack_id, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
        while True:        # no botocore paginator for this operation
            page = self.cfn.describe_stack_resource_drifts(**kwargs)
            for item in page.get("StackResourceDrifts") or []:
                drifted.append({
                    "logical_id": item.get("LogicalResourceId"), "physical_id": item.get("PhysicalResourceId"),
                    "type": item.get("ResourceType"), "status": item.get("StackResourceDriftStatus"),
                    "differences": [{"path": d.get("PropertyPath"), "expected": d.get("ExpectedValue"),
                                     "actual": d.get("ActualValue"), "type": d.get("DifferenceType")}
                                    for d in item.get("PropertyDifferences") or []]})
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        result = {"status": status.get("StackDriftStatus") or "UNKNOWN", "detection_status": status.get("DetectionStatus"),
                  "reason": status.get("DetectionStatusReason"),
                  "drifted": sorted(drifted, key=lambda d: d["logical_id"] or "")}
        if status.get("DetectionStatus") == "DETECTION_FAILED":
            # some resources could not be checked: what was found is not the whole answer, whatever it says
            result["status"] = "NOT_CHECKED"
            result["reason"] = "drift detection of stack %s failed in part: %s" % (
                stack.name, (status.get("DetectionStatusReason") or "no reason given").rstrip("."))
        return result

    # -- waiting ---------------------------------------------------------------------------
    def wait(self, name: str, timeout: float, until: Callable[[Stack], bool] | None = None) -> Stack | None:
        """Poll with exponential backoff until the stack leaves IN_PROGRESS (or ``until(stack)``).
        Returns the Stack, or None once deleted.  An endpoint that does not answer for a while is waited out
        (the operation goes on in CloudFormation meanwhile) until ``timeout``."""
        if self.watcher is not None:
            return self._saw(name, self.watcher.wait(name, timeout, until))
        deadline = self.clock() + timeout
        delay = self.poll_min
        while True:
            try:
                stack = self.read(name)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if self.clock() >= deadline:
                    raise unreachable_timeout(name, timeout, exc) from exc
            else:
                if stack is None:
                    return None
                done = until(stack) if until else stack.status not in IN_PROGRESS
                if done:
                    return stack
                if self.clock() >= deadline:
                    raise StackTimeout(still_in_progress(name, stack.status, timeout))
            self.sleep(min(delay, max(deadline - self.clock(), 0.1)))
            delay = min(delay * 2, self.poll_max)

    # -- mutating --------------------------------------------------------------------------
    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)

    def create(self, name: str, template: Mapping[str, Any], parameters: list[dict[str, Any]], tags: Mapping[str, str],
               termination_protection: bool) -> tuple[str, str]:
        token = "convox-%s" % uuid.uuid4()
        resp = self.cfn.create_stack(
            StackName=name, Parameters=parameters, **template_source(template, self.factory.region),
            Tags=tags_to_list(tags), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            EnableTerminationProtection=bool(termination_protection), OnFailure="ROLLBACK",
            ClientRequestToken=token, **self.options)
        self.changed = True
        return resp["StackId"], token

    def stack_policy(self, stack_id: str) -> dict[str, Any] | None:
        """The stack's own stack policy (GetStackPolicy), or None."""
        body = self.cfn.get_stack_policy(StackName=stack_id).get("StackPolicyBody")
        return json.loads(body) if body else None

    def update(self, stack_id: str, parameters: list[dict[str, Any]], tags: Mapping[str, str],
               template: Mapping[str, Any] | None = None, policy: Mapping[str, Any] | None = None) -> str | None:
        """Start an update (``policy``: the stack policy during this update); returns the request token, or None
        when there is nothing to update."""
        token = "convox-%s" % uuid.uuid4()
        kwargs: dict[str, Any] = {"StackName": stack_id, "Parameters": parameters, "Tags": tags_to_list(tags),
                                  "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"], "ClientRequestToken": token,
                                  **self.options, **self.update_options}
        if template is None:
            kwargs["UsePreviousTemplate"] = True
        else:
            kwargs.update(template_source(template, self.factory.region))
        if policy is not None:
            kwargs["StackPolicyDuringUpdateBody"] = json.dumps(policy, sort_keys=True)
        try:
            self.cfn.update_stack(**kwargs)
        except Exception as exc:
            if no_updates(exc):
                return None
            raise
        self.changed = True
        return token

    def _operation(self, call: str, stack_id: str, extra: Mapping[str, Any] | None = None, with_role: bool = True) -> str:
        """Start the CloudFormation operation ``call`` on a stack with its own request token, ``extra`` arguments and
        the service role, when one was given; returns the token."""
        token = "convox-%s" % uuid.uuid4()
        kwargs = dict(extra or {})
        if with_role and self.options.get("RoleARN"):
            kwargs["RoleARN"] = self.options["RoleARN"]
        getattr(self.cfn, call)(StackName=stack_id, ClientRequestToken=token, **kwargs)
        self.changed = True
        return token

    def delete(self, stack_id: str, retain: list[str] | None = None) -> str:
        """Start deleting a stack; ``retain``: logical ids left in place (a DELETE_FAILED stack only)."""
        return self._operation("delete_stack", stack_id, {"RetainResources": list(retain)} if retain else None)

    def rollback(self, stack_id: str) -> str:
        """RollbackStack: a CREATE_FAILED or UPDATE_FAILED stack (rollback was disabled) back to its last stable
        state."""
        return self._operation("rollback_stack", stack_id)

    def cancel_update(self, stack_id: str) -> str:
        """Cancel the update in progress (CancelUpdateStack): the stack rolls back to where it was."""
        return self._operation("cancel_update_stack", stack_id, with_role=False)

    def set_termination_protection(self, stack_id: str, enabled: bool) -> None:
        self.cfn.update_termination_protection(StackName=stack_id, EnableTerminationProtection=bool(enabled))
        self.changed = True

    def continue_update_rollback(self, stack_id: str, skip: list[str] | None = None) -> str:
        """ContinueUpdateRollback; ``skip``: logical ids whose rollback is skipped (ResourcesToSkip)."""
        return self._operation("continue_update_rollback", stack_id, {"ResourcesToSkip": list(skip)} if skip else None)

    def plan(self, stack_id: str, parameters: list[dict[str, Any]], tags: Mapping[str, str],
             template: Mapping[str, Any] | None, timeout: float = 300) -> list[dict[str, Any]]:
        """Resource changes of an update, from a change set that is created, read and deleted."""
        name = "convox-plan-%s" % uuid.uuid4().hex[:12]
        kwargs: dict[str, Any] = {"StackName": stack_id, "ChangeSetName": name, "ChangeSetType": "UPDATE",
                                  "Parameters": parameters, "Tags": tags_to_list(tags),
                                  "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"], **self.options}
        if template is None:
            kwargs["UsePreviousTemplate"] = True
        else:
            kwargs.update(template_source(template, self.factory.region))
        try:
            resp = self.cfn.create_change_set(**kwargs)
        except Exception as exc:    # some endpoints refuse an empty change set outright instead of failing it
            if no_updates(exc):
                return []
            raise
        cs_id = resp["Id"]
        try:
            cs = self._poll(lambda: self.cfn.describe_change_set(ChangeSetName=cs_id, StackName=stack_id),
                            lambda answer: answer.get("Status") in ("CREATE_PENDING", "CREATE_IN_PROGRESS"), timeout,
                            "the change set for stack %s" % stack_id)
            if cs.get("Status") == "FAILED":
                reason = cs.get("StatusReason") or ""
                if "didn't contain changes" in reason or "No updates" in reason:
                    return []
                raise ConvoxError("planning the update of stack %s failed: %s." % (stack_id, reason.rstrip(".")))
            changes: list[dict[str, Any]] = []
            while True:         # every page: a large change set is paged like any listing
                for change in cs.get("Changes", []):
                    rc = change.get("ResourceChange", {})
                    changes.append({"action": rc.get("Action"), "logical_id": rc.get("LogicalResourceId"),
                                    "type": rc.get("ResourceType"), "replacement": rc.get("Replacement")})
                if not cs.get("NextToken"):
                    return changes
                cs = self.cfn.describe_change_set(ChangeSetName=cs_id, StackName=stack_id, NextToken=cs["NextToken"])
        finally:
            self.cfn.delete_change_set(ChangeSetName=cs_id, StackName=stack_id)
