# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One row of the fleet report (playbooks/report.yml) from what the modules returned for a rack: its
rack_info entry (status, release, apps), its rack_release_info answer (target, path, required releases,
drift) and the last update result of the same run.  Pure: no AWS, no Ansible."""

from __future__ import annotations

from typing import Any

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._statuses import LAST_OPERATION_FAILED

NOT_INSTALLED = "NOT_INSTALLED"
STATES = ("ok", "behind", "failed", "drifted")


def _failed_msg(result: Any) -> str | None:
    if isinstance(result, dict) and result.get("failed"):
        return str(result.get("msg") or "failed")
    return None


def drift_view(drift: Any) -> dict[str, Any]:
    """The report's drift: status (DRIFTED, IN_SYNC, NOT_CHECKED or the detection's own) and the drifted
    resources, each logical id, type, status and property differences."""
    if not isinstance(drift, dict) or not drift.get("status"):
        return {"status": "NOT_CHECKED", "drifted": []}
    drifted = []
    for item in drift.get("drifted") or []:
        drifted.append({"logical_id": str(item.get("logical_id") or ""), "type": str(item.get("type") or ""),
                        "status": str(item.get("status") or ""),
                        "differences": [{"path": str(d.get("path") or ""), "expected": str(d.get("expected", "")),
                                         "actual": str(d.get("actual", ""))} for d in item.get("differences") or []]})
    return {"status": str(drift["status"]), "drifted": drifted}


def report_row(host: str, rack: str, org: str | None, region: str | None, info: Any = None, release: Any = None,
               last_update: Any = None, account: str | None = None) -> dict[str, Any]:
    """The report's row for one rack.  ``info`` is the host's rack_info result, ``release`` its
    rack_release_info result (either may be a failed result, or None when not read)."""
    if not rack:
        raise ConvoxError("a report row needs a rack name.")
    row: dict[str, Any] = {
        "host": host, "rack": rack, "org": org or "", "region": region or "", "account": account or "",
        "status": "UNKNOWN", "current": None,
        "target": None, "behind": None, "path": [], "required_pending": [], "drift": drift_view(None), "apps": [],
        "last_update": last_update, "error": None, "states": []}
    errors: list[str] = []
    info_error = _failed_msg(info)
    if info_error:
        errors.append(info_error)
    elif isinstance(info, dict) and "racks" in info:
        mine = [r for r in info.get("racks") or [] if r.get("name") == rack]
        if mine:
            entry = mine[0]
            row.update(status=str(entry.get("status") or "UNKNOWN"), current=entry.get("version"),
                       org=str(entry.get("org") or org or ""), region=str(entry.get("region") or region or ""),
                       account=str(entry.get("account_id") or account or ""))
            row["apps"] = sorted(({"name": str(a.get("name") or ""), "status": str(a.get("status") or ""),
                                   "version": str(a.get("version") or "")} for a in entry.get("apps") or []),
                                 key=lambda a: a["name"])
        else:
            row["status"] = NOT_INSTALLED
    release_error = _failed_msg(release)
    if release_error and row["status"] != NOT_INSTALLED:
        errors.append(release_error)
    elif isinstance(release, dict) and not release_error:
        path = list(release.get("path") or [])
        row.update(current=release.get("current") or row["current"], target=release.get("target"), path=path,
                   behind=len(path), required_pending=[str(v) for v in release.get("required") or []])
        row["drift"] = drift_view(release.get("drift"))
    if row["status"] == NOT_INSTALLED and isinstance(release, dict):
        row["target"] = release.get("target") or row["target"]
    if errors:
        row["error"] = "; ".join(errors)
    states: list[str] = []
    last_failed = isinstance(last_update, dict) and last_update.get("result") == "failed"
    if errors or row["status"] in LAST_OPERATION_FAILED or last_failed:
        states.append("failed")
    if (row["behind"] or 0) > 0 or row["status"] == NOT_INSTALLED:
        states.append("behind")
    if row["drift"]["status"] == "DRIFTED":
        states.append("drifted")
    row["states"] = states or ["ok"]
    return row


def report_matrix(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Where the fleet stands at a glance: {org: {region: {release: racks}}} (a rack not installed counts under
    "not installed", one whose release cannot be read under "unknown")."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        release = str(row.get("current") or ("not installed" if row.get("status") == NOT_INSTALLED else "unknown"))
        cell = out.setdefault(row.get("org") or "-", {}).setdefault(row.get("region") or "-", {})
        cell[release] = cell.get(release, 0) + 1
    return out


def report_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many rows are in each state (a row may be behind and drifted at once)."""
    return {state: len([r for r in rows if state in r["states"]]) for state in STATES}
