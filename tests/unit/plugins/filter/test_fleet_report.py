# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows, CSV and HTML: states from what the modules returned, hostile values
escaped (HTML) and never a formula (CSV), and the HTML self-contained."""

from __future__ import annotations

import csv
import html.parser
import io

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.convox.rack.plugins.filter.fleet_report import COLUMNS, fleet_report_csv, fleet_report_html, fleet_report_rows
from ansible_collections.convox.rack.plugins.module_utils.fleet._report import report_row, report_totals
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._statuses import (
    ALL_STATUSES,
    GONE,
    IN_PROGRESS,
    LAST_OPERATION_FAILED,
    REVIEW,
    STABLE,
    STUCK,
)


def info(name, status="UPDATE_COMPLETE", version="2", apps=(), org="acme", region="us-east-1"):
    return {"changed": False, "racks": [{"name": name, "status": status, "version": version, "org": org,
                                         "region": region, "apps": list(apps)}]}


def release(current, target="4", path=("3", "4"), required=("3",), drift=None):
    out = {"changed": False, "current": current, "target": target, "path": list(path), "required": list(required)}
    if drift is not None:
        out["drift"] = drift
    return out


DRIFTED = {"status": "DRIFTED", "drifted": [{"logical_id": "Data", "type": "AWS::S3::Bucket", "status": "MODIFIED",
                                             "differences": [{"path": "/Properties/Versioning", "expected": "Enabled",
                                                              "actual": "Suspended"}]}]}


def test_a_rack_behind_with_required_releases_pending():
    row = report_row("h", "prod", "acme", "us-east-1", info("prod", apps=[{"name": "web", "status": "UPDATE_COMPLETE",
                                                                          "version": "2"}]), release("2"))
    assert row["status"] == "UPDATE_COMPLETE" and row["current"] == "2" and row["target"] == "4"
    assert row["behind"] == 2 and row["required_pending"] == ["3"] and row["states"] == ["behind"]
    assert row["apps"] == [{"name": "web", "status": "UPDATE_COMPLETE", "version": "2"}]
    assert row["drift"] == {"status": "NOT_CHECKED", "drifted": []}


def test_up_to_date_is_ok_and_drift_is_its_own_state():
    ok = report_row("h", "prod", "acme", "r", info("prod", version="4"), release("4", path=(), required=()))
    assert ok["states"] == ["ok"] and ok["behind"] == 0
    drifted = report_row("h", "prod", "acme", "r", info("prod", version="4"),
                         release("4", path=(), required=(), drift=DRIFTED))
    assert drifted["states"] == ["drifted"]
    assert drifted["drift"]["drifted"][0]["differences"] == [
        {"path": "/Properties/Versioning", "expected": "Enabled", "actual": "Suspended"}]


@pytest.mark.parametrize("status", sorted(ALL_STATUSES - IN_PROGRESS))
def test_the_report_and_the_modules_read_a_status_alike(status):
    """A settled status is "failed" in the report exactly when the rack's last operation failed, whether or not the
    modules may still act on it (UPDATE_ROLLBACK_COMPLETE is both: usable, and its last update failed)."""
    row = report_row("h", "prod", "acme", "r", info("prod", status=status), release("2"))
    failed = status in LAST_OPERATION_FAILED
    assert ("failed" in row["states"]) is failed, (status, row["states"])
    assert failed or status in STABLE or status in (GONE, REVIEW)
    assert status not in STUCK or failed


def test_a_rack_whose_last_update_rolled_back_is_failed_in_the_report_and_usable_by_the_modules():
    row = report_row("h", "prod", "acme", "r", info("prod", status="UPDATE_ROLLBACK_COMPLETE"), release("2"))
    assert row["states"] == ["failed", "behind"]
    assert "UPDATE_ROLLBACK_COMPLETE" in STABLE          # an app can be changed on it, the next update can start


def test_a_failed_update_of_this_run_and_an_unreadable_rack_are_failed():
    row = report_row("h", "prod", "acme", "r", info("prod", version="4"), release("4", path=(), required=()),
                     last_update={"result": "failed", "msg": "boom"})
    assert row["states"] == ["failed"]
    unreadable = report_row("h", "prod", "acme", "r", {"failed": True, "msg": "AccessDenied reading stacks"},
                            {"failed": True, "msg": "channel unreadable"})
    assert unreadable["states"] == ["failed"] and unreadable["status"] == "UNKNOWN"
    assert unreadable["error"] == "AccessDenied reading stacks; channel unreadable"


def test_a_rack_not_installed_is_behind_not_failed():
    row = report_row("h", "new", "acme", "r", {"racks": []},
                     {"failed": True, "msg": 'rack "new" does not exist in region r.', "target": None})
    assert row["status"] == "NOT_INSTALLED" and row["states"] == ["behind"] and row["error"] is None


def test_a_row_needs_a_rack():
    with pytest.raises(ConvoxError):
        report_row("h", "", "acme", "r")


def test_rows_take_this_runs_result_else_the_update_file_and_sort_by_org_region_rack():
    hostvars = {
        "b": {"rack_name": "beta", "rack_org": "zeta", "rack_region": "r1", "convox_report_info": info("beta"),
              "convox_report_release": release("2"),
              "convox_result": {"rack": "beta", "result": "updated", "from": "1", "to": "2"}},
        "a": {"rack_org": "acme", "rack_region": "r2", "convox_report_info": info("a", version="4"),
              "convox_report_release": release("4", path=(), required=())},
    }
    update = {"mode": "check", "results": [{"rack": "a", "region": "r2", "result": "planned", "from": "3", "to": "4"},
                                           {"rack": "elsewhere", "region": "r9", "result": "failed"}]}
    rows = fleet_report_rows(["b", "a"], hostvars, update)
    assert [r["rack"] for r in rows] == ["a", "beta"]
    assert rows[0]["last_update"]["result"] == "planned" and rows[0]["last_update"]["mode"] == "check"
    assert rows[1]["last_update"]["result"] == "updated" and rows[1]["last_update"]["mode"] == "run"
    assert fleet_report_rows(["a"], hostvars, None)[0]["last_update"] is None


def test_unreadable_host_variables_name_the_host():
    class Broken(dict):
        def get(self, key, default=None):
            raise ValueError("'x' is undefined")
    with pytest.raises(AnsibleFilterError, match="host h: rack_name cannot be read"):
        fleet_report_rows(["h"], {"h": Broken()})


HOSTILE = '<script>alert(1)</script>"onmouseover="x'


def hostile_rows():
    evil_info = info("prod", apps=[{"name": HOSTILE, "status": "=HYPERLINK(\"http://x\")", "version": "@SUM(1)"}],
                     org="+cmd|' /C calc'!A0")
    row = report_row("h", "prod", "+cmd|' /C calc'!A0", "us-east-1", evil_info,
                     release("2", drift={"status": "DRIFTED", "drifted": [
                         {"logical_id": HOSTILE, "type": "AWS::S3::Bucket", "status": "MODIFIED",
                          "differences": [{"path": "/x", "expected": "<b>", "actual": "</td>"}]}]}),
                     last_update={"result": "failed", "msg": "-2+3"})
    return [row]


def test_csv_has_a_header_and_never_a_formula():
    text = fleet_report_csv(hostile_rows())
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [key for key, dummy in COLUMNS]
    for cell in table[1]:
        assert cell[:1] not in ("=", "+", "-", "@"), cell
    assert table[1][1].startswith("'+cmd")


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.scripts = []
        self.links = []
        self.cells = []
        self._in_td = False
        self._script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "script":
            self._script = True
            if attrs.get("src"):
                self.links.append(attrs["src"])
        if tag in ("link", "img", "iframe", "object", "embed"):
            self.links.append(attrs.get("href") or attrs.get("src") or tag)
        if tag == "td":
            self._in_td = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_td = False
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts.append(data)
        elif self._in_td:
            self.cells[-1] += data


def test_html_escapes_every_value_and_loads_nothing():
    page = Page()
    text = fleet_report_html(hostile_rows(), generated="now")
    page.feed(text)
    assert page.tags.count("script") == 1          # only the page's own script; the hostile one is text
    assert page.links == []
    assert "url(" not in text and "@import" not in text and "http" not in "".join(page.scripts)
    assert any(HOSTILE in cell for cell in page.cells)      # shown, as text
    assert "onmouseover=\"x" not in text.replace("&quot;", "")  # never an attribute


def test_html_has_a_row_per_rack_with_its_states_and_the_filters():
    rows = [report_row("h1", "a", "acme", "us-east-1", info("a", version="4"), release("4", path=(), required=())),
            report_row("h2", "b", "globex", "eu-west-1", info("b", org="globex", region="eu-west-1"), release("2"))]
    assert report_totals(rows) == {"ok": 1, "behind": 1, "failed": 0, "drifted": 0}
    text = fleet_report_html(rows)
    assert '<span class="t-ok">1 ok</span><span class="t-behind">1 behind</span>' in text
    assert text.count("<tr class=") == 2
    assert 'data-rack="a" data-org="acme" data-region="us-east-1" data-account="" data-state="ok"' in text
    assert 'data-rack="b" data-org="globex" data-region="eu-west-1" data-account="" data-state="behind"' in text
    for control in ('id="f-org"', 'id="f-region"', 'id="f-state"', 'id="f-text"'):
        assert control in text
    assert '<option value="globex">globex</option>' in text
