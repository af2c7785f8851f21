# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet engine, controller-side, behind four entry points (``plugins/action/rack_batch*.py``, each with its own
argument spec in ``module_utils/model/_specs.py``): ``rack_batch_preflight`` checks the fleet and resolves the run's
releases before any change; ``rack_batch`` converges a batch of racks at once (``module_utils/fleet/_fleet.py``);
``rack_batch_bake`` is the gate after a batch; ``rack_batch_result`` hands each host's rack result back as that host's
task result."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from typing import Any, Mapping, cast

from ansible.module_utils.common.parameters import remove_values
from ansible.utils.display import Display
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import ACCOUNT_OPTIONS, role_account
from ansible_collections.convox.rack.plugins.module_utils.aws._channel import open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._common import describe_aws_error, is_aws_error, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils.aws._quotas import QuotaReader
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template, template_digest
from ansible_collections.convox.rack.plugins.module_utils.fleet._fleet import (
    Batch,
    Target,
    approved_plans,
    clashes,
    needs_default_account,
    pinned_version,
    plan_key,
    qualified,
    result_row,
    run_pins,
    run_releases,
    sliced_job,
)
from ansible_collections.convox.rack.plugins.module_utils.model._alarms import alarm_name, arn_place, read_alarms
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._plan import what_changed
from ansible_collections.convox.rack.plugins.module_utils.model._specs import HOST_VARIABLES, host_rack_args
from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction
from ansible_collections.convox.rack.plugins.plugin_utils._sessions import TemporaryEnviron, controller_client_factory

# host variable -> option of convox.rack.rack (the role's variables)
HOST_VARS = HOST_VARIABLES        # option -> host variable (module_utils/model/_specs.py)
MAX_POLL_INTERVAL = 30.0
MAX_PLAN_BYTES = 32 * 1024 * 1024     # a plan file of update.yml --check: about 2 KB a rack
ROLE_VARS = ("assume_role_arn", "assume_role_external_id", "assume_role_session_name")     # rack_<name>


def writable_report_dir(report_dir: str | None) -> None:
    """Refuse, before any change, a report directory that cannot take the run's results."""
    if report_dir and os.path.exists(report_dir) and not (os.path.isdir(report_dir) and os.access(report_dir, os.W_OK)):
        raise ConvoxError("convox_report_dir %s is not a writable directory, so the run's results (fleet-update.json) "
                          "could not be written there; no rack was changed." % report_dir)


def uninstall_elsewhere(host: str, rack_params: Mapping[str, Any]) -> str:
    """Why site.yml and update.yml leave a rack whose rack_state is absent alone: only uninstall.yml deletes racks."""
    return ("rack_state is absent, and site.yml and update.yml never uninstall a rack: to delete rack %s, run "
            "uninstall.yml -l %s -e confirm=%s (it lists what it would delete first); it was left as it is."
            % (rack_params["name"], host, host))


def plan_line(result: Mapping[str, Any]) -> str:
    """``rack: action from -> to via a -> b; parameters {...}`` (or the failure)."""
    row = result.get("convox_row") or {}
    if result.get("failed"):
        return "%s: failed: %s" % (row.get("rack"), result.get("msg"))
    if result.get("not_moved"):
        return "%s: skipped: %s" % (row.get("rack"), result.get("msg"))
    plan = result.get("plan") or {}
    line = "%s: %s %s -> %s" % (row.get("rack"), plan.get("action"), row.get("from"), row.get("to"))
    if row.get("path"):
        line += " via %s" % " -> ".join(row["path"])
    if plan.get("parameter_changes"):
        line += "; parameters %s" % json.dumps(plan["parameter_changes"], sort_keys=True)
    return line


class FleetEngine(ConvoxAction):
    """The fleet engine's action plugins, one per entry point (``NAME``, its spec in ``_specs``): each validates its
    own arguments, then runs its ``entry`` with the task's ``environment:`` applied."""

    _supports_async = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        with TemporaryEnviron(self._task_environment()):
            try:
                params, dummy = self.validate(self.NAME, self._task.args)
            except ConvoxError as exc:
                result.update(failed=True, msg=exc.msg)
                return result
            result.update(self.entry(params, task_vars or {}))
        return result

    def entry(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """What the entry point does with its validated ``params``: its task result."""
        raise NotImplementedError

    # -- one host's result ---------------------------------------------------------------------------
    def host_result(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The host's entry of the batch's results, as this task's result (its summary line as a fact)."""
        out = dict(given)
        if not self._task.diff:
            out.pop("diff", None)
        out.setdefault("changed", False)
        row = out.get("convox_row")
        if isinstance(row, dict):
            out["ansible_facts"] = {"convox_result": row}
        return out

    # -- the batch -----------------------------------------------------------------------------------
    def rack_params(self, host: str, hostvars: Mapping[str, Any], aws_params: Mapping[str, Any],
                    versions: Mapping[str, Any] | None = None) -> tuple[Any, set[str]]:
        """(The rack module's validated params for ``host``, from its variables, or the ConvoxError that
        says why they are invalid; the values to keep out of the result).  ``versions``: what latest, stable
        and edge mean for this run (the preflight's), so every batch goes to the release resolved at its start."""
        try:
            args = host_rack_args(hostvars[host])
        except Exception as exc:  # an undefined variable in the host's inventory
            return ConvoxError("host %s: its variables cannot be read (%s)." % (host, exc)), set()
        args.setdefault("name", host)
        for key, value in aws_params.items():
            if value is not None and key != "region":
                args[key] = value
        if "region" not in args and aws_params.get("region"):
            args["region"] = aws_params["region"]
        if "version" in args and isinstance(args["version"], str):
            args["version"] = pinned_version(args.get("channel"), args["version"], versions)
        try:
            return self.validate("rack", args)
        except ConvoxError as exc:
            return exc, set()

    def batch(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        hostvars = task_vars.get("hostvars") or {}
        aws_params = {k: params.get(k) for k in aws_argument_spec()}
        racks, no_log = [], {}
        for host in params["hosts"]:
            rack_params, no_log[host] = self.rack_params(host, hostvars, aws_params, params["versions"])
            if isinstance(rack_params, dict) and rack_params.get("state") == "absent":
                rack_params = ConvoxError(uninstall_elsewhere(host, rack_params), not_moved=True)
            racks.append((host, rack_params))
        factories = {}

        def factory_for(rack_params: Mapping[str, Any]) -> Any:
            """One client factory per account-region (a role's, with a role)."""
            region = rack_params.get("region") or aws_params.get("region")
            account = {k: rack_params.get(k) for k in ACCOUNT_OPTIONS if k != "account_id"}
            key = (region,) + tuple(sorted((k, str(v)) for k, v in account.items() if v))
            if key not in factories:
                factories[key] = controller_client_factory(dict(aws_params, region=region, **account))
                factories[key].channel_timeout = self.channel_timeout()
            return factories[key]

        check_mode = bool(self._play_context.check_mode)
        plans = params.get("plan") if not check_mode else None
        if plans is not None:      # an approved plan file: only racks it planned move, each exactly as planned
            racks = [self.under_plan(host, rack_params, plans, aws_params) for host, rack_params in racks]
        if params.get("halted"):               # the fleet halted before this batch: no rack is touched
            results = {}
            for host, rack_params in racks:
                results[host] = {"changed": False, "halted": True, "msg": "fleet halted: %s" % params["halted"]}
                results[host]["convox_row"] = result_row(host, rack_params, results[host], check_mode)
            return {"changed": False, "results": results, "plan_lines": [], "polls": {}}
        runner = Batch(racks, check_mode, factory_for, max_concurrent=params["max_concurrent"],
                       poll_interval=min(max(params["poll_interval"], 0.1), MAX_POLL_INTERVAL),
                       releases=params["releases"], progress=Display().display if params["label"] else None,
                       label=params["label"], pins=params["pins"])
        results = runner.run()
        for host, rack_params in racks:
            res = results[host]
            res = self.stale(res, rack_params, plans or {}, aws_params)
            secrets = set(cast("list[str]", res.pop("_secret_values", ()))) | set(no_log.get(host, ()))
            res = remove_values(res, secrets) if secrets else res
            res["convox_row"] = result_row(host, rack_params, res, check_mode)
            results[host] = res
        return {"changed": False, "results": results, "plan_lines": [plan_line(results[host]) for host, dummy in racks],
                "polls": {place: w.polls for place, w in runner.watchers.items()}}

    # -- the bake gate ----------------------------------------------------------------------------------
    def bake(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """After a batch: wait ``bake_minutes``, then read ``bake_alarms`` (metric and composite; a name in each
        account-region of the batch's racks, through their roles; an ARN in its own account and region): ``halt``
        names each in ALARM, and - the gate fails closed - each that cannot be found or read ("" to go on)."""
        import time
        hostvars = task_vars.get("hostvars") or {}
        aws_params = {k: params.get(k) for k in aws_argument_spec()}
        if params["bake_minutes"] > 0:
            Display().display("bake: %g minutes before the next batch (convox_bake_minutes)" % params["bake_minutes"])
            time.sleep(params["bake_minutes"] * 60)
        alarms = [str(a) for a in params["bake_alarms"]]
        if not alarms:
            return {"changed": False, "halt": ""}
        try:
            found = self.read_gate_alarms(self.alarm_reads(alarms, params["hosts"], hostvars, aws_params), aws_params)
        except ConvoxError as exc:
            return {"changed": False, "halt": "the bake alarms could not be read (%s)" % exc.msg.rstrip(".")}
        firing = ["%s (%s)" % (name, where) for where, name, state in found if state == "ALARM"]
        missing = ["%s (%s): no such alarm" % (name, where) for where, name, state in found if state is None]
        return {"changed": False, "halt": ", ".join(sorted(firing) + sorted(missing))}

    def alarm_reads(self, alarms: list[str], hosts: list[str], hostvars: Mapping[str, Any],
                    aws_params: Mapping[str, Any]) -> dict[tuple[str, str], tuple[dict[str, Any], list[str]]]:
        """{(account, region): (role, [alarm names and ARNs to read there])}: each name in every account-region of
        ``hosts``' racks, through their roles; each ARN in its own account and region, through the role of a rack of
        that account (the run's own credentials for their own account).  An ARN no targeted rack's credentials reach
        is a ConvoxError: a gate that cannot be read is not kept."""
        places: dict[tuple[str, str], dict[str, Any]] = {}
        for host in hosts:
            rack_params, dummy = self.rack_params(host, hostvars, aws_params)
            if isinstance(rack_params, ConvoxError):
                continue
            role = {k: rack_params.get(k) for k in ROLE_VARS if rack_params.get(k)}
            account = rack_params.get("account_id") or role_account(rack_params.get("assume_role_arn")) or ""
            places.setdefault((account, rack_params.get("region") or aws_params.get("region") or ""), role)
        by_account: dict[str, dict[str, Any]] = {}
        for place, role in sorted(places.items()):
            by_account.setdefault(place[0], role)
        reads: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
        names = [a for a in alarms if arn_place(a) is None]
        for key, role in places.items():
            if names:
                reads.setdefault(key, (role, []))[1].extend(names)
        own = None
        for arn in (a for a in alarms if arn_place(a) is not None):
            account, region = arn_place(arn) or ("", "")
            reach = by_account.get(account)
            if reach is None and "" in by_account:
                if own is None:
                    own = controller_client_factory(aws_params)("sts").get_caller_identity()["Account"]
                reach = by_account[""] if own == account else None
            if reach is None:
                raise ConvoxError("alarm %s is in account %s, which no targeted rack's credentials reach (no rack of "
                                  "that account, or its role), so it cannot be read there" % (arn, account))
            reads.setdefault((account, region), (reach, []))[1].append(arn)
        return reads

    @staticmethod
    @wrap_aws("reading the alarms")
    def read_gate_alarms(reads: Mapping[tuple[str, str], tuple[dict[str, Any], list[str]]],
                         aws_params: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
        """[(where, alarm, its state or None when it does not exist)] for ``reads`` (``alarm_reads``)."""
        out: list[tuple[str, str, str | None]] = []
        for (account, region), (role, wanted) in sorted(reads.items()):
            where = "%s/%s" % (account, region) if account else region
            factory = controller_client_factory(dict(aws_params, region=region or None, **role))
            found = read_alarms(factory("cloudwatch"), wanted)
            for alarm in sorted(set(wanted)):
                seen = found.get(alarm_name(alarm))
                if seen is not None and (not alarm.startswith("arn:") or seen["arn"] in ("", alarm)):
                    out.append((where, alarm_name(alarm), seen["state"]))
                else:
                    out.append((where, alarm_name(alarm), None))
        return out

    def check_gate_alarms(self, params: Mapping[str, Any], hostvars: Mapping[str, Any], aws_params: Mapping[str, Any],
                          targets: list[Target]) -> None:
        """Before any change: every convox_bake_alarms alarm exists where the gate reads it, and every rack's
        rollback_alarms in its own account and region (metric or composite); else the run is refused."""
        present = [t.host for t in targets if t.state == "present"]
        problems = []
        if params["bake_alarms"]:
            found = self.read_gate_alarms(self.alarm_reads([str(a) for a in params["bake_alarms"]], present,
                                                           hostvars, aws_params), aws_params)
            problems += ["convox_bake_alarms: no CloudWatch alarm %s in %s" % (name, where)
                         for where, name, state in found if state is None]
        for host in present:
            rack_params, dummy = self.rack_params(host, hostvars, aws_params)
            if isinstance(rack_params, ConvoxError) or not rack_params.get("rollback_alarms"):
                continue
            found = self.read_gate_alarms(self.alarm_reads([str(a) for a in rack_params["rollback_alarms"]], [host],
                                                           hostvars, aws_params), aws_params)
            problems += ["rack %s: rollback_alarms: no CloudWatch alarm %s in %s" % (rack_params["name"], name, where)
                         for where, name, state in found if state is None]
        if problems:
            raise ConvoxError("%s, so the gate would not be kept; no rack was changed." % "; ".join(problems))

    # -- approved plans ----------------------------------------------------------------------------------
    @staticmethod
    def plan_key_of(rack_params: Mapping[str, Any], aws_params: Mapping[str, Any]) -> str:
        return plan_key(rack_params["name"], rack_params.get("region") or "",
                        rack_params.get("account_id") or role_account(rack_params.get("assume_role_arn")))

    def under_plan(self, host: str, rack_params: Any, plans: Mapping[str, Any],
                   aws_params: Mapping[str, Any]) -> tuple[str, Any]:
        """(host, the rack's params with expect_fingerprint set from its approved plan), or the ConvoxError saying
        it is not in the plan (a skipped rack)."""
        if isinstance(rack_params, ConvoxError):
            return host, rack_params
        approved = plans.get(self.plan_key_of(rack_params, aws_params))
        if approved is None:
            return host, ConvoxError("not in the plan (convox_plan_file): it was not planned by the approved --check "
                                     "run, so it is not moved.", not_moved=True)
        return host, dict(rack_params, expect_fingerprint=approved["fingerprint"])

    def stale(self, res: dict[str, Any], rack_params: Any, plans: Mapping[str, Any],
              aws_params: Mapping[str, Any]) -> dict[str, Any]:
        """A rack refused for a stale plan, or not in the plan, is skipped - naming what changed - not failed."""
        if res.get("not_moved"):
            return {"changed": False, "not_moved": True, "msg": res.get("msg", "not in the plan")}
        if not res.get("stale") or isinstance(rack_params, ConvoxError):
            return res
        approved = plans.get(self.plan_key_of(rack_params, aws_params)) or {}
        changed = what_changed(approved.get("fingerprint_of") or {}, res.get("fingerprint_of") or {})
        return {"changed": False, "not_moved": True, "stale": True,
                "msg": "plan is stale: %s changed since it was approved (fingerprint %s, approved %s); the rack was not "
                       "moved." % (", ".join(changed), res.get("fingerprint"), approved.get("fingerprint"))}

    # -- before the run changes anything ---------------------------------------------------------------------
    def preflight(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """Run once before a fleet run changes anything: refuse two hosts that resolve to one rack (name, region
        after defaults, account), refuse a report directory that cannot take the run's results, and resolve
        latest / stable / edge once for the whole run (the facts ``convox_run_versions`` and ``convox_run_releases``,
        which every batch passes back as O(versions) and O(releases))."""
        sliced = sliced_job(task_vars)
        if sliced:
            return {"failed": True, "msg": sliced}
        hostvars = task_vars.get("hostvars") or {}
        aws_params = {k: params.get(k) for k in aws_argument_spec()}
        try:
            plans = self.approved(params)
            writable_report_dir(params.get("report_dir"))
            targets, versions, releases, pins = self.resolve_run(params, hostvars, aws_params)
            self.check_gate_alarms(params, hostvars, aws_params, targets)
        except ConvoxError as exc:
            return {"failed": True, "msg": exc.msg}
        lines = ["release of this run: %s = %s in %s" % (alias, version, channel)
                 for channel, aliases in sorted(versions.items()) for alias, version in sorted(aliases.items())]
        lines += ["template of release %s in %s pinned for the run: sha256 %s" % (version, channel, digest[:16])
                  for channel, by_version in sorted(pins.items()) for version, digest in sorted(by_version.items())]
        if not lines and any(t.state == "present" for t in targets):
            lines = ["release of this run: each rack's own rack_version (no latest, stable or edge)"]
        if params["report_room"]:
            lines += self.room_lines(targets, hostvars, aws_params)
        return {"changed": False, "racks": sorted({t.rack for t in targets}), "versions": versions, "lines": lines,
                "qualified": sorted(qualified(vars(t)) for t in targets),
                "targets": [dict(vars(t)) for t in targets],
                "ansible_facts": {"convox_run_versions": versions, "convox_run_releases": releases,
                                  "convox_run_pins": pins, "convox_run_plan": plans}}

    def approved(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The approved plans of ``plan_file`` (an apply of update.yml's --check run), or None."""
        if not params.get("plan_file") or self._play_context.check_mode:
            return None
        path = params["plan_file"]
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                raise ConvoxError("the plan file %s is not a regular file; no rack was changed." % path)
            if info.st_size > MAX_PLAN_BYTES:
                raise ConvoxError("the plan file %s is %d bytes, more than a plan file holds (%d); no rack was changed."
                                  % (path, info.st_size, MAX_PLAN_BYTES))
            with open(path) as f:
                return approved_plans(json.loads(f.read(MAX_PLAN_BYTES + 1)), path)
        except (OSError, ValueError, RecursionError) as exc:
            raise ConvoxError("the plan file %s cannot be read (%s); no rack was changed."
                              % (params["plan_file"], exc)) from exc

    def resolve_run(self, params: Mapping[str, Any], hostvars: Mapping[str, Any],
                    aws_params: Mapping[str, Any]) -> tuple[list[Target], Any, Any, Any]:
        """(targets, versions, releases, pins): every targeted rack where it lives, refused when two hosts are one
        rack; the release each alias of each channel names for the whole run; and the digest of the rack template
        of every release the run goes to.  Each channel is read with the credentials of a rack that uses it (its
        role), never with the run's base credentials in its stead."""
        try:
            default = controller_client_factory(aws_params)
            targets = [self.target(host, hostvars, default.region, params.get("state")) for host in params["hosts"]]
            default_account = None
            if needs_default_account(targets) or (params.get("state") == "absent"
                                                  and any(t.account is None for t in targets)):
                default_account = default("sts").get_caller_identity()["Account"]
            refused = clashes(targets, default_account)
            if refused:
                raise ConvoxError("; ".join(refused) + "; no rack was changed.")
            read, digest = self.channel_readers(hostvars, aws_params)
            # a host whose variables the rack module refuses fails alone, in its batch, with the module's message
            valid = [t for t in targets if not isinstance(self.rack_params(t.host, hostvars, aws_params)[0], ConvoxError)]
            versions, releases = run_releases(valid, read)
            pins = run_pins(valid, versions, releases, digest) if params.get("state") != "absent" else {}
        except ConvoxError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            if not is_aws_error(exc):
                raise
            raise ConvoxError(describe_aws_error(exc, "the fleet's preflight") + " No rack was changed.") from exc
        if default_account:
            targets = [dataclasses.replace(t, account=t.account or default_account) for t in targets]
        return targets, versions, releases, pins

    def channel_readers(self, hostvars: Mapping[str, Any], aws_params: Mapping[str, Any]) -> tuple[Any, Any]:
        """(read(channel, target) -> Releases, digest(channel, version, target) -> the sha256 of its rack template):
        a channel read with the credentials of the rack that uses it (its role), a ConvoxError naming the channel."""
        factories = {}

        def channel_of(channel: str, target: Target) -> Any:
            role = self.role_of(target.host, hostvars)
            key = (target.region, tuple(sorted(role.items())))
            if key not in factories:
                factories[key] = controller_client_factory(dict(aws_params, region=target.region, **role))
                factories[key].channel_timeout = self.channel_timeout()
            return open_channel(channel, factories[key])

        def read(channel: str, target: Target) -> Any:
            try:
                return channel_of(channel, target).read_releases()
            except ConvoxError as exc:
                raise ConvoxError("channel %s could not be read before the run: %s No rack was changed."
                                  % (channel, exc.msg)) from exc

        def digest(channel: str, version: str, target: Target) -> str:
            try:
                text, url = channel_of(channel, target).read_template(version, "rack")
                return template_digest(parse_template(text, "%s/%s/rack.json" % (channel, version), url))
            except ConvoxError as exc:
                raise ConvoxError("the template of release %s could not be read before the run: %s No rack was "
                                  "changed." % (version, exc.msg)) from exc
        return read, digest

    @staticmethod
    def role_of(host: str, hostvars: Mapping[str, Any]) -> dict[str, str]:
        """The role options (assume_role_arn, ...) of ``host``'s rack: what its reads go through."""
        return {k: str(v) for k, v in ((k, hostvars[host].get("rack_" + k)) for k in ROLE_VARS) if v}

    @staticmethod
    def room_lines(targets: list[Target], hostvars: Mapping[str, Any], aws_params: Mapping[str, Any]) -> list[str]:
        """The quotas' room of each account-region the run installs in (a role's account through its role)."""
        lines = []
        try:
            places: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, str]] = {}
            for t in targets:
                if t.state == "present":
                    role = {k: str(v) for k, v in ((k, hostvars[t.host].get("rack_" + k)) for k in ROLE_VARS) if v}
                    places.setdefault((t.region or aws_params.get("region") or "", t.account or "",
                                       tuple(sorted(role.items()))), role)
            for (region, account, dummy), role in sorted(places.items()):
                line = QuotaReader(controller_client_factory(dict(aws_params, region=region or None, **role))).summary()
                lines.append(line.replace("region ", "account %s, region " % account, 1) if account else line)
        except Exception as exc:  # pylint: disable=broad-except
            if not is_aws_error(exc):
                raise
            lines.append(describe_aws_error(exc, "reading the regions' quotas"))
        return lines

    @staticmethod
    def target(host: str, hostvars: Mapping[str, Any], default_region: str | None,
               state: str | None = None) -> Target:
        """The rack ``host`` resolves to (its region after defaults; ``state``, when given, over its rack_state)."""
        try:
            variables = hostvars[host]

            def var(name: str) -> str | None:
                value = variables.get(name)
                return str(value).strip() if value not in (None, "") else None
            return Target(host=host, rack=var("rack_name") or host, region=var("rack_region") or default_region,
                          account=var("rack_account_id") or role_account(var("rack_assume_role_arn")),
                          state=state or var("rack_state") or "present", channel=var("rack_channel"),
                          version=var("rack_version"))
        except ConvoxError:
            raise
        except Exception as exc:  # an undefined variable in the host's inventory
            raise ConvoxError("host %s: its variables cannot be read (%s)." % (host, exc)) from exc
