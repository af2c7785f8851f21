# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppManager: an app is the stack ``<rack>-<app>`` built from ``<channel>/<rack version>/app.json``.

When the rack has moved to a newer release, ``present`` moves the app to it.  ``absent`` empties
the app's retained buckets before deleting.  The rack's ``force`` uninstall uses ``absent``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, cast

from ansible_collections.convox.rack.plugins.module_utils.aws import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, describe_aws_error
from ansible_collections.convox.rack.plugins.module_utils.aws._parameters import build_parameters, check_parameters, parameter_changes, parameters_from_current
from ansible_collections.convox.rack.plugins.module_utils.aws._quotas import QuotaReader, advisory_failure, listener_imports
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import Template, declared_parameters, no_echo_parameters
from ansible_collections.convox.rack.plugins.module_utils.managers._info import kept_secret, masked
from ansible_collections.convox.rack.plugins.module_utils.managers._managed import StackManagerBase, operation
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError, no_version_parameter, not_the_rack
from ansible_collections.convox.rack.plugins.module_utils.model._names import validate_app_name, validate_rack_name
from ansible_collections.convox.rack.plugins.module_utils.model._plan import NO_CHANGES, Plan, added_resources
from ansible_collections.convox.rack.plugins.module_utils.model._tags import app_tags, desired_tags, format_tags, is_convox_app, is_rack

FIXED = ("Rack", "Version")


@dataclass
class RackState:
    """What an app needs of its rack: its status (healthy?), version (the app's release) and tags (is it
    the rack?; None when the caller's rack_details omit them)."""
    status: str
    version: str
    tags: dict[str, str] | None


@dataclass
class AppPlan:
    """An app's plan and what applying it takes: made by ``AppManager.plan_present`` without changing anything,
    executed by ``AppManager.apply``."""

    plan: Plan
    stack: cfn.Stack | None          # None: the app is created
    before: dict[str, Any]
    after: dict[str, Any]
    note: str | None
    tags: dict[str, str]
    parameters: list[dict[str, Any]]
    template: Template | None        # the release's template (create, or a move to another release)


class AppManager(StackManagerBase):
    kind = "app"
    spec = "rack_app"
    FIXED = FIXED

    def __init__(self, params: Mapping[str, Any], check_mode: bool = False, *, client_factory: ClientFactory,
                 warn: Callable[[str], None] | None = None, sleep: Callable[[float], Any] = time.sleep,
                 watcher: cfn.Watcher | None = None, list_resources: bool = True,
                 found: cfn.Stack | None = None) -> None:
        """``found``: the stack of an app discovered by its tags (a rack's force uninstall), to delete.  Discovered
        state is not input: its name and stack name are taken as they are, whatever they look like."""
        super().__init__(params, check_mode, client_factory, warn=warn, sleep=sleep, watcher=watcher,
                         list_resources=list_resources)
        self.found_stack = found
        self.known: tuple[cfn.Stack | None] | None = None   # the app's stack as its rack read it, used once
        self.rack_stack: cfn.Stack | None = None            # the rack's stack, when this manager read it
        if found is not None:
            self.rack, self.name, self.stack_name = params["rack"], params["name"], found.name
        else:
            self.rack = validate_rack_name(params["rack"])
            self.name = validate_app_name(params["name"], self.rack)
            self.stack_name = "%s-%s" % (self.rack, self.name)
        self.user_tags = {} if found is not None else self.params["tags"]

    def label(self) -> str:
        return "app %s on rack %s" % (self.name, self.rack)

    def channel_purpose(self) -> str:
        return "create app %s or move it to a new release" % self.name

    def delete_found(self) -> None:
        """Delete the discovered app stack (its buckets emptied first)."""
        stack = self.wait_settled(self.found_stack, gone_ok=True)
        if stack is not None:
            self.delete_stack_and_buckets(stack, "deleting")

    def refuse_convox_app(self, stack: cfn.Stack | None) -> None:
        """An app Convox made (``Generation`` tag, no ``Version`` parameter) is rendered per app by the rack itself,
        from its own Go template: the collection lists it and deletes it with its rack, and never changes it here."""
        if stack is not None and is_convox_app(stack.tags, stack.parameters):
            raise ConvoxError("app %s of rack %s was made by Convox (stack %s: %s, no Version parameter): the rack "
                              "renders it per app from its own template, so it is never updated or deleted from a "
                              "channel here; manage it with the convox CLI (an uninstall of the rack with force deletes "
                              "it with the rack); nothing was changed."
                              % (self.name, self.rack, stack.name,
                                 format_tags({k: v for k, v in stack.tags.items() if k in ("Generation", "Version")})))

    def system_tags(self) -> dict[str, str]:
        return app_tags(self.rack, self.name)

    def expected_tags(self) -> dict[str, str]:
        return app_tags(self.rack, self.name)

    def describe_app(self, stack: cfn.Stack) -> dict[str, Any]:
        self.secret_values |= kept_secret(stack)
        parameters, outputs = masked(stack)
        return {"name": self.name, "rack": self.rack, "stack_name": stack.name, "stack_id": stack.stack_id,
                "status": stack.status, "version": stack.parameters.get("Version"), "parameters": parameters,
                "outputs": outputs, "tags": stack.tags}

    def view(self, stack: cfn.Stack) -> tuple[str, dict[str, Any]]:
        return "app", self.describe_app(stack)

    @staticmethod
    def state_view(version: str | None, parameters: Mapping[str, str] | None, tags: Mapping[str, str] | None) -> dict[str, Any]:
        return {"version": version, "parameters": dict(parameters or {}), "tags": dict(tags or {})}

    def result(self, changed: bool, stack: cfn.Stack | None, plan: Plan, before: dict[str, Any] | None = None,
               after: dict[str, Any] | None = None, resources: list[dict[str, Any]] | None = None, note: str | None = None) -> dict[str, Any]:
        if note:
            plan.note = note
        return self.scrubbed({"changed": changed, "app": self.describe_app(stack) if stack is not None else None,
                              "plan": plan.to_dict(),
                              "resources": resources or [],
                              "diff": {"before": before or {}, "after": after or {}}})

    def rack_state(self, known: Mapping[str, Any] | None) -> RackState:
        """The rack the app is on: as the caller already read it (``known``: RackManager's rack, or the deprecated
        ``rack_details`` option) or read now; either way checked to be rack ``self.rack``, healthy, with a release."""
        if known:
            if not isinstance(known, dict) or known.get("name") not in (None, self.rack):
                raise ConvoxError("rack_details must be the rack returned by convox.rack.rack or rack_info for rack %s."
                                  % self.rack)
            return self.checked_rack(known.get("status"), known.get("version"), known.get("tags"))
        stack = self.rack_stack = self.stacks.describe(self.rack)
        if stack is None:
            return self.checked_rack(None, None, None)
        return self.checked_rack(stack.status, stack.parameters.get("Version"), stack.tags)

    def checked_rack(self, status: str | None, version: str | None, tags: dict[str, str] | None) -> RackState:
        """Apps change only on rack ``self.rack`` (its tags, when known), existing, in a healthy *_COMPLETE
        state, on a release."""
        if tags is not None and not is_rack(tags, self.rack):
            raise not_the_rack(self.rack, self.rack, format_tags(tags), ", so no app is changed on it")
        if status is None or status == cfn.GONE:
            raise ConvoxError("rack %s does not exist in region %s." % (self.rack, self.factory.region))
        if status not in cfn.STABLE:
            raise ConvoxError("rack %s is %s; apps can only be changed on a rack in a healthy *_COMPLETE state."
                              % (self.rack, status))
        if not version:
            raise no_version_parameter(self.rack, " and the release of its apps is unknown")
        return RackState(status, version, tags)

    # -- present ---------------------------------------------------------------------------------
    @operation("converging the app")
    def present(self, rack: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Create the app, or move it to its rack's release and change it in place: ``plan_present`` (changing
        nothing), then, unless in check mode or there is nothing to do, ``apply``.  ``rack``: the rack as its
        RackManager just read or planned it (no second read)."""
        version = self.rack_state(rack or self.params["rack_details"]).version
        if self.known is not None:           # its rack already read it (the fingerprint of the rack's plan covers it)
            stack, self.known = self.known[0], None
        else:
            stack = self.stacks.describe(self.stack_name)
        self.check_owned(stack)
        self.refuse_convox_app(stack)
        adoption = self.adoption_note(stack)
        stack, note = self.settle_for_present(stack)
        prepared = self.plan_present(stack, version, "; ".join(n for n in (adoption, note) if n) or None)
        if self.check_mode or prepared.plan.action == "none":
            return self.result(prepared.plan.action != "none", stack, prepared.plan, before=prepared.before,
                               after=prepared.after, note=prepared.note)
        return self.apply(prepared)

    def plan_present(self, stack: cfn.Stack | None, version: str, note: str | None) -> AppPlan:
        """What converging the app (``stack``, settled; None: not created) on release ``version`` would do, and what
        doing it takes; changes nothing (in check mode a change set is created and deleted to read the changes)."""
        self.current_params = stack.parameters if stack is not None else {}
        tags = desired_tags(dict(self.carried_tags(stack), **self.system_tags()), self.user_tags,
                            stack.tags if stack else None, self.params["purge_tags"])
        fixed = {"Rack": self.rack, "Version": version}
        if stack is None:
            created = self.template(version)
            self.check_rule_room(created)
            user = self.user_parameters(created)
            check_parameters("app", self.name, user, created, FIXED, "version %s" % version)
            parameters = build_parameters(created, None, user, fixed)
            after = self.state_view(version, {p["ParameterKey"]: p["ParameterValue"] for p in parameters}, tags)
            plan = Plan("create", None, version, None, parameter_changes({}, user, fixed), added_resources(created))
            return AppPlan(plan, None, {}, after, note, tags, parameters, created)
        current_version = stack.parameters.get("Version")
        before = self.state_view(current_version, stack.parameters, stack.tags)
        template: Template | None = None
        if current_version != version:
            template = self.template(version)
            self.learn_secrets(stack, no_echo_parameters(template))
            user = self.user_parameters(template)
            check_parameters("app", self.name, user, template, FIXED, "version %s" % version)
            params_list = build_parameters(template, stack.parameters, user, fixed)
            decl = declared_parameters(template)
            after_params = {k: v for k, v in stack.parameters.items() if k in decl}
            after_params.update(user)
            after_params.update(fixed)
        else:
            user = self.in_place_parameters(stack, "app %s" % self.name)
            params_list = parameters_from_current(stack.parameters, user, fixed)
            after_params = dict(stack.parameters, **user)
        changes = parameter_changes(stack.parameters, user, fixed)
        plan = Plan("update", current_version, version, None, changes)
        if template is not None:
            self.keep_secrets(stack, template, version, tags, plan)
        after = self.state_view(version, after_params, tags)
        if not changes and tags == stack.tags and template is None:
            return AppPlan(Plan("none", current_version, version), stack, before, after, note, tags, params_list, None)
        if self.check_mode:
            self.plan_steps(stack, plan, after, "%s -> %s" % (current_version, version),
                            self.first_step_changes(stack, params_list, tags, template, plan), template)
        return AppPlan(plan, stack, before, after, note, tags, params_list, template)

    def check_rule_room(self, template: Template) -> None:
        """Before an app is created: its rack's load balancer has room for the listener rules the app adds (the
        account's Rules per Application Load Balancer, 100 unless raised: about 100 apps a rack), else it is refused
        naming the rack, the count and the quota, and nothing is created.  An advisory read: when ELB cannot be read
        the create goes on, saying so (CloudFormation then refuses a rule past the quota with TooManyRules)."""
        wanted = listener_imports(template, {"Rack": self.rack, "AWS::StackName": self.stack_name})
        if not wanted:
            return
        rack = self.rack_stack or self.stacks.describe(self.rack)      # its exports: read once
        exports = {rack.export_names[k]: v for k, v in rack.outputs.items() if k in rack.export_names} if rack else {}
        for listener in sorted({exports[name] for name in wanted if exports.get(name)}):
            adds = len([name for name in wanted if exports.get(name) == listener])
            try:
                used, limit = QuotaReader(self.factory).listener_rules(listener)
            except Exception as exc:
                if not advisory_failure(exc):
                    raise
                self.warn("the listener rules of rack %s's load balancer could not be counted (%s); app %s is "
                          "created without that check." % (self.rack, describe_aws_error(exc, "reading them"), self.name))
                continue
            if used + adds > limit:
                raise ConvoxError("rack %s's load balancer has %d listener rules of the %d its account allows (Rules "
                                  "per Application Load Balancer), and app %s adds %d, so it was not created; remove an "
                                  "app from the rack or ask AWS for a higher quota."
                                  % (self.rack, used, limit, self.name, adds))

    def apply(self, prepared: AppPlan) -> dict[str, Any]:
        """Execute a plan of ``plan_present``: create the stack, or update it (a change CloudFormation finds empty
        is no change)."""
        plan, stack = prepared.plan, prepared.stack
        version = plan.to_version or ""
        if stack is None:
            created = cast(Template, prepared.template)       # plan_present reads the release's for a create
            stack_id, final, dummy = self.create_and_wait(created, prepared.parameters, prepared.tags, False,
                                                          "creating", version)
            return self.result(True, final, plan, before={}, after=prepared.after,
                               resources=self.resources_of(stack_id) if final else [], note=prepared.note)
        current_version = stack.parameters.get("Version")
        final, step = self.update_and_wait(stack, prepared.parameters, prepared.tags, prepared.template,
                                           "updating to %s" % version, current_version, version)
        if step.status == NO_CHANGES:
            plan.action = "none"
            return self.result(False, stack, plan, before=prepared.before, after=prepared.before, note=prepared.note)
        return self.result(True, final, plan, before=prepared.before, after=prepared.after,
                           resources=self.resources_of(stack.stack_id) if final else [], note=prepared.note)

    # -- absent ----------------------------------------------------------------------------------
    @operation("deleting the app")
    def absent(self) -> dict[str, Any]:
        stack = self.stacks.describe(self.stack_name)
        self.check_owned(stack)                    # before anything else: not ours, not touched
        self.refuse_convox_app(stack)
        stack = self.wait_settled(stack, gone_ok=True)
        if stack is None:
            return self.result(False, None, Plan("none"))
        before = self.state_view(stack.parameters.get("Version"), stack.parameters, stack.tags)
        plan = Plan("delete", stack.parameters.get("Version"))
        if self.adopted_tags:
            plan.note = self.adoption_note(stack)
        if self.check_mode:
            return self.result(True, stack, plan, before=before, after={})
        self.delete_stack_and_buckets(stack, "deleting")
        res = self.result(True, None, plan, before=before, after={})
        res["app"] = dict(self.describe_app(stack), status=cfn.GONE)
        if self.retained:
            res["retained"] = list(self.retained)
        return res
