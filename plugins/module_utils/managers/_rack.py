# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RackManager: install, update along the required-release path, change in place, uninstall.

Takes validated params, check mode and a client factory and raises ConvoxError; it never sees
the Ansible module object, so the module's main() and the fleet engine (rack_batch) both drive it."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import role_account
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, describe_aws_error, is_aws_error
from ansible_collections.convox.rack.plugins.module_utils.aws._parameters import (
    NO_ECHO_MASK,
    build_parameters,
    check_parameters,
    parameter_changes,
    parameters_from_current,
    require_values,
)
from ansible_collections.convox.rack.plugins.module_utils.aws._quotas import QuotaReader, Room
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import Template, declared_parameters, no_echo_parameters, template_digest
from ansible_collections.convox.rack.plugins.module_utils.managers._app import AppManager
from ansible_collections.convox.rack.plugins.module_utils.managers._info import kept_secret, needs_template, rack_view
from ansible_collections.convox.rack.plugins.module_utils.managers._managed import StackManagerBase, mark_no_echo_outputs, operation, run_manager
from ansible_collections.convox.rack.plugins.module_utils.model._changes import drift_lines, security_findings, template_diff
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError, no_version_parameter, template_without_version
from ansible_collections.convox.rack.plugins.module_utils.model._exports import changed_exports
from ansible_collections.convox.rack.plugins.module_utils.model._image import ImageSource, image_source, replacement_reasons
from ansible_collections.convox.rack.plugins.module_utils.model._names import validate_rack_name
from ansible_collections.convox.rack.plugins.module_utils.model._plan import NO_CHANGES, Plan, Step, added_resources, fingerprint
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Releases
from ansible_collections.convox.rack.plugins.module_utils.model._tags import (
    desired_tags,
    installed_by_cli,
    is_app,
    rack_dependent,
    rack_tags,
)

FIXED = ("Version",)


def added_parameters(current: Mapping[str, str], user: Mapping[str, str], declared: Mapping[str, Any]
                     ) -> list[dict[str, Any]]:
    """The parameters a release adds that the task does not set: each takes its default, and an SSM-typed one is
    resolved by CloudFormation again at every update of the stack (``ssm``)."""
    out = []
    for key in sorted(declared):
        if key in current or key in user or key == "Version":
            continue
        decl = declared[key] if isinstance(declared[key], dict) else {}
        kind = str(decl.get("Type") or "String")
        entry = {"name": key, "type": kind, "default": decl.get("Default"), "ssm": kind.startswith("AWS::SSM::")}
        if entry["ssm"]:
            entry["note"] = ("SSM-typed: CloudFormation resolves %s again at every update of the stack"
                             % decl.get("Default"))
        out.append(entry)
    return out


class PathTemplates:
    """The templates of an update path, every one fetched and checked before the first change - each parses,
    declares ``Version`` and accepts the task's parameters (``check``) - with memory proportional to the path, not
    to its templates: two templates are held at a time while they are read (a dry run reviews each later step from
    the pair, ``later``), then only the first and the target; a step's own template is read again when the step
    runs and must be the very one that was checked (its digest)."""

    def __init__(self, read: Callable[[str], Template], path: list[str], reviewed: bool = False) -> None:
        self.read = read
        self.path = list(path)
        self.digests: dict[str, str] = {}
        self.declarations: dict[str, dict[str, Any]] = {}      # version -> its parameter declarations
        self.no_echo: set[str] = set()                          # NoEcho somewhere on the path
        self.images: dict[str, ImageSource | None] = {}         # version -> where its image comes from
        self.later: list[tuple[str, list[dict[str, Any]], list[str]]] = []   # (step, resource changes, findings)
        self.replaced: dict[str, list[str]] = {}                # later step -> why its template replaces instances
        self.exports: dict[str, dict[str, str]] = {}            # later step -> {output: why its export changes}
        previous: Template | None = None
        first: Template | None = None
        for index, version in enumerate(self.path):
            template = read(version)
            declared = declared_parameters(template)
            if "Version" not in declared:
                raise template_without_version(version, "; nothing was changed")
            self.digests[version] = template_digest(template)
            self.declarations[version] = dict(declared)
            self.no_echo |= no_echo_parameters(template)
            self.images[version] = image_source(template)
            if reviewed and previous is not None:
                label = "%s -> %s" % (self.path[index - 1], version)
                self.later.append((label, template_diff(previous, template), security_findings(previous, template)))
                self.replaced[label] = replacement_reasons({}, {}, previous, template)
            if previous is not None:
                label = "%s -> %s" % (self.path[index - 1], version)
                self.exports[label] = changed_exports(previous, template, {"Version"})
            first = first or template
            previous = template
        if first is None or previous is None:
            raise ConvoxError("an update path needs at least one release.")
        self.first: Template = first
        self.target: Template = previous

    def check(self, rack: str, user: Mapping[str, str]) -> None:
        """The task's parameters against every template of the path: the target takes every one of them, a
        release on the way the ones it declares."""
        target = self.path[-1]
        check_parameters("rack", rack, user, self.target, FIXED, "version %s" % target)
        for version in self.path[:-1]:
            decl = self.declarations[version]
            check_parameters("rack", rack, {k: v for k, v in user.items() if k in decl}, {"Parameters": decl}, FIXED,
                             "version %s" % version)

    def template(self, version: str) -> Template:
        """The template of ``version`` for its step: the one that was checked."""
        if version == self.path[0]:
            return self.first
        if version == self.path[-1]:
            return self.target
        template = self.read(version)
        if template_digest(template) != self.digests[version]:
            raise ConvoxError("the rack template of version %s changed in the channel since the path was checked; "
                              "nothing more was changed (run again to plan from the channel as it is now)." % version)
        return template


@dataclasses.dataclass
class RackPlan:
    """An installed rack's plan and what applying it takes: made by ``RackManager.plan_update`` without changing
    anything, executed by ``RackManager.apply``."""

    plan: Plan
    stack: cfn.Stack
    before: dict[str, Any]
    after: dict[str, Any]
    note: str | None
    tags: dict[str, str]
    protection: bool
    # along the path: its templates (checked), the task's parameters and the images of each step
    templates: PathTemplates | None = None
    user: dict[str, str] = dataclasses.field(default_factory=dict)
    images: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # in place: the stack's parameters after the change, whether the stack is updated and protection changed
    parameters: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    update_stack: bool = False
    protection_changed: bool = False


class RackManager(StackManagerBase):
    kind = "rack"
    spec = "rack"
    FIXED = FIXED

    def __init__(self, params: Mapping[str, Any], check_mode: bool = False, *, client_factory: ClientFactory,
                 warn: Callable[[str], None] | None = None, sleep: Callable[[float], Any] = time.sleep,
                 watcher: cfn.Watcher | None = None, quota_reader: QuotaReader | None = None,
                 list_resources: bool = True, shared_templates: Any = None) -> None:
        super().__init__(params, check_mode, client_factory, warn=warn, sleep=sleep, watcher=watcher,
                         list_resources=list_resources)
        self.shared_templates = shared_templates or {}
        self.quota_reader = quota_reader      # shared by the racks of a fleet batch in one region, or None
        self.name = validate_rack_name(params["name"])
        self.stack_name = self.name
        self.org = self.params["org"]
        self.user_tags = self.params["tags"]
        self.max_steps = int(self.params["max_steps"])
        if self.max_steps < 0:
            raise ConvoxError("max_steps must be 0 (the whole path) or a positive number of steps.")
        self._releases = None
        if self.params["releases"] is not None:
            try:
                self._releases = Releases.from_list(self.params["releases"])
            except ConvoxError as exc:
                raise ConvoxError("releases option: %s" % exc.msg) from exc
        self.apps = self.app_managers(self.params["apps"])
        self.drift: dict[str, Any] | None = None
        self._images: dict[str, str] = {}                      # SSM path -> image, read once per task
        self._live_template: dict[str, Any] | None = None

    def app_managers(self, apps: list[dict[str, Any]] | None) -> list[AppManager] | None:
        """One AppManager per entry of the ``apps`` option, built (and so validated) before any call;
        None when the option is not given."""
        if apps is None:
            return None
        managers = []
        seen = set()
        for app in apps:
            if app["name"] in seen:
                raise ConvoxError("app %s is listed twice in the apps of rack %s." % (app["name"], self.name))
            seen.add(app["name"])
            managers.append(AppManager(
                dict(app, rack=self.name, channel=self.params["channel"], recover=self.params["recover"],
                     wait=self.wait_enabled, wait_timeout=self.wait_timeout,
                     notification_arns=self.params["notification_arns"], role_arn=self.params["role_arn"],
                     template_bucket=self.params.get("template_bucket"),
                     cancel_on_timeout=self.params["cancel_on_timeout"]),
                self.check_mode, client_factory=self.factory, warn=self.warn, sleep=self.sleep, watcher=self.watcher,
                list_resources=self.list_resources))
        return managers

    # -- channel ------------------------------------------------------------------------------
    def channel_purpose(self) -> str:
        return "install rack %s or change its version" % self.name

    def releases(self) -> Releases:
        if self._releases is None:
            self._releases = self.channel.read_releases()
        return self._releases

    # -- descriptions ----------------------------------------------------------------------------
    def system_tags(self, stack: cfn.Stack | None = None) -> dict[str, str]:
        """System tags; an omitted org keeps the rack's current Org tag."""
        return dict(self.carried_tags(stack),
                    **rack_tags(self.name, self.org or (stack.tags.get("Org") if stack is not None else None)))

    def expected_tags(self) -> dict[str, str]:
        return rack_tags(self.name)

    def describe_rack(self, stack: cfn.Stack) -> dict[str, Any]:
        self.secret_values |= kept_secret(stack)
        view = rack_view(stack, self.factory.region, self.live_template(stack) if needs_template(stack) else None)
        # an output that refers to a NoEcho parameter is a secret wherever its value appears (a diff, a message)
        self.secret_values |= {v for k, v in stack.outputs.items()
                               if view["outputs"].get(k) == NO_ECHO_MASK and isinstance(v, str) and v}
        return view

    def view(self, stack: cfn.Stack) -> tuple[str, dict[str, Any]]:
        return "rack", self.describe_rack(stack)

    @staticmethod
    def state_view(version: str | None, parameters: Mapping[str, str] | None, tags: Mapping[str, str] | None,
                   protection: bool) -> dict[str, Any]:
        return {"version": version, "parameters": dict(parameters or {}), "tags": dict(tags or {}),
                "termination_protection": protection}

    def result(self, changed: bool, stack: cfn.Stack | None, plan: Plan, steps: list[Step] | None = None,
               resources: list[dict[str, Any]] | None = None, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
               note: str | None = None) -> dict[str, Any]:
        if note:
            plan.note = note
        res: dict[str, Any] = {
            "changed": changed, "rack": self.describe_rack(stack) if stack is not None else None, "plan": plan.to_dict(),
            "steps": [step.to_dict() for step in steps or ()], "resources": resources or []}
        res["diff"] = {"before": before or {}, "after": after or {}}
        return self.scrubbed(res)

    # -- downtime ---------------------------------------------------------------------------------
    def single_task_apps(self, plan: Plan) -> None:
        """When a step replaces the rack's instances, the apps whose services run a single task (ECS services'
        DesiredCount, read from each app's template and parameters) go down while their instance is replaced: a
        warning of the plan per app (``single_task_apps``), with the advice to run at least two."""
        replaced = plan.instances_replaced or []
        if not replaced:
            return
        found = []
        for app in self.stacks.live():
            if not is_app(app.tags, self.name):
                continue
            for logical_id, resource in sorted(((self.stacks.template(app.stack_id) or {}).get("Resources") or {}).items()):
                if not isinstance(resource, dict) or resource.get("Type") != "AWS::ECS::Service":
                    continue
                count = (resource.get("Properties") or {}).get("DesiredCount", 1)
                parameter = count.get("Ref") if isinstance(count, dict) else None
                value = app.parameters.get(parameter) if parameter else count
                if str(value).strip() == "1":
                    found.append({"app": app.tags.get("Name") or app.name, "service": logical_id,
                                  "parameter": parameter})
        if found:
            plan.single_task_apps = found
            steps = ", ".join(r["step"] for r in replaced)
            for item in found:
                self.plan_warning(plan, "rack %s, step %s replaces its instances: app %s runs a single task (service %s%s) "
                                        "and is down while its instance is replaced; run at least two copies of "
                                        "anything critical." % (self.name, steps, item["app"], item["service"],
                                                                ", %s: 1" % item["parameter"] if item["parameter"] else ""))

    # -- approved plans -----------------------------------------------------------------------------
    def approve(self, plan: Plan, stack: cfn.Stack | None, digests: Mapping[str, str], target: Mapping[str, Any],
                apps: Any = None) -> None:
        """Seal ``plan`` with the fingerprint of everything its apply would do - the stack as it is (status, last
        update, parameters, tags), the target asked for, the path and each step's template digest, the state, the
        apps, every guard rail and where the rack lives (``plan_basis``) - and, with expect_fingerprint, refuse
        (changing nothing) a plan that is not the approved one."""
        # a NoEcho value is no part of it, not even hashed: only that it is set
        target = dict(target, parameters=[(k, NO_ECHO_MASK if k in self.secret_keys else v)
                                          for k, v in target.get("parameters") or []])
        basis = self.plan_basis(stack, apps if apps is not None else self.apps_basis())
        basis.update(target=target, path=list(plan.path or []), templates=dict(digests))
        if self.params["state"] == "present":
            self.arm_rollback_alarms()       # the alarms exist (resolved once), in check mode too
        whole, parts = fingerprint(basis)
        plan.fingerprint = whole
        plan.fingerprint_of = parts
        expected = self.params.get("expect_fingerprint")
        if expected and expected != whole:
            raise ConvoxError("the plan of rack %s is not the approved one: computed now it has fingerprint %s, not %s "
                              "(expect_fingerprint), so the stack, the channel or the task's parameters changed since it "
                              "was approved; nothing was changed." % (self.name, whole, expected),
                              stale=True, fingerprint=whole, fingerprint_of=parts)

    def plan_basis(self, stack: cfn.Stack | None, apps: Any) -> dict[str, Any]:
        """The parts of the fingerprint that are not the target, the path and its templates."""
        params = self.params
        return {
            "stack": [stack.stack_id, stack.status, str(stack.last_updated)] if stack is not None else None,
            "parameters": sorted(stack.parameters.items()) if stack is not None else None,
            "tags": sorted(stack.tags.items()) if stack is not None else None,
            "state": params["state"], "apps": apps,
            "protect_stateful": bool(params.get("protect_stateful", True)),
            "allow_replace": sorted(str(a) for a in params.get("allow_replace") or []),
            "retain_resources": sorted(str(a) for a in params.get("retain_resources") or []),
            "resources_to_skip": sorted(str(a) for a in params.get("resources_to_skip") or []),
            "notification_arns": (sorted(str(a) for a in params["notification_arns"])
                                  if params.get("notification_arns") is not None else None),
            "role_arn": params.get("role_arn") or None,
            "rollback_alarms": [sorted(str(a) for a in params.get("rollback_alarms") or []),
                                int(params.get("rollback_monitoring_minutes") or 0)],
            "force": bool(params.get("force")), "recover": bool(params.get("recover")),
            "where": [self.factory.region, params.get("account_id") or role_account(params.get("assume_role_arn"))],
        }

    def apps_basis(self) -> Any:
        """What the apps part of the fingerprint covers for a present rack: each app of the ``apps`` option as asked
        (state, parameters - NoEcho values masked -, tags) and its stack as it is now (status, last update, release,
        parameters), read before any change.  None without the option."""
        if self.apps is None:
            return None
        out = []
        for app in self.apps:
            found = self.stacks.describe(app.stack_name)
            app.known = (found,)                     # the app plans from this very read: no second DescribeStacks
            stack = None
            if found is not None:
                values = sorted((k, NO_ECHO_MASK if v in self.secret_values else v) for k, v in found.parameters.items())
                stack = [found.stack_id, found.status, str(found.last_updated), values]
            asked = app.params
            out.append([app.name, asked["state"],
                        sorted((str(k), NO_ECHO_MASK if str(v) in self.secret_values else str(v))
                               for k, v in (asked.get("parameters") or {}).items()),
                        sorted((str(k), str(v)) for k, v in (asked.get("tags") or {}).items()),
                        bool(asked.get("purge_tags", True)), stack])
        return out

    # -- present --------------------------------------------------------------------------------
    @operation("converging the rack")
    def present(self) -> dict[str, Any]:
        stack = self.stacks.describe(self.stack_name)
        self.check_owned(stack)
        adoption = self.adoption_note(stack)
        stack, note = self.settle_for_present(stack)
        if self.params["drift"] and self.drift is None:      # once, even when planned again from a fresh read
            self.drift = self.detect_drift(stack)
        drift = self.drift
        note = "; ".join(n for n in (adoption, note) if n) or None
        res = self.install(note) if stack is None else self.update(stack, note)
        if self.apps is not None:
            res = self.converge_apps(res)
        if drift is not None:
            res = self.add_drift(res, drift)
        return res

    def detect_drift(self, stack: cfn.Stack | None) -> dict[str, Any]:
        """Drift detection before planning (it changes no stack, so check mode runs it too).  A rack that is
        not installed, or in a state CloudFormation cannot check, is NOT_CHECKED with the reason."""
        if stack is None:
            return {"status": "NOT_CHECKED", "reason": "rack %s is not installed" % self.name, "drifted": []}
        drift = self.stacks.drift(stack, timeout=self.wait_timeout)
        if drift["drifted"]:
            self.warn("rack %s: %d resource%s drifted from the template (changed outside CloudFormation): %s" % (
                self.name, len(drift["drifted"]), "" if len(drift["drifted"]) == 1 else "s",
                "; ".join(drift_lines(drift))))
        return drift

    def add_drift(self, res: dict[str, Any], drift: dict[str, Any]) -> dict[str, Any]:
        """``drift`` in the result, and the drifted resources as a diff entry of their own."""
        res["drift"] = drift
        lines = drift_lines(drift) or [drift.get("reason") or "no resource drifted"]
        text = "drift of rack %s: %s\n%s" % (self.name, drift["status"], "".join("  %s\n" % line for line in lines))
        diffs = res["diff"] if isinstance(res["diff"], list) else [res["diff"]]
        res["diff"] = diffs + [{"prepared": text}]
        return self.scrubbed(res)

    def converge_apps(self, res: dict[str, Any]) -> dict[str, Any]:
        """After the rack: each app of the ``apps`` option, on the rack's (new) release.  In check mode
        the apps are planned against the release the rack would move to.  Adds ``apps`` (one result
        per app) and, with apps, turns ``diff`` into a list: the rack's, then each app's."""
        rack = res["rack"]
        if self.check_mode and res["plan"]["action"] in ("install", "update"):
            rack = dict(rack or {"name": self.name, "status": "CREATE_COMPLETE"}, version=res["plan"]["to_version"])
        res["apps"] = []
        diffs = [dict(res["diff"], before_header="rack %s" % self.name, after_header="rack %s" % self.name)]
        for app in self.apps or ():
            try:
                out = run_manager(app, self.secret_values, rack=rack)
            except ConvoxError as exc:
                if "app %s" % app.name not in exc.msg:
                    exc.msg = "app %s on rack %s: %s" % (app.name, self.name, exc.msg)
                # the rack (and the apps before this one) may have changed already: the task did change things
                exc.details.update(self.scrub({"rack": res["rack"], "plan": res["plan"], "steps": res["steps"],
                                               "apps": res["apps"]}))
                exc.details["changed"] = bool(res["changed"] or exc.details.get("changed"))
                raise
            diff = out.pop("diff")
            diffs.append(dict(diff, before_header="app %s" % app.stack_name, after_header="app %s" % app.stack_name))
            res["apps"].append(dict(out, name=app.name, state=app.params["state"]))
            res["changed"] = res["changed"] or out["changed"]
        if self.apps:
            res["diff"] = diffs
        return self.scrubbed(res)

    def install(self, note: str | None = None) -> dict[str, Any]:
        version = self.releases().resolve(self.params["version"] or "latest")
        template = self.template(version)
        user = self.user_parameters(template)
        check_parameters("rack", self.name, user, template, FIXED, "version %s" % version)
        if "Version" not in declared_parameters(template):
            raise template_without_version(version, "; nothing was changed")
        fixed = {"Version": version}
        source = image_source(template)
        if source is not None and source.by == "collection" and source.parameter not in user:
            fixed[source.parameter] = self.resolve_image(source)
        require_values("rack", self.name, template, user, fixed, "version %s" % version)
        room = self.room_for(template, user)
        tags = desired_tags(self.system_tags(), self.user_tags, None, True)
        mark_no_echo_outputs(template, tags)
        protection = self.params["termination_protection"] is not False     # on unless turned off
        parameters = build_parameters(template, None, user, fixed)
        plan = Plan("install", None, version, [version], parameter_changes({}, user, fixed), added_resources(template))
        if room.racks is not None:
            plan.region_room = room.racks - 1     # what is left for other racks once this one is in
        after = self.state_view(version, {p["ParameterKey"]: p["ParameterValue"] for p in parameters}, tags,
                                protection)
        self.secret_keys |= no_echo_parameters(template)
        self.approve(plan, None, {version: template_digest(template)},
                     {"version": version, "parameters": sorted(user.items()), "tags": sorted(tags.items()),
                      "protection": protection})
        if self.check_mode:
            return self.result(True, None, plan, before={}, after=after, note=note)
        stack_id, final, step = self.create_and_wait(template, parameters, tags, protection,
                                                     "installing version %s" % version, version)
        resources = self.resources_of(stack_id) if final is not None else []
        return self.result(True, final, plan, steps=[step], resources=resources, before={}, after=after, note=note)

    def update(self, stack: cfn.Stack, note: str | None = None) -> dict[str, Any]:
        """The plan for an installed rack (``plan_update``); in check mode, or when there is nothing to do, that is
        the result; otherwise ``apply`` executes it."""
        prepared = self.plan_update(stack, note)
        if self.check_mode or prepared.plan.action == "none":
            return self.result(prepared.plan.action != "none", stack, prepared.plan, before=prepared.before,
                               after=prepared.after, note=prepared.note)
        return self.apply(prepared)

    def plan_update(self, stack: cfn.Stack, note: str | None = None) -> RackPlan:
        """What an update of ``stack`` would do, and what doing it takes; changes nothing (in check mode a change set
        is created and deleted to read the first step's changes)."""
        self.current_params = stack.parameters
        current_version = stack.parameters.get("Version")
        if not current_version:
            raise no_version_parameter(self.stack_name, "")
        full_path, note = self.update_path(stack, current_version, note)
        path = full_path[:self.max_steps] if self.max_steps else full_path
        # omitted on an existing rack: left as it is (like an omitted parameter)
        protection = self.params["termination_protection"]
        protection = stack.termination_protection if protection is None else bool(protection)
        tags = desired_tags(self.system_tags(stack), self.user_tags, stack.tags, self.params["purge_tags"])
        before = self.state_view(current_version, stack.parameters, stack.tags, stack.termination_protection)
        prepared = RackPlan(Plan("none", current_version, current_version, []), stack, before, {}, note, tags,
                            protection)
        if path:
            return self.plan_versions(prepared, path, full_path)
        return self.plan_in_place(prepared)

    def update_path(self, stack: cfn.Stack, current_version: str, note: str | None) -> tuple[list[str], str | None]:
        """The whole path from the rack's release to the one asked for (through every required release), or its own
        release again when that was republished (saying so in the note)."""
        requested = self.params["version"]
        path: list[str] = []
        if requested and requested != current_version:
            releases = self.releases()
            target = releases.resolve(requested)
            if current_version not in releases:
                raise ConvoxError('current version "%s" of rack %s not found in channel %s.'
                                  % (current_version, self.name, self.channel.url if self._channel else "(releases)"))
            path = releases.path(current_version, target, allow_downgrade=bool(self.params["allow_downgrade"]))
        if requested and not path:
            republished = self.republished(stack, current_version)
            if republished:
                path = [current_version]
                note = "; ".join(n for n in (note, republished) if n)
        return path, note

    def apply(self, prepared: RackPlan) -> dict[str, Any]:
        """Execute a plan of ``plan_update``: each step of its path, or its change in place.  A failure keeps the
        plan it was executing (from, to, path), beside the steps done and the one that failed."""
        try:
            if prepared.templates is not None:
                return self.apply_versions(prepared, prepared.templates)
            return self.apply_in_place(prepared)
        except ConvoxError as exc:
            exc.details.setdefault("plan", self.scrub(prepared.plan.to_dict()))
            raise

    # -- the same release: parameters, tags, termination protection in place --------------------------------
    def plan_in_place(self, prepared: RackPlan) -> RackPlan:
        stack = prepared.stack
        current_version = stack.parameters["Version"]
        tags, protection = prepared.tags, prepared.protection
        user = self.in_place_parameters(stack, "rack %s (version %s)" % (self.name, current_version))
        changes = parameter_changes(stack.parameters, user)
        if installed_by_cli(stack.tags) and not changes and {k: v for k, v in tags.items() if k != "Rack"} == stack.tags:
            tags = prepared.tags = dict(stack.tags)     # a rack the CLI installed gains its Rack tag with a change only
        prepared.update_stack = bool(changes) or tags != stack.tags
        prepared.protection_changed = protection != stack.termination_protection
        after_params = dict(stack.parameters, **user)
        prepared.after = self.state_view(current_version, after_params, tags, protection)
        asked = {"version": current_version, "parameters": sorted(user.items()), "tags": sorted(tags.items()),
                 "protection": protection}
        if not prepared.update_stack and not prepared.protection_changed:
            self.approve(prepared.plan, stack, {}, asked)
            return prepared
        plan = prepared.plan = Plan("update", current_version, current_version, [], changes)
        self.approve(plan, stack, {}, asked)
        prepared.parameters = parameters_from_current(stack.parameters, user, {})
        if not prepared.update_stack:
            return prepared
        live = self.live_template(stack)
        source = image_source(live)
        reasons = replacement_reasons(stack.parameters, after_params, None, live, source)
        reasons += self.reresolved(stack, source)
        label = "%s (in place)" % current_version
        if reasons:
            plan.instances_replaced = [{"step": label, "reasons": reasons}]
            prepared.after["instances_replaced"] = ["%s: %s" % (label, "; ".join(reasons))]
            self.single_task_apps(plan)
        self.exports_in_use(stack, [(label, changed_exports(live, live, set(changes)))], plan)
        if self.check_mode:
            self.plan_steps(stack, plan, prepared.after, label,
                            self.stacks.plan(stack.name, prepared.parameters, tags, None))
        return prepared

    def apply_in_place(self, prepared: RackPlan) -> dict[str, Any]:
        stack = prepared.stack
        version = stack.parameters["Version"]
        steps: list[Step] = []
        resources: list[dict[str, Any]] = []
        final = stack
        if prepared.update_stack:
            final, step = self.update_and_wait(stack, prepared.parameters, prepared.tags, None, "updating parameters",
                                               version, version)
            if step.status != NO_CHANGES:
                steps.append(step)
                resources = self.resources_of(stack.stack_id)
        if prepared.protection_changed:
            self.confirm(stack)
            self.stacks.set_termination_protection(stack.stack_id, prepared.protection)
            final.termination_protection = prepared.protection
        changed = bool(steps) or prepared.protection_changed
        return self.result(changed, final, prepared.plan, steps=steps, resources=resources, before=prepared.before,
                           after=prepared.after, note=prepared.note)

    # -- the region's quotas ------------------------------------------------------------------------------
    def room_for(self, template: Template, user: Mapping[str, str]) -> Room:
        """The region's room for this rack, reserved: refused, changing nothing, when its quotas leave none."""
        reader = self.quota_reader or QuotaReader(self.factory)
        room = reader.reserve(reader.needs(template, user))
        if room.assumed:
            self.warn("rack %s: %s; an advisory read, so the install goes on with AWS's published default quotas for "
                      "region %s (a raised quota goes unseen until the read works: servicequotas:GetServiceQuota)."
                      % (self.name, (room.denied or "").rstrip("."), self.factory.region))
        if room.racks is not None and room.racks < 1:
            raise ConvoxError("rack %s cannot be installed: %s; nothing was changed (ask AWS for a quota increase in "
                              "Service Quotas, or install it in another region)." % (self.name, room.sentence()))
        return room

    # -- the image of the instances --------------------------------------------------------------------------
    def resolve_image(self, source: ImageSource) -> str:
        """The image the SSM parameter of ``source`` names now (read once per task)."""
        if source.path not in self._images:
            try:
                self._images[source.path] = self.factory("ssm").get_parameter(Name=source.path)["Parameter"]["Value"]
            except Exception as exc:
                if not is_aws_error(exc):
                    raise
                raise ConvoxError("the image of rack %s could not be resolved from SSM parameter %s: %s"
                                  % (self.name, source.path, describe_aws_error(exc, "reading it"))) from exc
        return self._images[source.path]

    def live_template(self, stack: cfn.Stack) -> dict[str, Any]:
        """The template the stack runs now (read once per task)."""
        if self._live_template is None:
            self._live_template = self.stacks.template(stack.stack_id)
        return self._live_template

    def running_image(self, stack: cfn.Stack, source: ImageSource | None) -> str | None:
        """The image the rack's instances run, by the parameter ``source`` (of its current template) names."""
        if source is None:
            return None
        return stack.resolved.get(source.parameter) or stack.parameters.get(source.parameter)

    def path_images(self, stack: cfn.Stack, templates: PathTemplates, user: Mapping[str, str]) -> dict[str, dict[str, str]]:
        """{version: {image parameter: image}} the collection sets at each step of a path: the image the rack runs,
        kept as long as the releases name the same source (also across the move from an SSM-typed parameter to a
        plain one), and resolved anew where a release names another source; nothing where the user sets it."""
        if not any(s is not None and s.by == "collection" for s in templates.images.values()):
            return {}
        previous = image_source(self.live_template(stack))
        current = self.running_image(stack, previous)
        out: dict[str, dict[str, str]] = {}
        for version in templates.path:
            source = templates.images[version]
            if source is None or source.by != "collection" or source.parameter in user:
                previous, current = source, (user.get(source.parameter) if source is not None else current)
                continue
            value = current if current and previous is not None and previous.path == source.path \
                else self.resolve_image(source)
            out[version] = {source.parameter: value}
            previous, current = source, value
        return out

    def replaced_instances(self, stack: cfn.Stack, templates: PathTemplates, images: dict[str, dict[str, str]],
                           first_values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every step of the path that replaces the rack's instances, with why: parameters they use that change at
        the first step (the image, the instance type, ...), an image CloudFormation would resolve anew, a later
        release's instance resources or image."""
        steps = []
        live = self.live_template(stack) if self.check_mode else None
        live_source = image_source(live) if live is not None else None
        before = dict(stack.parameters)
        if live_source is not None:
            before[live_source.parameter] = self.running_image(stack, live_source)
        label = "%s -> %s" % (stack.parameters.get("Version"), templates.path[0])
        reasons = replacement_reasons(before, first_values, live, templates.first, templates.images[templates.path[0]])
        reasons += self.reresolved(stack, templates.images[templates.path[0]])
        if reasons:
            steps.append({"step": label, "reasons": reasons})
        for previous, version in zip(templates.path, templates.path[1:]):
            label = "%s -> %s" % (previous, version)
            reasons = list(templates.replaced.get(label, []))
            source = templates.images[version]
            was, now = images.get(previous, {}), images.get(version, {})
            if source is not None and source.parameter in now and was.get(source.parameter) != now[source.parameter]:
                reasons.insert(0, "image %s -> %s (release %s takes its image from %s)"
                               % (was.get(source.parameter) or "(none)", now[source.parameter], version, source.path))
            if reasons:
                steps.append({"step": label, "reasons": reasons})
        return steps

    def exports_in_use(self, stack: cfn.Stack, steps: list[tuple[str, dict[str, str]]], plan: Plan) -> None:
        """An export another stack imports that a step would change: CloudFormation would fail that step and roll it
        back.  The dry run shows each (``plan.exports_in_use``, a warning); a real run refuses before any call,
        naming the export and the importing stacks.  ``steps``: (step, {output: why its export changes})."""
        found = []
        importers: dict[str, list[str]] = {}
        for label, outputs in steps:
            for output, why in sorted(outputs.items()):
                name = stack.export_names.get(output)
                if not name:
                    continue
                if name not in importers:
                    importers[name] = [s for s in self.stacks.importers(name) if s != stack.name]
                if importers[name]:
                    found.append({"step": label, "export": name, "reason": why, "importers": importers[name]})
        if not found:
            return
        plan.exports_in_use = found
        lines = ["step %s would change export %s (%s), which %s %s import%s" % (
            f["step"], f["export"], f["reason"], "stack" if len(f["importers"]) == 1 else "stacks",
            ", ".join(f["importers"]), "s" if len(f["importers"]) == 1 else "") for f in found]
        if self.check_mode:
            for line in lines:
                self.plan_warning(plan, "rack %s: %s; CloudFormation would fail the update and roll it back." % (
                    self.name, line))
            return
        raise ConvoxError("rack %s: %s; CloudFormation refuses to change an export in use (the update would fail and "
                          "roll back), so nothing was changed: move the importing stacks off it, or delete them, "
                          "first." % (self.name, "; ".join(lines)))

    def reresolved(self, stack: cfn.Stack, source: ImageSource | None) -> list[str]:
        """An SSM-typed image parameter is resolved again by CloudFormation on every update: what that does now."""
        if source is None or source.by != "cloudformation":
            return []
        running, now = self.running_image(stack, source), self.resolve_image(source)
        if running == now:
            return []
        return ["image %s -> %s (CloudFormation resolves %s again on any update of this template)"
                % (running, now, source.path)]

    def republished(self, stack: cfn.Stack, version: str) -> str | None:
        """Why the rack must take its own release again - the release was republished (``rack_release force``) and
        the rack runs the template it replaced - or None."""
        entry = self.releases().get(version)
        if entry is None or not entry.republished:
            return None
        if template_digest(self.stacks.template(stack.stack_id)) == template_digest(self.template(version)):
            return None
        return ("release %s was republished (%s) and rack %s runs the template it replaced: it takes the release again"
                % (version, entry.republished, self.name))

    # -- along the path: one stack update per release ----------------------------------------------------
    def plan_versions(self, prepared: RackPlan, path: list[str], full_path: list[str]) -> RackPlan:
        stack = prepared.stack
        current_version = stack.parameters.get("Version")
        tags, protection = prepared.tags, prepared.protection
        if not self.check_mode and not self.wait_enabled and len(path) > 1:
            path = path[:1]      # without waiting, a later step would find the stack still busy
        templates = prepared.templates = PathTemplates(self.template, path, reviewed=self.check_mode)
        self.learn_secrets(stack, templates.no_echo)
        user = prepared.user = self.user_parameters(templates.target)
        templates.check(self.name, user)
        kept = dict(stack.parameters)
        for version in path:       # a release on the path that adds a parameter with no default needs its value
            decl = {"Parameters": templates.declarations[version]}
            require_values("rack", self.name, decl, {k: v for k, v in user.items() if k in decl["Parameters"]},
                           {"Version": version}, "version %s" % version, kept)
            kept.update(dict.fromkeys(decl["Parameters"], ""))
        images = prepared.images = self.path_images(stack, templates, user)
        declared_target = declared_parameters(templates.target)
        after_params = {k: v for k, v in stack.parameters.items() if k in declared_target}
        after_params.update(user)
        after_params.update(images.get(path[-1], {}))
        after_params["Version"] = path[-1]
        plan = prepared.plan = Plan("update", current_version, path[-1], list(path), parameter_changes(
            stack.parameters, user, dict(images.get(path[-1], {}), Version=path[-1])))
        if full_path != path:
            plan.remaining_path = full_path[len(path):]
        added = added_parameters(stack.parameters, user, declared_target)
        if added:
            plan.added_parameters = added
        self.keep_secrets(stack, templates.target, path[-1], tags, plan)
        first_values = dict(stack.parameters, **{k: v for k, v in user.items() if k in templates.declarations[path[0]]})
        first_values.update(images.get(path[0], {}), Version=path[0])
        replaced = self.replaced_instances(stack, templates, images, first_values)
        if replaced:
            plan.instances_replaced = replaced
            self.single_task_apps(plan)
        first_changed = {k for k, v in first_values.items() if str(stack.parameters.get(k)) != str(v)}
        self.exports_in_use(stack, [("%s -> %s" % (current_version, path[0]),
                                     changed_exports(self.live_template(stack), templates.first, first_changed))]
                            + [(label, templates.exports.get(label, {})) for label in
                               ("%s -> %s" % pair for pair in zip(path, path[1:]))], plan)
        prepared.after = self.state_view(path[-1], after_params, tags, protection)
        if replaced:
            prepared.after["instances_replaced"] = ["%s: %s" % (r["step"], "; ".join(r["reasons"])) for r in replaced]
        self.approve(plan, stack, templates.digests, {"version": path[-1], "parameters": sorted(user.items()),
                                                      "tags": sorted(tags.items()), "protection": protection})
        if self.check_mode:
            first = path[0]
            self.plan_steps(stack, plan, prepared.after, "%s -> %s" % (current_version, first),
                            self.first_step_changes(stack, self.step_parameters(prepared, first, templates.first,
                                                                                stack.parameters), tags,
                                                    templates.first, plan), templates.first, templates.later)
        return prepared

    @staticmethod
    def step_parameters(prepared: RackPlan, version: str, template: Mapping[str, Any],
                        current_parameters: Mapping[str, str]) -> list[dict[str, Any]]:
        """The parameters of the step to ``version``: the task's that its template declares, its image, Version."""
        decl = declared_parameters(template)
        return build_parameters(template, current_parameters, {k: v for k, v in prepared.user.items() if k in decl},
                                dict(prepared.images.get(version, {}), Version=version))

    def apply_versions(self, prepared: RackPlan, templates: PathTemplates) -> dict[str, Any]:
        steps: list[Step] = []
        current = prepared.stack
        for version in templates.path:
            t0 = time.time()
            from_version = current.parameters.get("Version")
            try:
                template = templates.template(version)
                current, step = self.update_and_wait(current, self.step_parameters(prepared, version, template,
                                                                                   current.parameters),
                                                     prepared.tags, template, "updating from %s to %s"
                                                     % (from_version, version), from_version, version)
            except Exception as exc:
                error = self.step_failed(exc, steps, Step(from_version, version, getattr(exc, "details", {}).get(
                    "status", "FAILED"), round(time.time() - t0, 1)), len(templates.path))
                if error is exc:
                    raise
                raise error from exc
            steps.append(step)
            if step.status != NO_CHANGES and not self.wait_enabled:
                break
        if prepared.protection != current.termination_protection:
            self.stacks.set_termination_protection(current.stack_id, prepared.protection)
            current.termination_protection = prepared.protection
        resources = self.resources_of(current.stack_id)
        return self.result(True, current, prepared.plan, steps=steps, resources=resources, before=prepared.before,
                           after=prepared.after, note=prepared.note)

    def step_failed(self, exc: Exception, steps: list[Step], failed: Step, total: int) -> Exception:
        """The error of a step that failed: the rack may be on a release in the middle of the path, so it says which,
        and which steps were done (an AWS error of the first step goes up as it is)."""
        if not isinstance(exc, ConvoxError):
            if not steps:
                return exc
            doing = "updating from %s to %s" % (failed.from_version, failed.to_version)
            exc = ConvoxError(describe_aws_error(exc, doing))
        exc.details.update(steps=self.scrub([s.to_dict() for s in steps + [failed]]),
                           changed=bool(steps) or exc.details.get("changed", False))
        if steps:
            exc.msg = "%s (rack %s is on %s after %d of %d steps)" % (
                exc.msg.rstrip("."), self.name, failed.from_version, len(steps), total) + "."
        return exc

    # -- absent ---------------------------------------------------------------------------------
    @operation("uninstalling the rack")
    def absent(self) -> dict[str, Any]:
        stack = self.stacks.describe(self.stack_name)
        self.check_owned(stack)                    # before anything else: not ours, not touched
        stack = self.wait_settled(stack, gone_ok=True)
        if stack is None:
            plan = Plan("none", path=[])
            self.approve(plan, None, {}, {}, apps=[])
            return self.result(False, None, plan)
        version = stack.parameters.get("Version")
        before = self.state_view(version, stack.parameters, stack.tags, stack.termination_protection)
        # what depends on the rack is found by its tags, whatever the names look like: every stack tagged
        # System=convox and Rack=<rack> - apps of either kind (the collection's, Convox's own), Convox's service and
        # resource stacks - and nothing of another rack; nested stacks go with their parent
        apps = [AppManager({"rack": self.name, "name": app.tags.get("Name") or app.name, "state": "absent",
                            "wait_timeout": self.wait_timeout}, self.check_mode, client_factory=self.factory,
                           warn=self.warn, sleep=self.sleep, watcher=self.watcher, found=app)
                for app in self.stacks.live() if rack_dependent(app.tags, self.name) and not app.raw.get("ParentId")]
        plan = Plan("uninstall", version, None, [], apps=[a.name for a in apps])
        note = self.adoption_note(stack)
        if note:
            plan.note = note
        # an approved uninstall binds the stack and the apps it deletes with it, as found now
        self.approve(plan, stack, {}, {}, apps=[[app.name, app.found_stack.stack_id, app.found_stack.status]
                                                for app in apps if app.found_stack is not None])
        if apps and not self.params["force"]:
            raise ConvoxError("rack %s still has apps (%s); delete them first or set force: true to delete them with "
                              "the rack." % (self.name, ", ".join(a.name for a in apps)))
        if self.check_mode:
            return self.result(True, stack, plan, before=before, after={})
        for app in apps:
            try:
                app.delete_found()
            finally:
                if app.mutated:
                    self.changes.append("deleting app %s" % app.name)
        self.delete_stack_and_buckets(stack, "uninstalling")
        final = dict(self.describe_rack(stack), status=cfn.GONE)
        res = self.result(True, None, plan, before=before, after={})
        res["rack"] = final
        if self.retained:
            res["retained"] = list(self.retained)
        return res
