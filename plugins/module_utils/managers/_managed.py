# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What rack and app managers share (``StackManagerBase``): the entry-state machine for a stack found
in any of the 23 CloudFormation statuses, ownership, secrets, the dry run's resource changes,
waiting for an operation and turning its failure into one sentence, and deleting a stack with its
retained buckets.  The parameter rules are ``_parameters``, bucket emptying ``_buckets``."""

from __future__ import annotations

import datetime
import functools
import time
from typing import Any, Callable, Iterable, Mapping, TypeVar, cast

from ansible_collections.convox.rack.plugins.module_utils.aws import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils.aws._channel import Channel, TemplateStager, open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._common import (
    ClientFactory,
    aws_error_code,
    aws_error_details,
    describe_aws_error,
    is_aws_error,
)
from ansible_collections.convox.rack.plugins.module_utils.aws._parameters import NO_ECHO_MASK, check_parameters, normalize_parameters
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import (
    Template,
    declared_parameters,
    no_echo_outputs,
    no_echo_parameters,
    parse_template,
)
from ansible_collections.convox.rack.plugins.module_utils.model._alarms import TRIGGER_TYPES, alarm_name, arn_place, read_alarms
from ansible_collections.convox.rack.plugins.module_utils.model._buckets import delete_bucket, empty_bucket
from ansible_collections.convox.rack.plugins.module_utils.model._changes import (
    annotate,
    describe,
    is_stateful,
    security_findings,
    stateful_changes,
    stateful_warning,
    template_diff,
)
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._plan import NO_CHANGES, Plan, Step
from ansible_collections.convox.rack.plugins.module_utils.model._specs import SPECS, with_defaults
from ansible_collections.convox.rack.plugins.module_utils.model._tags import (
    NO_ECHO_OUTPUTS_TAG,
    NO_ECHO_TAG,
    check_owned,
    format_tags,
    installed_by_cli,
    no_echo_keys,
)

F = TypeVar("F", bound=Callable[..., Any])
ROLLBACK_WAIT = 3600        # seconds, at least, that a cancelled update's rollback is waited for


class Replan(Exception):
    """The stack changed between the fleet listing a manager planned from and its first change: plan again from
    the stack as it is now (``stack``)."""

    def __init__(self, stack: cfn.Stack | None) -> None:
        super().__init__("the stack changed since it was listed")
        self.stack = stack


def operation(doing: str) -> Callable[[F], F]:
    """Decorator of a manager's ``present`` / ``absent``: planned again, once, from a fresh read when the stack
    changed since the fleet's listing (``Replan``); any failure raised as one ConvoxError naming what was being done
    (an AWS error worded, its RequestId kept) and, after a change was made, saying so - ``changed`` - and where the
    stack is (``StackManagerBase.failure``)."""
    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(self: StackManagerBase, *args: Any, **kwargs: Any) -> Any:
            try:
                try:
                    return func(self, *args, **kwargs)
                except Replan:
                    return func(self, *args, **kwargs)     # the listing serves a stack's first read only: fresh now
            except Exception as exc:  # pylint: disable=broad-except  # re-raised as the task's one error
                raise self.failure(exc, doing) from exc
        return cast(F, wrapper)
    return decorator


def stack_state(stack: cfn.Stack | None) -> tuple[Any, ...] | None:
    """What a plan is computed from, of a stack: it is the same stack, in the same state, unless one differs."""
    if stack is None:
        return None
    return (stack.stack_id, stack.status, str(stack.last_updated), sorted(stack.parameters.items()),
            sorted(stack.tags.items()), stack.termination_protection)


def run_manager(manager: Any, secrets: set[str], **present: Any) -> dict[str, Any]:
    """The one way a manager runs (a module's task, a rack of a fleet batch, an app of a rack): ``present(**present)``
    or ``absent()`` by its ``state`` option, the secret values it learnt added to ``secrets`` whatever happens (they
    are masked in the result, and in the failure)."""
    try:
        return cast("dict[str, Any]",
                    manager.present(**present) if manager.params["state"] == "present" else manager.absent())
    finally:
        secrets.update(getattr(manager, "secret_values", ()) or ())


def mark_no_echo_outputs(template: Mapping[str, Any], tags: dict[str, str]) -> None:
    """The tag that lists ``template``'s outputs referring to a NoEcho parameter ("-": none), on a stack that has
    NoEcho parameters, so that a later read masks them without reading the template."""
    if no_echo_parameters(template):
        tags[NO_ECHO_OUTPUTS_TAG] = ",".join(sorted(no_echo_outputs(template))) or "-"
    else:
        tags.pop(NO_ECHO_OUTPUTS_TAG, None)


MAX_ROLLBACK_TRIGGERS = 5       # CloudFormation's quota of rollback triggers per operation


class StackManagerBase:
    """Entry-state handling and operation waiting for one stack (a rack's or an app's)."""

    kind = "stack"          # also the template's name in a channel: <version>/<kind>.json
    spec = ""               # the module whose argument spec (``_specs.SPECS``) gives the defaults
    FIXED: tuple[str, ...] = ()     # parameters the collection fills
    name: str                       # set by the subclass: the rack's or the app's name
    stack_name: str                 # and its stack's

    def __init__(self, params: Mapping[str, Any], check_mode: bool, client_factory: ClientFactory,
                 warn: Callable[[str], None] | None = None, sleep: Callable[[float], Any] = time.sleep,
                 watcher: cfn.Watcher | None = None, list_resources: bool = True) -> None:
        self.params = with_defaults(SPECS[self.spec](), params)
        self.check_mode = check_mode
        self.factory = client_factory
        self.warn = warn or (lambda msg: None)
        self.sleep = sleep
        self.watcher = watcher
        self.stacks = cfn.Stacks(client_factory, sleep=sleep, watcher=watcher)
        # SNS topics and the CloudFormation service role, for every operation (an omitted one keeps the stack's)
        if self.params.get("notification_arns") is not None:
            self.stacks.options["NotificationARNs"] = list(self.params["notification_arns"])
        if self.params.get("role_arn"):
            self.stacks.options["RoleARN"] = self.params["role_arn"]
        self.retained: list[str] = []   # resources a delete left in place (retain_resources)
        self.alarm_arns: dict[str, str] = {}    # rollback_alarms: ARN -> as the task named it (resolved once)
        self.base_template: dict[str, Any] | None = None    # the template the stack has now (before the next step)
        self.own_policy: list[dict[str, Any]] | None = None  # the statements of the stack's own policy (read once)
        # the result's resources, listed after a change; fleet runs (rack_batch) skip it: one call per rack saved
        self.list_resources = list_resources
        self.wait_timeout = int(self.params["wait_timeout"])
        if self.wait_timeout < 1:
            raise ConvoxError("wait_timeout must be a positive number of seconds, not %d." % self.wait_timeout)
        self.wait_enabled = bool(self.params["wait"])
        self.secret_values: set[str] = set()
        self.secret_keys: set[str] = set()      # parameters whose values are secret, whatever a template says now
        self.current_params: dict[str, str] = {}
        self.adopted_tags: dict[str, str] = {}
        self._channel: Channel | None = None
        self.confirmed = False          # the stack was read afresh before the first change (fleet runs)
        self.changes: list[str] = []    # changes made outside CloudFormation stacks (buckets emptied)
        # .get((channel, version, kind)) -> (text, url): templates a fleet batch read once for its racks
        self.shared_templates: Any = {}

    # -- what a failure says -------------------------------------------------------------------
    @property
    def mutated(self) -> bool:
        """Whether this manager changed anything yet."""
        return self.stacks.changed or bool(self.changes)

    def view(self, stack: cfn.Stack) -> tuple[str, dict[str, Any]]:  # pragma: no cover - abstract
        """(result key, what the result says of ``stack``): ("rack", ...) or ("app", ...)."""
        raise NotImplementedError

    def failure(self, exc: Exception, doing: str) -> ConvoxError:
        """``exc`` as the task's one error.  After a change was made the task changed something whatever failed
        next - an operation, an unreachable endpoint, a timeout, an async job's time limit - so the error says
        ``changed`` and where the stack is as last read (status, release)."""
        if isinstance(exc, ConvoxError):
            error = exc
        elif is_aws_error(exc):
            error = ConvoxError(describe_aws_error(exc, doing), **aws_error_details(exc))
        elif self.mutated:
            error = ConvoxError("%s failed after a change was made: %s: %s." % (doing, type(exc).__name__, exc))
        else:
            raise exc
        if self.mutated:
            error.details["changed"] = True
            key, dummy = self.view(cfn.Stack({"StackName": self.stack_name}))
            if error.details.get(key) is None and self.stack_name in self.stacks.seen:
                last = self.stacks.seen[self.stack_name]
                error.details[key] = self.scrub(self.view(last)[1]) if last is not None else None
        return error

    # -- planning from what the stack is now -----------------------------------------------------
    def confirm(self, planned_from: cfn.Stack | None) -> None:
        """Before the first change to this manager's stack in a fleet run, whose first read came from a listing of
        the region up to 30 s old: read it again and, when it is not the stack that was planned from (someone
        changed a parameter, its status moved), plan again from what it is now (``Replan``), so that nothing is
        updated from a stale value.  Outside a fleet the stack was read just before; nothing to do."""
        if self.stacks.watcher is None or self.confirmed:
            return
        self.confirmed = True
        now = self.stacks.read(self.stack_name)
        if stack_state(now) != stack_state(planned_from):
            raise Replan(now)

    # -- the release channel -------------------------------------------------------------------
    def channel_purpose(self) -> str:  # pragma: no cover - abstract
        """What the channel is needed for, to complete "channel is required to ..."."""
        raise NotImplementedError

    @property
    def channel(self) -> Channel:
        if self._channel is None:
            if not self.params.get("channel"):
                raise ConvoxError("channel is required to %s." % self.channel_purpose())
            self._channel = open_channel(self.params["channel"], self.factory)
        return self._channel

    def template(self, version: str) -> Template:
        """This kind's template of release ``version``, parsed; one CloudFormation could not be
        given (over its request limit, outside S3) fails here, before any change."""
        where = "%s/%s/%s.json" % (self.channel.url, version, self.kind)
        shared = self.shared_templates.get((str(self.params.get("channel")), version, self.kind))
        # a fleet batch reads each pinned release's template once, checked against the run's pin, for all its racks
        text, url = shared if shared is not None else self.channel.read_template(version, self.kind)
        template = parse_template(text, where, url)
        if self.params.get("template_bucket"):
            template.stager = TemplateStager(str(self.params["template_bucket"]), self.factory)
        template.source_kind(self.factory.region)       # how CloudFormation gets it; staged only when it is sent
        return template

    def first_step_changes(self, stack: cfn.Stack, parameters: list[dict[str, Any]], tags: Mapping[str, str],
                           template: Template | None, plan: Plan) -> list[dict[str, Any]]:
        """The resource changes of a dry run's first step: from a change set, unless its template would have to be
        staged in template_bucket first (a write a dry run does not make): then from a static diff against the live
        template, saying so."""
        if template is not None and template.source_kind(self.factory.region) == "staged":
            self.plan_warning(plan, "%s: the first step is planned from a template diff, not a change set: its template "
                                    "is staged in template_bucket only when the update runs." % self.label())
            return template_diff(self.stacks.template(stack.stack_id), template)
        return self.stacks.plan(stack.name, parameters, tags, template)

    # -- ownership -------------------------------------------------------------------------------
    def expected_tags(self) -> dict[str, str]:  # pragma: no cover - abstract
        """The system tags that make a stack this manager's."""
        raise NotImplementedError

    def check_owned(self, stack: cfn.Stack | None) -> dict[str, str]:
        """Refuse a stack of this name that is not ours (unless ``adopt``); returns the tags that
        adopting it adds ({} when it is ours).  Called before any change and before planning."""
        if stack is None:
            self.adopted_tags = {}
            return {}
        self.adopted_tags = check_owned(self.label(), stack.name, stack.tags, self.expected_tags(),
                                        bool(self.params["adopt"]))
        return self.adopted_tags

    def adoption_note(self, stack: cfn.Stack | None) -> str | None:
        if not self.adopted_tags or stack is None:
            return None
        if installed_by_cli(stack.tags) and set(self.adopted_tags) == {"Rack"}:
            return ("rack %s was installed by the Convox CLI (tags System=convox, Type=rack, no Rack tag): it gains the "
                    "tag %s with its first change" % (stack.name, format_tags(self.adopted_tags)))
        return "stack %s is adopted: it gains the tags %s" % (stack.name, format_tags(self.adopted_tags))

    # -- secrets: values of NoEcho parameters never leave the manager -------------------------
    def user_parameters(self, template: Mapping[str, Any] | None) -> dict[str, str]:
        """The user's parameters as CloudFormation strings; values of NoEcho parameters (by the
        template, or masked by CloudFormation on the current stack) are remembered as secrets."""
        user = normalize_parameters(self.params["parameters"], template)
        no_echo = no_echo_parameters(template) if template else set()
        for key, value in user.items():
            if key in no_echo or key in self.secret_keys or self.current_params.get(key) == NO_ECHO_MASK:
                self.secret_values.add(value)
        return user

    def carried_tags(self, stack: cfn.Stack | None) -> dict[str, str]:
        """The collection's tags a stack keeps from one operation to the next (``convox:no-echo``)."""
        return {key: stack.tags[key] for key in (NO_ECHO_TAG, NO_ECHO_OUTPUTS_TAG)
                if stack is not None and stack.tags.get(key)}

    def learn_secrets(self, stack: cfn.Stack, no_echo: Iterable[str]) -> None:
        """Every parameter that is NoEcho somewhere - masked by CloudFormation on the stack now, listed in its
        ``convox:no-echo`` tag, or NoEcho (``no_echo``) in a template it is about to go through - is secret from
        here on."""
        self.secret_keys |= {k for k, v in stack.parameters.items() if v == NO_ECHO_MASK} | no_echo_keys(stack.tags)
        self.secret_keys |= set(no_echo)
        self.secret_values |= {v for k, v in stack.parameters.items() if k in self.secret_keys and v != NO_ECHO_MASK}

    def keep_secrets(self, stack: cfn.Stack, target: Mapping[str, Any], version: str, tags: dict[str, str],
                     plan: Plan) -> None:
        """A release that drops NoEcho from a secret parameter (``learn_secrets``) would let CloudFormation show its
        value; the collection keeps masking it - the stack's ``convox:no-echo`` tag (in ``tags``) lists it - and
        the plan warns, once, about the drop."""
        declared = declared_parameters(target)
        exposed = sorted(k for k in self.secret_keys if k in declared and k not in no_echo_parameters(target))
        for key in exposed:
            if key not in no_echo_keys(stack.tags):
                self.security_change(plan, version, "drops NoEcho from parameter %s" % key, (
                    "%s: release %s drops NoEcho from parameter %s, so CloudFormation will show its value to anyone "
                    "allowed to describe the stack; the collection keeps masking it (tag %s)."
                    % (self.label(), version, key, NO_ECHO_TAG)))
        if exposed:
            tags[NO_ECHO_TAG] = ",".join(exposed)
        else:
            tags.pop(NO_ECHO_TAG, None)
        mark_no_echo_outputs(target, tags)

    def security_change(self, plan: Plan, step: str, finding: str, warning: str) -> None:
        """A security-sensitive change of the plan: listed in its ``security_changes`` and warned about."""
        plan.security_changes.append({"step": step, "finding": finding})
        self.plan_warning(plan, warning)

    def plan_warning(self, plan: Plan, text: str) -> None:
        """A warning of the plan (its ``warnings``), also shown as a task warning."""
        warnings = plan.warnings
        if text not in warnings:
            warnings.append(text)
            self.warn(text)

    def scrubbed(self, result: dict[str, Any]) -> dict[str, Any]:
        """A task result with every secret value replaced by the NoEcho mask."""
        return cast("dict[str, Any]", self.scrub(result))

    def scrub(self, data: Any) -> Any:
        """``data`` with every secret value replaced by the NoEcho mask."""
        secrets = [s for s in self.secret_values if s]
        if not secrets:
            return data
        if isinstance(data, dict):
            return {k: self.scrub(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.scrub(v) for v in data]
        if isinstance(data, str):
            for secret in secrets:
                data = data.replace(secret, NO_ECHO_MASK)
        return data

    def in_place_parameters(self, stack: cfn.Stack, where: str) -> dict[str, str]:
        """The user's parameters for an update with the stack's current template: that template is
        read (and the parameters checked against it) only when a given value differs."""
        user = self.user_parameters(None)
        if any(key in self.FIXED or stack.parameters.get(key) != value for key, value in user.items()):
            template = self.stacks.template(stack.stack_id)
            user = self.user_parameters(template)
            check_parameters(self.kind, self.name, user, template, self.FIXED, where)
        return user

    def resources_of(self, stack_id: str) -> list[dict[str, Any]]:
        """The stack's resources after a change (the installer log), unless the caller skips them."""
        return self.stacks.resources(stack_id) if self.list_resources else []

    # -- dry runs -------------------------------------------------------------------------------
    def plan_steps(self, stack: cfn.Stack, plan: Plan, after: dict[str, Any], first_label: str,
                   first_changes: list[dict[str, Any]], first_template: Mapping[str, Any] | None = None,
                   later: Iterable[tuple[str, list[dict[str, Any]], list[str]]] = ()) -> None:
        """The resource changes of every step of a dry run: the first from its change set (against the
        live stack; ``first_template`` is that step's template, None when it keeps the stack's), each later one
        (``later``: (label, resource changes from a static diff of the consecutive templates, their security
        findings)), into the ``Plan``.  Removing or replacing a stateful resource is flagged and listed in the
        plan's ``stateful_changes``; it and every security-sensitive change of a step (``security_findings``) is
        a warning of the plan; the diff shows every step's changes."""
        needs_live = first_template is not None or any(
            c.get("action") == "Remove" or str(c.get("replacement")) in ("True", "Conditional") for c in first_changes)
        live = self.stacks.template(stack.stack_id) if needs_live else None
        steps: list[dict[str, Any]] = [{"step": first_label, "source": "change set", "resource_changes": annotate(first_changes, live)}]
        findings = [(first_label, f) for f in security_findings(live, first_template)] if first_template is not None else []
        for label, changes, step_findings in later:
            steps.append({"step": label, "source": "template diff", "resource_changes": changes})
            findings += [(label, f) for f in step_findings]
        plan.resource_changes = steps[0]["resource_changes"]
        plan.steps = steps
        risky = stateful_changes([{"label": s["step"], "resource_changes": s["resource_changes"]} for s in steps])
        protected = set(self.protected(live if live is not None else self.stacks.template(stack.stack_id))
                        if self.params.get("protect_stateful", True) else [])
        plan.protected = sorted(protected)
        plan.stateful_changes = [dict(item, step=label, protected=item.get("logical_id") in protected)
                                 for label, item in risky]
        for label, item in risky:
            guard = ("; it is protected (protect_stateful): the step will fail and roll back before anything is lost, "
                     "unless allow_replace lists it" if item.get("logical_id") in protected else "")
            text = "%s, step %s: %s%s." % (self.label(), label, stateful_warning(item).rstrip("."), guard)
            self.plan_warning(plan, text)
        for label, finding in findings:
            self.security_change(plan, label, finding, "%s, step %s: %s." % (self.label(), label, finding))
        after["resource_changes"] = {"%s (%s)" % (s["step"], s["source"]): [describe(c) for c in s["resource_changes"]] for s in steps}

    # -- naming in messages -----------------------------------------------------------------
    def label(self) -> str:
        return "%s %s" % (self.kind, self.stack_name)

    # -- waiting -------------------------------------------------------------------------------
    def wait_settled(self, stack: cfn.Stack | None, gone_ok: bool = False) -> cfn.Stack | None:
        """A stack found in progress is waited for (bounded by wait_timeout).  One that disappears
        meanwhile (deleted by someone else) fails the task unless ``gone_ok`` or it was found being
        deleted: building it again from the task alone would lose every parameter the task does not
        list."""
        if stack is None or stack.status not in cfn.IN_PROGRESS:
            return stack
        found = stack.status
        final = self.stacks.wait(stack.stack_id, self.wait_timeout)
        if final is None and not gone_ok and found != "DELETE_IN_PROGRESS":   # a delete seen starting may end
            raise ConvoxError("%s was deleted while this task waited for its %s to finish; nothing was changed, and it "
                              "is not re-created from this task alone (run again to install it anew)."
                              % (self.label(), found), status=cfn.GONE)
        return final

    def create_and_wait(self, template: Template, parameters: list[dict[str, Any]], tags: dict[str, str],
                        protection: bool, operation: str, version: str) -> tuple[str, cfn.Stack | None, Step]:
        """Create this manager's stack and wait for it: (stack id, final Stack or None, Step)."""
        self.confirm(None)
        started = self.stacks.now()
        t0 = time.time()
        stack_id, token = self.stacks.create(self.stack_name, template, parameters, tags, protection)
        try:
            final = self.finish(stack_id, operation, started, token, ("CREATE_COMPLETE",))
        except ConvoxError as exc:
            exc.details.setdefault("steps", [Step(None, version, exc.details.get("status"),
                                                  round(time.time() - t0, 1)).to_dict()])
            raise
        return stack_id, final, Step(None, version, final.status if final else None, round(time.time() - t0, 1))

    def update_and_wait(self, stack: cfn.Stack, parameters: list[dict[str, Any]], tags: dict[str, str],
                        template: Mapping[str, Any] | None, operation: str, from_version: str | None,
                        to_version: str | None) -> tuple[cfn.Stack, Step]:
        """Update ``stack`` (``template`` None: its current one) and wait for it: (final Stack, Step).  When
        CloudFormation has nothing to do the Step's status is NO_CHANGES and the stack is returned as it was."""
        self.arm_rollback_alarms()
        self.confirm(stack)
        policy = self.step_policy(stack)
        started = self.stacks.now()
        t0 = time.time()
        token = self.stacks.update(stack.stack_id, parameters, tags, template, policy)
        if template is not None:
            self.base_template = dict(template)
        if token is None:
            return stack, Step(from_version, to_version, NO_CHANGES, 0.0)
        # without waiting (wait: false) the stack as it reads now, or as it was if it cannot be read
        final = self.finish(stack.stack_id, operation, started, token, ("UPDATE_COMPLETE",)) or stack
        return final, Step(from_version, to_version, final.status, round(time.time() - t0, 1))

    def finish(self, stack_id: str, operation: str, started: datetime.datetime, token: str,
               ok_statuses: tuple[str, ...]) -> cfn.Stack | None:
        """Wait for an operation and return the final Stack; raise naming the failure.  Any failure
        here comes after a change was started, so it reports ``changed``."""
        if not self.wait_enabled:
            return self.stacks.describe(stack_id)
        try:
            final = self.stacks.wait(stack_id, self.wait_timeout)
        except cfn.StackTimeout as exc:
            if self.params.get("cancel_on_timeout") and "UPDATE_COMPLETE" in ok_statuses:
                final = self.cancel_after_timeout(stack_id, operation)
            else:
                exc.details["changed"] = True      # a timeout: the operation was started all the same
                raise
        except ConvoxError as exc:
            exc.details["changed"] = True
            raise
        status = final.status if final is not None else cfn.GONE
        if status in ok_statuses:
            return final
        if final is None:
            raise ConvoxError("%s failed for %s: the stack was deleted (by someone else) while this task waited for it."
                              % (operation, self.label()), status=status, changed=True)
        cause = self.stacks.failure(stack_id, started, token) or final.reason or "no failure event was recorded"
        fired = self.fired_alarms() if status == "UPDATE_ROLLBACK_COMPLETE" else []
        if "denied by stack policy" in cause:
            cause = cause.rstrip(".") + (" (a stateful resource, protected: protect_stateful; list it in allow_replace "
                                         "to let an update replace or delete it)")
        if fired:
            cause = "rollback alarm %s went into ALARM, so CloudFormation rolled the step back (%s)" % (
                ", ".join(fired), cause.rstrip("."))
        message = "%s failed for %s: %s; the stack is now %s." % (operation, self.label(), cause.rstrip("."), status)
        raise ConvoxError(message, status=status, changed=True, **({"alarms": fired} if fired else {}))

    # -- stateful resources protected ----------------------------------------------------------------
    def protected(self, base: Mapping[str, Any] | None) -> list[str]:
        """The stateful resources of ``base`` (the stack's template before a step) an update may not replace or
        delete: all of them but allow_replace, with protect_stateful."""
        if not self.params.get("protect_stateful", True):
            return []
        allowed = set(self.params.get("allow_replace") or [])
        resources = (base or {}).get("Resources") or {}
        return sorted(lid for lid, decl in resources.items() if isinstance(decl, dict) and lid not in allowed
                      and is_stateful(decl.get("Type"), decl))

    def step_policy(self, stack: cfn.Stack) -> dict[str, Any] | None:
        """The stack policy of the next update step: the stack's own (or allow-all) plus a deny of replacing or
        deleting each protected resource; None when nothing is protected."""
        if self.base_template is None:
            self.base_template = self.stacks.template(stack.stack_id)
        protected = self.protected(self.base_template)
        if not protected:
            return None
        if self.own_policy is None:
            own = self.stacks.stack_policy(stack.stack_id)
            self.own_policy = list((own or {}).get("Statement") or []) or [
                {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
        return {"Statement": self.own_policy + [
            {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*",
             "Resource": ["LogicalResourceId/%s" % lid for lid in protected]}]}

    # -- rollback alarms ------------------------------------------------------------------------------
    def arm_rollback_alarms(self) -> None:
        """rollback_alarms as the rollback triggers of every update (RollbackConfiguration): every alarm of the
        stack's region - named, or by ARN - read once before any change, metric and composite alike; one that does
        not exist fails the task, changing nothing."""
        wanted = [str(a) for a in self.params.get("rollback_alarms") or []]
        if not wanted or self.alarm_arns:
            return
        if len(wanted) > MAX_ROLLBACK_TRIGGERS:
            raise ConvoxError("rollback_alarms names %d alarms, more than CloudFormation's %d rollback triggers of an "
                              "operation; nothing was changed (a composite alarm can stand for several)."
                              % (len(wanted), MAX_ROLLBACK_TRIGGERS))
        # an ARN of another region is passed on as it is (CloudFormation is its judge); the rest is read here
        local = [a for a in wanted if arn_place(a) is None or (arn_place(a) or ("", ""))[1] == self.factory.region]
        try:
            found = read_alarms(self.factory("cloudwatch"), local) if local else {}
        except Exception as exc:
            if is_aws_error(exc):
                raise ConvoxError(describe_aws_error(exc, "reading rollback_alarms %s" % ", ".join(local))) from exc
            raise
        missing = [a for a in local if alarm_name(a) not in found
                   or (a.startswith("arn:") and found[alarm_name(a)]["arn"] not in ("", a))]
        if missing:
            raise ConvoxError("rollback_alarms: no CloudWatch alarm named %s in %s, so it could not guard the update; "
                              "nothing was changed." % (", ".join(missing), self.factory.region))
        triggers = []
        for alarm in wanted:
            seen = found.get(alarm_name(alarm)) if alarm in local else None
            arn = (seen or {}).get("arn") or alarm
            self.alarm_arns[arn] = alarm
            triggers.append({"Arn": arn, "Type": TRIGGER_TYPES[(seen or {}).get("type") or "MetricAlarm"]})
        self.stacks.update_options["RollbackConfiguration"] = {
            "RollbackTriggers": triggers,
            "MonitoringTimeInMinutes": int(self.params.get("rollback_monitoring_minutes") or 0)}

    def fired_alarms(self) -> list[str]:
        """The rollback_alarms in ALARM now (after an update step rolled back: the ones that rolled it back)."""
        if not self.alarm_arns:
            return []
        try:
            found = read_alarms(self.factory("cloudwatch"), list(self.alarm_arns))
        except Exception:  # pylint: disable=broad-except  # the failure is reported either way
            return []
        return sorted(name for name, alarm in found.items() if alarm["state"] == "ALARM")

    def cancel_after_timeout(self, stack_id: str, operation: str) -> cfn.Stack | None:
        """cancel_on_timeout: the update outlived wait_timeout: cancel it (CancelUpdateStack), wait for the rollback
        and fail saying where the stack is (or, when it finished meanwhile, return it)."""
        try:
            self.stacks.cancel_update(stack_id)
        except Exception as exc:     # it left UPDATE_IN_PROGRESS meanwhile: its outcome stands
            if aws_error_code(exc) != "ValidationError":
                raise
            return self.stacks.read(stack_id)
        # the rollback takes what it takes (as long as the update had, or more): waited for up to an hour at least
        final = self.stacks.wait(stack_id, max(self.wait_timeout, ROLLBACK_WAIT))
        status = final.status if final is not None else cfn.GONE
        raise ConvoxError("%s of %s did not finish within %d seconds, so it was cancelled (cancel_on_timeout: "
                          "CancelUpdateStack) and rolled back; the stack is now %s." % (
                              operation, self.label(), self.wait_timeout, status),
                          status=status, changed=True, cancelled=True)

    # -- entry states --------------------------------------------------------------------------
    def settle_for_present(self, stack: cfn.Stack | None) -> tuple[cfn.Stack | None, str | None]:
        """Bring a stack found in any status to one we can build on.  Returns (stack or None,
        note) where None means: install from scratch."""
        stack = self.wait_settled(stack)
        if stack is None:
            return None, None
        status = stack.status
        if status in cfn.STABLE:
            return stack, None
        if status == cfn.REVIEW:
            if not self.check_mode:
                self.confirm(stack)
                self.stacks.delete(stack.stack_id)
                self.stacks.wait(stack.stack_id, self.wait_timeout)
            return None, "stack was in REVIEW_IN_PROGRESS (created by a change set never executed) and is replaced"
        if status == cfn.FAILED_INSTALL:
            if not self.check_mode:
                self.delete_stack(stack, "deleting the failed install")
            return None, "a failed install (ROLLBACK_COMPLETE) was deleted and is installed again"
        if status == "UPDATE_ROLLBACK_FAILED" and self.params["recover"]:
            return self.continue_rollback(stack)
        if status in ("UPDATE_FAILED", "CREATE_FAILED") and self.params["recover"]:
            return self.roll_back(stack)
        if status in cfn.STUCK:
            raise ConvoxError("%s is in %s (%s): %s." % (self.label(), status, (stack.reason or "no reason given").rstrip("."),
                                                         cfn.STUCK_ADVICE[status]), status=status)
        raise ConvoxError("%s is in the unexpected status %s." % (self.label(), status), status=status)

    def continue_rollback(self, stack: cfn.Stack) -> tuple[cfn.Stack | None, str]:
        """recover of an UPDATE_ROLLBACK_FAILED stack: ContinueUpdateRollback, skipping resources_to_skip; a rollback
        that fails again names that option."""
        skip = list(self.params.get("resources_to_skip") or [])
        skipping = " skipping %s (resources_to_skip)" % ", ".join(skip) if skip else ""
        if self.check_mode:
            return stack, "the stack would first be recovered with ContinueUpdateRollback%s" % skipping
        self.confirm(stack)
        started = self.stacks.now()
        token = self.stacks.continue_update_rollback(stack.stack_id, skip)
        try:
            recovered = self.finish(stack.stack_id, "recovering (ContinueUpdateRollback%s)" % skipping, started,
                                    token, ("UPDATE_ROLLBACK_COMPLETE",))
        except ConvoxError as exc:
            if exc.details.get("status") == "UPDATE_ROLLBACK_FAILED":
                exc.msg = exc.msg.rstrip(".") + ("; list the resources whose rollback cannot succeed in "
                                                 "resources_to_skip to leave them as they are.")
                exc.args = (exc.msg,)
            raise
        return recovered, "recovered from UPDATE_ROLLBACK_FAILED with ContinueUpdateRollback%s" % skipping

    def roll_back(self, stack: cfn.Stack) -> tuple[cfn.Stack | None, str]:
        """recover of a CREATE_FAILED or UPDATE_FAILED stack (rollback disabled): RollbackStack, then on from the
        status it settles in (a failed install is then removed and installed again)."""
        status = stack.status
        if self.check_mode:
            return stack, "the stack would first be rolled back to its last stable state (RollbackStack)"
        self.confirm(stack)
        started = self.stacks.now()
        token = self.stacks.rollback(stack.stack_id)
        rolled = self.finish(stack.stack_id, "rolling back (RollbackStack)", started, token,
                             ("UPDATE_ROLLBACK_COMPLETE", "ROLLBACK_COMPLETE"))
        settled, note = self.settle_for_present(rolled)
        return settled, "; ".join(n for n in ("rolled back from %s with RollbackStack" % status, note) if n)

    # -- the stack's buckets ----------------------------------------------------------------------
    def bucket_names(self, stack_id: str) -> list[str]:
        """The stack's buckets, but those retain_resources leaves in place."""
        keep = set(self.params.get("retain_resources") or [])
        return [r["physical_id"] for r in self.stacks.resources(stack_id)
                if r["type"] == "AWS::S3::Bucket" and r.get("physical_id") and r.get("logical_id") not in keep]

    def delete_stack(self, stack: cfn.Stack, operation: str) -> None:
        """Disable termination protection, delete, wait (raising naming the failure).  A stack whose deletion
        failed (found DELETE_FAILED, or failing now) is deleted leaving retain_resources in place."""
        self.confirm(stack)
        if stack.termination_protection:
            self.stacks.set_termination_protection(stack.stack_id, False)
        retain = list(self.params.get("retain_resources") or [])
        status = stack.status
        while True:
            started = self.stacks.now()
            with_retain = retain if status == "DELETE_FAILED" else []
            token = self.stacks.delete(stack.stack_id, with_retain)
            try:
                self.finish(stack.stack_id, operation, started, token, (cfn.GONE,))
            except ConvoxError as exc:
                status = str(exc.details.get("status") or "")
                if status == "DELETE_FAILED" and retain and not with_retain:
                    continue                # failed as expected: again, leaving those resources in place
                if status == "DELETE_FAILED" and not retain:
                    exc.msg = exc.msg.rstrip(".") + ("; remove what blocks the failed resources, or name them in "
                                                     "retain_resources to leave them in place, and run again.")
                    exc.args = (exc.msg,)
                raise
            self.retained = with_retain
            return

    def delete_stack_and_buckets(self, stack: cfn.Stack, operation: str) -> list[str]:
        """Empty the stack's (retained) buckets, delete the stack, then delete the emptied buckets."""
        self.confirm(stack)
        buckets = self.bucket_names(stack.stack_id)
        for bucket in buckets:
            self.changes.append("emptying bucket %s" % bucket)
            empty_bucket(self.factory("s3"), bucket)
        self.delete_stack(stack, operation)
        for bucket in buckets:
            delete_bucket(self.factory("s3"), bucket)
        return buckets
