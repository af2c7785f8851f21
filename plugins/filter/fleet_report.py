# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of playbooks/report.yml: one row per rack (fleet_report_rows), written as CSV
(fleet_report_csv) and as one self-contained HTML page (fleet_report_html).  Every value that came
from AWS, a channel or an inventory is text to escape, never markup or a spreadsheet formula."""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any, Callable, Iterable, Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.convox.rack.plugins.module_utils.fleet._report import STATES, report_matrix, report_row, report_totals
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

COLUMNS = (("rack", "Rack"), ("org", "Org"), ("region", "Region"), ("account", "Account"), ("status", "Status"),
           ("current", "Release"),
           ("target", "Target"), ("behind", "Behind"), ("required_pending", "Required pending"), ("drift", "Drift"),
           ("apps", "Apps"), ("last_update", "Last update"))
# the page shows a rack's account under its region (one column fewer on a 1366-px screen)
HTML_COLUMNS = tuple(column for column in COLUMNS if column[0] != "account")


def _hostvar(hostvars: Mapping[str, Any], host: str, name: str) -> Any:
    try:
        value = hostvars[host].get(name)
    except Exception as exc:  # an undefined or failing template in the host's variables
        raise AnsibleFilterError("host %s: %s cannot be read (%s)" % (host, name, exc)) from exc
    return value


def fleet_report_rows(hosts: Iterable[Any], hostvars: Mapping[str, Any],
                      update_results: Any = None) -> list[dict[str, Any]]:
    """One row per host, sorted by org, region and rack (see module_utils/fleet/_report.py)."""
    update_results = update_results if isinstance(update_results, dict) else {}
    previous = {}
    for row in update_results.get("results") or []:
        if isinstance(row, dict) and row.get("rack"):
            previous[(str(row.get("rack")), str(row.get("region") or ""))] = row
    mode = update_results.get("mode")
    rows = []
    for host in sorted(str(h) for h in hosts):
        def get(name: str, host: str = host) -> Any:
            return _hostvar(hostvars, host, name)
        rack = str(get("rack_name") or host)
        region = str(get("rack_region") or "")
        result = get("convox_result")
        last: dict[str, Any] | None
        if isinstance(result, dict) and result:
            last = dict(result, mode="check" if get("ansible_check_mode") else "run")
        else:
            last = previous.get((rack, region))
            if last is not None:
                last = dict(last, mode=mode or "run")
        try:
            rows.append(report_row(host=host, rack=rack, org=str(get("rack_org") or ""), region=region,
                                   info=get("convox_report_info"), release=get("convox_report_release"),
                                   last_update=last, account=str(get("rack_account_id") or "")))
        except ConvoxError as exc:
            raise AnsibleFilterError("host %s: %s" % (host, exc.msg)) from exc
    return sorted(rows, key=lambda r: (r["org"], r["region"], r["rack"]))


def _formula_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ (or tab / CR) would make it a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def cell_text(row: Mapping[str, Any], key: str) -> str:
    """The plain-text value of a report column (CSV and the HTML cell)."""
    if key == "required_pending":
        return " ".join(row["required_pending"])
    if key == "drift":
        drift = row["drift"]
        if drift["status"] == "DRIFTED":
            return "DRIFTED: " + ", ".join("%s (%s) %s" % (d["logical_id"], d["type"], d["status"])
                                           for d in drift["drifted"])
        return str(drift["status"])
    if key == "apps":
        return " ".join("%s:%s:%s" % (a["name"], a["status"], a["version"]) for a in row["apps"])
    if key == "last_update":
        last = row["last_update"]
        if not last:
            return ""
        text = ("would: " if last.get("mode") == "check" else "") + str(last.get("result") or "")
        if last.get("to") and last.get("to") != "-":
            text += " %s -> %s" % (last.get("from") or "-", last.get("to"))
        if last.get("msg"):
            text += ": " + str(last["msg"])
        return text
    if key == "status" and row.get("error"):
        return "%s: %s" % (row["status"], row["error"])
    value = row.get(key)
    return "" if value is None else str(value)


def fleet_report_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as CSV, one line per rack, the header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([key for key, dummy in COLUMNS])
    for row in rows:
        writer.writerow([_formula_safe(cell_text(row, key)) for key, dummy in COLUMNS])
    return out.getvalue()


STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}p.meta{color:#5b6475;margin:0 0 16px}
.bar{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:0 0 12px}
.bar label{font-size:12px;color:#5b6475}.bar select,.bar input{font:inherit;padding:3px 6px}
.totals{display:flex;gap:10px;margin:0 0 12px}.totals span{padding:3px 10px;border-radius:12px;background:#eef0f4}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 6px;border-bottom:1px solid #e3e6ec;
vertical-align:top}th{cursor:pointer;user-select:none;background:#f6f7f9;position:sticky;top:0}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr.state-behind td{background:#fff6dd}tr.state-failed td{background:#fde8e8}tr.state-drifted td.c-drift{background:#efe3fb}
td.c-region,td.c-org,td.c-account{white-space:nowrap}td.c-drift ul{margin:4px 0 0;padding-left:16px}
tr.state-failed td.c-status,tr.state-failed td.c-last_update{color:#a31515;font-weight:600}
tr.state-behind td.c-behind{color:#8a5a00;font-weight:600}tr.state-drifted td.c-drift{color:#6a2aa8;font-weight:600}
tr.state-ok td.c-status{color:#17703a}td.c-apps span{display:inline-block;margin:0 6px 2px 0;padding:0 6px;
border-radius:8px;background:#eef0f4;font-size:12px}.empty{color:#5b6475;padding:12px 0}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
td.c-status,td.c-last_update,td.c-drift,td.c-apps{overflow-wrap:anywhere}td.c-last_update{min-width:8em}
td.c-apps{min-width:14em}td.c-status{min-width:8em}td.c-drift{min-width:6em}
td.c-rack,td.c-current,td.c-target{white-space:nowrap}small.account{color:#5b6475}
#matrix{width:auto;max-width:100%;margin:0 0 16px}#matrix th{cursor:default;position:static;white-space:nowrap}
#matrix td span{display:inline-block;white-space:nowrap;margin:0 8px 2px 0}#matrix td b{font-weight:600}
#racks{font-size:13px}
#matrix caption{text-align:left;font-weight:600;padding:0 0 4px}
"""

SCRIPT = """
(function(){
  var table=document.getElementById('racks'),body=table.tBodies[0],rows=[].slice.call(body.rows);
  var org=document.getElementById('f-org'),region=document.getElementById('f-region'),
      account=document.getElementById('f-account'),
      state=document.getElementById('f-state'),text=document.getElementById('f-text'),
      shown=document.getElementById('shown');
  function apply(){
    var n=0,q=text.value.toLowerCase();
    rows.forEach(function(r){
      var ok=(!org.value||r.dataset.org===org.value)&&(!region.value||r.dataset.region===region.value)&&
             (!account.value||r.dataset.account===account.value)&&
             (!state.value||(' '+r.dataset.state+' ').indexOf(' '+state.value+' ')>=0)&&
             (!q||r.textContent.toLowerCase().indexOf(q)>=0);
      r.hidden=!ok;if(ok)n++;
    });
    shown.textContent=n;
  }
  [org,region,account,state].forEach(function(el){el.addEventListener('change',apply);});
  text.addEventListener('input',apply);
  [].slice.call(table.tHead.rows[0].cells).forEach(function(th,i){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('sorted-asc'),num=th.dataset.type==='number';
      [].slice.call(th.parentNode.cells).forEach(function(c){c.classList.remove('sorted-asc','sorted-desc');});
      th.classList.add(asc?'sorted-asc':'sorted-desc');
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.sort||a.cells[i].textContent,y=b.cells[i].dataset.sort||b.cells[i].textContent;
        var d=num?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y);
        return asc?d:-d;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  apply();
})();
"""


def _options(values: Iterable[Any], label: str) -> str:
    items = ['<option value="">all %s</option>' % html.escape(label)]
    items += ['<option value="%s">%s</option>' % (html.escape(v, quote=True), html.escape(v)) for v in values]
    return "".join(items)


def _cell(row: Mapping[str, Any], key: str) -> str:
    esc = html.escape
    css = "c-%s" % key
    if key == "apps":
        inner = " ".join('<span title="%s">%s <small>%s %s</small></span>' % (
            esc(a["status"], quote=True), esc(a["name"]), esc(a["status"]), esc(a["version"])) for a in row["apps"])
        return '<td class="%s" data-sort="%d">%s</td>' % (css, len(row["apps"]), inner)
    if key == "region" and row.get("account"):
        cell = '<td class="%s">%s<br><small class="account">%s</small></td>'
        return cell % (css, esc(row["region"]), esc(row["account"]))
    if key == "behind":
        behind = row["behind"]
        return '<td class="%s" data-sort="%s">%s</td>' % (css, -1 if behind is None else behind,
                                                          "" if behind is None else behind)
    if key == "drift":
        drift = row["drift"]
        if drift["status"] == "DRIFTED":
            items = "".join("<li>%s (%s) %s%s</li>" % (
                esc(d["logical_id"]), esc(d["type"]), esc(d["status"]),
                "".join(" %s: %s &rarr; %s" % (esc(p["path"]), esc(p["expected"]), esc(p["actual"]))
                        for p in d["differences"])) for d in drift["drifted"])
            return '<td class="%s">DRIFTED (%d)<ul>%s</ul></td>' % (css, len(drift["drifted"]), items)
    return '<td class="%s">%s</td>' % (css, esc(cell_text(row, key)))


def _matrix_html(rows: list[dict[str, Any]]) -> str:
    """Counts by org x region x release, above the table: where the fleet stands at a glance."""
    esc = html.escape
    matrix = report_matrix(rows)
    regions = sorted({region for cells in matrix.values() for region in cells})
    if not regions:
        return ""
    head = "<tr><th>Org</th>%s</tr>" % "".join("<th>%s</th>" % esc(r) for r in regions)
    body = []
    for org in sorted(matrix):
        cells = []
        for region in regions:
            releases = matrix[org].get(region) or {}
            cells.append("<td>%s</td>" % "".join(
                '<span><b>%d</b> &times; %s</span>' % (n, esc(release))
                for release, n in sorted(releases.items(), key=lambda item: item[0], reverse=True)))
        body.append('<tr data-org="%s"><th>%s</th>%s</tr>' % (esc(org, quote=True), esc(org), "".join(cells)))
    return ('<table id="matrix"><caption>Racks by org, region and release</caption><thead>%s</thead><tbody>%s'
            '</tbody></table>' % (head, "".join(body)))


def fleet_update_results(text: Any, path: str = "") -> dict[str, Any]:
    """The results update.yml wrote (fleet-update.json), parsed; a file that cannot be read as those results is
    skipped, with a warning naming it ({})."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        where = path or "the results"
        Display().warning("%s is not a fleet-update.json (%s); the report shows no last update." % (where, exc))
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
        Display().warning("%s is not a fleet-update.json (no list of results); the report shows no last update."
                          % (path or "the results"))
        return {}
    return data


def fleet_report_html(rows: list[dict[str, Any]], title: str = "Convox fleet report", generated: str = "",
                      scope: str = "") -> str:
    """The rows as one self-contained HTML page: no external script, style, font or image; filters by org,
    region and state and a search box; columns sort on click; failed, behind and drifted racks coloured.
    ``scope`` says what part of the fleet the page shows (a slice, with -l)."""
    esc = html.escape
    orgs = sorted({r["org"] for r in rows if r["org"]})
    regions = sorted({r["region"] for r in rows if r["region"]})
    accounts = sorted({r.get("account") or "" for r in rows} - {""})
    totals = report_totals(rows)
    head = "".join('<th data-key="%s"%s>%s</th>' % (key, ' data-type="number"' if key == "behind" else "", esc(label))
                   for key, label in HTML_COLUMNS)
    body = []
    for row in rows:
        attributes = (" ".join("state-%s" % s for s in row["states"]), esc(row["rack"], quote=True),
                      esc(row["org"], quote=True), esc(row["region"], quote=True),
                      esc(row.get("account") or "", quote=True), esc(" ".join(row["states"]), quote=True))
        body.append('<tr class="%s" data-rack="%s" data-org="%s" data-region="%s" data-account="%s" data-state="%s">'
                    '%s</tr>' % (attributes + ("".join(_cell(row, key) for key, dummy in HTML_COLUMNS),)))
    state_options = "".join('<option value="%s">%s</option>' % (s, s) for s in STATES)
    return "".join((
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        # nothing but this page's own style and script may load or run
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'\">",
        "<title>%s</title><style>%s</style></head><body>" % (esc(title), STYLE),
        "<h1>%s</h1><p class=\"meta\">%d rack%s%s%s</p>" % (
            esc(title), len(rows), "" if len(rows) == 1 else "s", (" &middot; <b class=\"scope\">%s</b>" % esc(scope)) if scope else "",
            (" &middot; generated " + esc(generated)) if generated else ""),
        "<div class=\"totals\">%s</div>" % "".join('<span class="t-%s">%d %s</span>' % (k, totals[k], k) for k in STATES),
        _matrix_html(rows),
        "<div class=\"bar\"><label>Org <select id=\"f-org\">%s</select></label>" % _options(orgs, "orgs"),
        "<label>Region <select id=\"f-region\">%s</select></label>" % _options(regions, "regions"),
        "<label>Account <select id=\"f-account\">%s</select></label>" % _options(accounts, "accounts"),
        "<label>State <select id=\"f-state\"><option value=\"\">all states</option>%s</select></label>" % state_options,
        "<label>Search <input id=\"f-text\" type=\"search\" placeholder=\"rack, app, release\"></label>",
        "<span>showing <b id=\"shown\">%d</b> of %d</span></div>" % (len(rows), len(rows)),
        "<table id=\"racks\"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, "".join(body)),
        "" if rows else "<p class=\"empty\">No racks.</p>",
        "<script>%s</script></body></html>\n" % SCRIPT,
    ))


def unreadable_place(entry: Mapping[str, Any]) -> str:
    """One place the inventory could not read, in words: ``account A region R (reason)``."""
    entry = entry if isinstance(entry, dict) else {"region": str(entry)}
    account = entry.get("account") or ""
    return "%s%s (%s)" % ("account %s " % account if account else "", "region %s" % entry.get("region"),
                          str(entry.get("reason") or "unreadable").rstrip("."))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"fleet_report_rows": fleet_report_rows, "fleet_report_csv": fleet_report_csv,
                "fleet_report_html": fleet_report_html, "fleet_report_totals": report_totals,
                "fleet_update_results": fleet_update_results, "unreadable_place": unreadable_place}
