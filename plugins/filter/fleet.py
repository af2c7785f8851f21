# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet filters (halt_reason, fleet_table, fleet_failed, fleet_results, fleet_row, fleet_batch_label); each is documented in
the .yml file of its name beside this one.  Which rack a host resolves to is the preflight's (rack_batch_preflight)."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.helpers import pct_to_int

from ansible_collections.convox.rack.plugins.module_utils.fleet._fleet import confirm_problem, result_row


def _var(hostvars: Mapping[str, Any], host: str, name: str) -> str:
    try:
        value = hostvars[host].get(name)
    except Exception as exc:  # an undefined or failing template in the host's variables
        raise AnsibleFilterError("host %s: %s cannot be read (%s)" % (host, name, exc)) from exc
    return "" if value is None else str(value).strip()


def _result(hostvars: Mapping[str, Any], host: str) -> dict[str, Any] | None:
    try:
        row = hostvars[host].get("convox_result")
    except Exception:  # pylint: disable=broad-except  # a host without readable variables has no result
        return None
    return row if isinstance(row, dict) else None


def halt_reason(hosts: Iterable[Any], hostvars: Mapping[str, Any], canary_hosts: Iterable[Any] | None = None,
                max_fail_percentage: Any = 0) -> str:
    """Why a rolling update stops before its next batch ("" to go on): a bake alarm in ALARM after a batch (a row's
    ``bake_alarm``), a failed canary, or more than ``max_fail_percentage`` percent of ``hosts`` (every rack of the
    run) failed.  One pass."""
    hosts = [str(h) for h in hosts]
    canary = {str(h) for h in (canary_hosts or [])}
    failed = 0
    canary_failed = False
    gate = fleet_gate(hosts, hostvars)      # a bake alarm or a republished release halts the fleet, whatever else
    if gate:
        return gate
    for host in hosts:
        row = _result(hostvars, host)
        if row is not None and row.get("result") == "failed":
            failed += 1
            canary_failed = canary_failed or host in canary
    if canary_failed:
        return "the canary failed"
    if failed * 100 > int(max_fail_percentage or 0) * max(len(hosts), 1):
        return "%d rack%s failed" % (failed, "" if failed == 1 else "s")
    return ""


def fleet_table(hosts: Iterable[Any], hostvars: Mapping[str, Any], check_mode: bool = False) -> list[str]:
    """The fleet summary: one line per rack with a result, then the totals."""
    rows = [row for row in (_result(hostvars, str(h)) for h in sorted(hosts)) if row is not None]
    fmt = "%-16s %-8s %-12s %-12s %-52s %-5s %s"
    lines = [fmt % ("RACK", "ORG", "ACCOUNT", "REGION", "FROM -> TO (PATH)", "STEPS", "RESULT")]
    for row in rows:
        path = " -> ".join([row.get("from") or "-"] + (list(row.get("path") or []) or [row.get("to") or "-"]))
        outcome = row.get("result", "")
        if row.get("msg"):
            outcome += ": " + row["msg"]
        lines.append(fmt % (row.get("rack"), row.get("org") or "", row.get("account") or "-", row.get("region") or "",
                            path, row.get("steps", 0), outcome))
    count = {k: len([r for r in rows if r.get("result") in k]) for k in (
        ("failed",), ("updated", "planned"), ("ok",), ("skipped",), ("uninstalled",))}
    total = "%d failed, %d %s, %d up to date, %d skipped" % (
        count[("failed",)], count[("updated", "planned")], "to update" if check_mode else "updated", count[("ok",)],
        count[("skipped",)])
    if count[("uninstalled",)]:
        total += ", %d uninstalled" % count[("uninstalled",)]
    lines.append(total)
    risky = [str(row.get("rack")) for row in rows if row.get("stateful")]
    if risky:
        lines.append("WARNING: %d rack%s would remove or replace a stateful resource (bucket, table, key, log group "
                     "or a retained resource): %s" % (len(risky), "" if len(risky) == 1 else "s", ", ".join(risky)))
    sensitive = [str(row.get("rack")) for row in rows if row.get("security")]
    if sensitive:
        lines.append("WARNING: %d rack%s with security-sensitive changes (IAM, open ingress, weaker retention, exposed "
                     "secrets, NoEcho dropped): %s" % (len(sensitive), "" if len(sensitive) == 1 else "s",
                                                       ", ".join(sensitive)))
    downtime = ["%s (%s)" % (row.get("rack"), ", ".join(row["single_task_apps"])) for row in rows
                if row.get("single_task_apps")]
    if downtime:
        one = len(downtime) == 1
        lines.append("WARNING: %d rack%s replace%s instances under apps that run a single task, down meanwhile (run at "
                     "least two copies of anything critical): %s"
                     % (len(downtime), "" if one else "s", "s" if one else "", ", ".join(downtime)))
    drifted = ["%s (%d)" % (row.get("rack"), row["drifted"]) for row in rows if row.get("drifted")]
    if drifted:
        lines.append("DRIFT: %d rack%s with resources changed outside CloudFormation (resources drifted): %s"
                     % (len(drifted), "" if len(drifted) == 1 else "s", ", ".join(drifted)))
    return lines


def fleet_row(host: Any, hostvars: Mapping[str, Any], result: Any, check_mode: bool = False) -> dict[str, Any]:
    """The fleet summary line of ``host`` for a task result: the one rack_batch made (``convox_row``), else
    one made the same way from the host's rack variables (a batch that failed as a whole)."""
    result = result if isinstance(result, dict) else {"failed": True, "msg": str(result)}
    row = result.get("convox_row")
    if isinstance(row, dict):
        return row
    host = str(host)
    params = {"name": _var(hostvars, host, "rack_name") or host, "org": _var(hostvars, host, "rack_org"),
              "region": _var(hostvars, host, "rack_region"), "account_id": _var(hostvars, host, "rack_account_id"),
              "assume_role_arn": _var(hostvars, host, "rack_assume_role_arn")}
    return result_row(host, params, result, bool(check_mode))


def fleet_results(hosts: Iterable[Any], hostvars: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every recorded result row of ``hosts`` (what update.yml writes to fleet-update.json)."""
    return [row for row in (_result(hostvars, str(h)) for h in sorted(hosts)) if row is not None]


def fleet_failed(hosts: Iterable[Any], hostvars: Mapping[str, Any]) -> list[Any]:
    """The racks whose recorded result is ``failed``."""
    return [row.get("rack") for row in (_result(hostvars, str(h)) for h in sorted(hosts))
            if row is not None and row.get("result") == "failed"]


def fleet_batch_label(batch: Iterable[Any], hosts: Iterable[Any], serial: Any = "25%") -> str:
    """``batch N/M``: which of a serial play's batches ``batch`` is, among the batches Ansible cuts ``hosts`` (the
    play's hosts, in order) into for ``serial`` (a number or a percentage, as the play's ``serial``)."""
    hosts = [str(h) for h in hosts]
    batch = [str(h) for h in batch]
    if not hosts or not batch:
        return "batch"
    size = max(pct_to_int(serial if isinstance(serial, str) else int(serial), len(hosts)), 1)
    starts = list(range(0, len(hosts), size))
    first = hosts.index(batch[0]) if batch[0] in hosts else 0
    return "batch %d/%d" % (first // size + 1, len(starts))


def uninstall_confirm(confirm: Any, targets: list[Any] | None) -> str:
    """Why ``confirm`` does not name exactly the racks of ``targets`` (the preflight's) ("" when it does)."""
    return confirm_problem(confirm, targets or [])


def fleet_gate(hosts: Iterable[Any], hostvars: Mapping[str, Any]) -> str:
    """Why a fleet run stopped at a gate that no rack's failure explains ("" when none did): a bake alarm in ALARM
    after a batch (the last one included), or a release republished during the run."""
    for host in sorted(str(h) for h in hosts):
        row = _result(hostvars, host)
        if row is not None and row.get("bake_alarm"):
            return "bake alarm %s was in ALARM after %s" % (row["bake_alarm"], row.get("bake_after") or "a batch")
        if row is not None and row.get("republished"):
            return row.get("msg") or "a release was republished during the run"
    return ""


def fleet_moved(hosts: Iterable[Any], hostvars: Mapping[str, Any]) -> list[Any]:
    """The racks whose recorded result says they changed (updated or uninstalled)."""
    return [row.get("rack") for row in (_result(hostvars, str(h)) for h in sorted(hosts))
            if row is not None and row.get("result") in ("updated", "uninstalled")]


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"halt_reason": halt_reason, "fleet_table": fleet_table, "fleet_failed": fleet_failed,
                "fleet_results": fleet_results, "fleet_row": fleet_row, "fleet_batch_label": fleet_batch_label,
                "uninstall_confirm": uninstall_confirm, "fleet_gate": fleet_gate, "fleet_moved": fleet_moved}
