# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift detection (rack's ``drift: true``, update.yml and releases.yml with convox_detect_drift) and the
fleet report (report.yml): drifted resources in the result, the diff, the warnings and the summary; the
report's table equal to AWS state; the page itself opened in a real headless browser."""

from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import shutil
import sys

import pytest
import yaml
from conftest import REPO
from safety import app_stack, rack_stack, run_tasks, snapshot, write_channel
from test_fleet import (  # pylint: disable=unused-import  # an autouse fixture: run() plays from the installed tarball
    PLAYBOOKS,
    RACKS,
    V1,
    V2,
    V3,
    by_name_from_the_installed_collection,  # noqa: F401
    converge_at_v1,
    run,
)

DRIFT = {"Settings": {"status": "MODIFIED", "differences": [
    {"path": "/VersioningConfiguration/Status", "expected": "Enabled", "actual": "Suspended", "type": "NOT_EQUAL"}]}}


def region_of(rack):
    return "eu-west-1" if rack.endswith("-eu") else "us-east-1"


class Report(html.parser.HTMLParser):
    """The report's table of racks: one dict per row (data-* attributes and each cell's text by column key); the
    matrix above it (org x region x release) as ``matrix`` text."""

    def __init__(self):
        super().__init__()
        self.keys, self.rows, self.external = [], [], []
        self._cell = None
        self._table = None
        self._in_account = False
        self.matrix = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("link", "img", "iframe") or (tag == "script" and attrs.get("src")):
            self.external.append((tag, attrs))
        if tag == "table":
            self._table = attrs.get("id")
        if tag == "th" and self._table == "racks":
            self.keys.append(attrs.get("data-key"))
        elif tag == "tr" and "data-rack" in attrs:
            self.rows.append({"attrs": attrs, "cells": {}})
        elif tag == "td" and self.rows:
            self._cell = self.keys[len([k for k in self.rows[-1]["cells"] if k != "account"])]
            self.rows[-1]["cells"][self._cell] = ""
        elif tag == "small" and attrs.get("class") == "account" and self._cell is not None:
            self._in_account = True             # the rack's account, shown under its region
            self.rows[-1]["cells"]["account"] = ""

    def handle_endtag(self, tag):
        if tag == "small":
            self._in_account = False
        if tag == "td":
            self._cell = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._table == "matrix":
            self.matrix += data + " "
        if self._cell is not None:
            self.rows[-1]["cells"]["account" if self._in_account else self._cell] += data


def parse_report(path):
    page = Report()
    with open(path) as f:
        page.feed(f.read())
    return page


def aws_state(aws):
    """Per rack: status, release and apps (name, status, release), read with boto3."""
    state = {}
    for region in ("us-east-1", "eu-west-1"):
        stacks = aws.client("cloudformation", region).describe_stacks()["Stacks"]
        for s in stacks:
            tags = {t["Key"]: t["Value"] for t in s.get("Tags", [])}
            params = {p["ParameterKey"]: p.get("ParameterValue") for p in s.get("Parameters", [])}
            if tags.get("Type") == "rack":
                state.setdefault(s["StackName"], {"apps": []})
                state[s["StackName"]].update(status=s["StackStatus"], version=params["Version"], region=region,
                                             org=tags.get("Org"))
        for s in stacks:
            tags = {t["Key"]: t["Value"] for t in s.get("Tags", [])}
            params = {p["ParameterKey"]: p.get("ParameterValue") for p in s.get("Parameters", [])}
            if tags.get("Type") == "app":
                state[tags["Rack"]]["apps"].append("%s:%s:%s" % (tags["Name"], s["StackStatus"], params["Version"]))
    return state


def test_fleet_drift_in_the_dry_run_the_summary_releases_and_the_report(aws, tmp_path):
    converge_at_v1(aws)
    aws.set_stack(stack_name="acme-prod", drift=DRIFT)
    before = snapshot(aws)
    report_dir = str(tmp_path / "report")
    rec = aws.recording.mark()
    out = run(aws, "update.yml", check=True, diff=True,
              extra_vars={"convox_detect_drift": "true", "convox_report_dir": report_dir})
    assert rec.mutating() == [], rec.mutating()                 # drift detection changes nothing
    assert snapshot(aws) == before
    assert "drift of rack acme-prod: DRIFTED" in out
    assert "Settings (AWS::S3::Bucket) MODIFIED: /VersioningConfiguration/Status: Enabled -> Suspended" in out
    assert "drift of rack globex-prod: IN_SYNC" in out
    assert ("DRIFT: 1 rack with resources changed outside CloudFormation (resources drifted): acme-prod (1)"
            in out), out[-3000:]
    assert "rack acme-prod: 1 resource drifted from the template" in out.replace("\n", " ")
    detections = [c for c in rec.calls() if c[1] == "DetectStackDrift"]
    assert len(detections) == len(RACKS)
    with open(os.path.join(report_dir, "fleet-update.json")) as f:
        update = json.load(f)
    assert update["mode"] == "check" and sorted(r["rack"] for r in update["results"]) == RACKS
    assert {r["rack"]: r["drifted"] for r in update["results"]}["acme-prod"] == 1

    out = run(aws, "releases.yml", extra_vars={"convox_detect_drift": "true"})
    line = next(x for x in out.splitlines() if x.strip().strip('",').startswith("acme-prod "))
    assert "DRIFTED" in line and "drifted: Settings" in line, line
    assert "IN_SYNC" in next(x for x in out.splitlines() if x.strip().strip('",').startswith("globex-eu "))

    # the report: every rack, its state as AWS has it, the drift, this fleet's last (dry) update
    rec = aws.recording.mark()
    out = run(aws, "report.yml", extra_vars={"convox_detect_drift": "true", "convox_report_dir": report_dir})
    assert rec.mutating() == []
    assert "Fleet report: %s/fleet-report.html" % report_dir in out
    page = parse_report(os.path.join(report_dir, "fleet-report.html"))
    assert page.external == []
    assert page.keys == ["rack", "org", "region", "status", "current", "target", "behind", "required_pending",
                         "drift", "apps", "last_update"]
    state = aws_state(aws)
    assert sorted(r["attrs"]["data-rack"] for r in page.rows) == RACKS
    # above the table, where the fleet stands: every rack counted under its org, region and release (here all on V1)
    assert "Racks by org, region and release" in page.matrix and "× %s" % V1 in page.matrix, page.matrix
    counts = re.findall(r"(\d+)\s+× %s" % V1, page.matrix)
    assert sum(int(n) for n in counts) == len(RACKS), page.matrix
    for row in page.rows:
        rack, cells = row["attrs"]["data-rack"], row["cells"]
        want = state[rack]
        assert (cells["status"], cells["current"], cells["region"], cells["org"], cells["account"]) == (
            want["status"], want["version"], want["region"], want["org"], "123456789012"), rack
        assert (cells["target"], cells["behind"], cells["required_pending"]) == (V3, "2", V2), rack
        words = cells["apps"].split()                       # each app: name, status, release
        assert sorted(":".join(words[i:i + 3]) for i in range(0, len(words), 3)) == sorted(want["apps"]), rack
        assert cells["last_update"].startswith("would: planned %s -> %s" % (V1, V3)), cells["last_update"]
        drifted = rack == "acme-prod"
        assert cells["drift"].startswith("DRIFTED (1)") == drifted, (rack, cells["drift"])
        assert ("drifted" in row["attrs"]["data-state"].split()) == drifted
        assert "behind" in row["attrs"]["data-state"].split()
    with open(os.path.join(report_dir, "fleet-report.csv")) as f:
        table = list(csv.DictReader(f))
    assert sorted(r["rack"] for r in table) == RACKS
    assert {r["rack"]: r["apps"] for r in table} == {
        rack: " ".join(sorted(state[rack]["apps"])) for rack in RACKS}
    with open(os.path.join(report_dir, "fleet-report.json")) as f:
        racks = json.load(f)["racks"]
    assert {r["rack"]: r["drift"]["status"] for r in racks}["acme-prod"] == "DRIFTED"


def test_rack_drift_in_check_mode_and_its_refusals(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    rack_stack(aws, "solo", version="1")
    aws.set_stack(stack_name="solo", drift={"Data": {"status": "DELETED"}})
    before = snapshot(aws)
    rec = aws.recording.mark()
    drifted, missing, needs_rack = run_tasks(aws, tmp_path, [
        dict({"convox.rack.rack": {"name": "solo", "channel": channel, "version": "2", "drift": True}}, check_mode=True),
        dict({"convox.rack.rack": {"name": "absent-rack", "channel": channel, "version": "2", "drift": True}}, check_mode=True),
        {"convox.rack.rack_release_info": {"channel": channel, "current": "1", "drift": True}},
    ], diff=True)
    assert rec.mutating(include_plan=True) == [
        ("cloudformation", "CreateChangeSet", "us-east-1"), ("cloudformation", "DeleteChangeSet", "us-east-1")]
    assert snapshot(aws) == before
    assert drifted["drift"]["status"] == "DRIFTED" and drifted["changed"]
    assert [(d["logical_id"], d["type"], d["status"]) for d in drifted["drift"]["drifted"]] == [
        ("Data", "AWS::S3::Bucket", "DELETED")]
    assert drifted["diff"][-1]["prepared"] == "drift of rack solo: DRIFTED\n  Data (AWS::S3::Bucket) DELETED\n"
    assert any("rack solo: 1 resource drifted" in w for w in drifted.get("warnings", []))
    assert missing["drift"] == {"status": "NOT_CHECKED", "reason": "rack absent-rack is not installed", "drifted": []}
    assert needs_rack["failed"] and needs_rack["msg"] == "drift needs rack: drift is detected on a rack's stack."


# -- the page in a real browser --------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


DRIFT_WEST = {"Logs": {"status": "MODIFIED", "differences": [
    {"path": "/RetentionInDays", "expected": "7", "actual": "365", "type": "NOT_EQUAL"}]}}


def small_fleet(aws, tmp_path):
    """Three racks in two orgs and two regions (made with boto3), an inventory naming them, a channel."""
    channel = write_channel(str(tmp_path / "channel"), ["1", "2", "3"])
    rack_stack(aws, "north", version="3", org="acme")
    app_stack(aws, "north", "web", version="3")
    rack_stack(aws, "south", version="1", org="acme")
    aws.set_stack(stack_name="south", status="UPDATE_ROLLBACK_COMPLETE")        # its last update failed
    rack_stack(aws, "west", version="2", org="globex", region="eu-west-1")
    aws.set_stack(stack_name="west", region="eu-west-1", drift=DRIFT_WEST)
    hosts = {"north": {"rack_org": "acme", "rack_region": "us-east-1"},
             "south": {"rack_org": "acme", "rack_region": "us-east-1"},
             "west": {"rack_org": "globex", "rack_region": "eu-west-1"}}
    inventory = {"all": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "rack_channel": channel, "rack_version": "latest"}}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (Debian package chromium); "
                                             "make test installs it where it can")
def test_the_report_in_a_headless_browser(aws, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright (requirements-dev.txt) not installed")
    inventory = small_fleet(aws, tmp_path)
    report_dir = tmp_path / "report"
    aws.playbook(os.path.join(PLAYBOOKS, "report.yml"), inventory=inventory, cwd=str(tmp_path),
                 extra_vars={"convox_report_dir": str(report_dir), "convox_detect_drift": True})
    page_path = report_dir / "fleet-report.html"
    shot = os.environ.get("CONVOX_REPORT_SCREENSHOT") or str(tmp_path / "fleet-report.png")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 400})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())

            def visible():
                return page.locator("#racks tbody tr:visible")
            assert visible().count() == 3 and page.inner_text("#shown") == "3"
            page.screenshot(path=shot, full_page=True)
            page.select_option("#f-org", "acme")                 # the org filter, through the page
            assert sorted(visible().nth(i).get_attribute("data-rack") for i in range(visible().count())) == [
                "north", "south"]
            assert page.inner_text("#shown") == "2"
            page.select_option("#f-state", "failed")
            assert [visible().nth(i).get_attribute("data-rack") for i in range(visible().count())] == ["south"]
            page.select_option("#f-org", "")
            page.select_option("#f-state", "drifted")
            assert [visible().nth(i).get_attribute("data-rack") for i in range(visible().count())] == ["west"]
            page.select_option("#f-org", "")
            page.select_option("#f-state", "")
            page.fill("#f-text", "eu-west")                      # the search box
            assert [visible().nth(i).get_attribute("data-rack") for i in range(visible().count())] == ["west"]
            page.fill("#f-text", "")
            page.click("th[data-key=behind]")                  # sort by releases behind, twice: descending
            page.click("th[data-key=behind]")
            order = [visible().nth(i).get_attribute("data-rack") for i in range(visible().count())]
            assert order == ["south", "west", "north"], order
            style = "e => getComputedStyle(e).color"
            assert page.eval_on_selector("tr[data-rack=west] td.c-behind", style) == "rgb(138, 90, 0)"  # amber
            assert page.eval_on_selector("tr[data-rack=south] td.c-status", style) == "rgb(163, 21, 21)"  # red
            assert page.eval_on_selector("tr[data-rack=west] td.c-drift", style) == "rgb(106, 42, 168)"  # purple
        finally:
            browser.close()
    assert requests == [page_path.as_uri()]                 # the page loaded nothing else
    assert os.path.getsize(shot) > 10000


# -- the page at fleet size -------------------------------------------------------------------------------------
FLEET_ORGS = ("acme", "globex", "initech", "umbrella")
FLEET_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
FLEET_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
FLEET_RELEASES = ("20260101000000", "20260201000000", "20260301000000", "20260401000000")


def fleet_hostvars(n):
    """``n`` racks in 9 account-regions as report.yml's hosts hold them after reading them (rack_info and
    rack_release_info results), with the variety a real fleet has: behind, failed, drifted, apps, long messages."""
    hostvars = {}
    for i in range(n):
        org, region = FLEET_ORGS[i % 4], FLEET_REGIONS[(i // 4) % 3]
        account = FLEET_ACCOUNTS[(i // 12) % 3]
        current = FLEET_RELEASES[i % 4 if i % 7 else 3]
        behind = FLEET_RELEASES[FLEET_RELEASES.index(current) + 1:]
        status = "UPDATE_ROLLBACK_COMPLETE" if i % 97 == 0 else "UPDATE_COMPLETE"
        drift = {"status": "DRIFTED", "drifted": [{"logical_id": "Logs", "type": "AWS::Logs::LogGroup",
                                                   "status": "MODIFIED", "differences": [
                                                       {"path": "/RetentionInDays", "expected": "7", "actual": "365"}]}]
                 } if i % 53 == 0 else {"status": "IN_SYNC", "drifted": []}
        name = "%s-%s-%04d" % (org, region.split("-")[1], i)
        hostvars[name] = {
            "rack_name": name, "rack_org": org, "rack_region": region, "rack_account_id": account,
            "convox_report_info": {"racks": [{"name": name, "org": org, "region": region, "account_id": account,
                                              "status": status, "version": current,
                                              "apps": [{"name": "web%d" % a, "status": "UPDATE_COMPLETE",
                                                        "version": current} for a in range(i % 3)]}]},
            "convox_report_release": {"current": current, "target": FLEET_RELEASES[-1], "path": list(behind),
                                      "required": list(behind[:1]), "drift": drift},
            "convox_result": {"rack": name, "region": region, "result": "failed", "from": current,
                              "to": FLEET_RELEASES[-1],
                              "msg": "stack %s failed: Instances (AWS::AutoScaling::AutoScalingGroup) UPDATE_FAILED: "
                                     "Received 0 SUCCESS signal(s) out of 2. Unable to satisfy 100%%MinSuccessfulInstan"
                                     "cesPercent requirement" % name} if status != "UPDATE_COMPLETE" else {}}
    return hostvars


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (Debian package chromium); "
                                             "make test installs it where it can")
def test_the_report_at_fleet_size_fits_the_screen_and_shows_where_the_fleet_stands(tmp_path):
    """1,000 racks in a browser: every rack shown, no horizontal scrolling, the matrix above the table, a filter. How
    fast it opens is a figure of the bench (``python bench/report_load.py``), not a timed assertion here."""
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright (requirements-dev.txt) not installed")
    sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))
    from ansible_collections.convox.rack.plugins.filter.fleet_report import fleet_report_html, fleet_report_rows
    hostvars = fleet_hostvars(1000)
    rows = fleet_report_rows(sorted(hostvars), hostvars)
    page_path = tmp_path / "fleet-report.html"
    page_path.write_text(fleet_report_html(rows, generated="2026-12-01 00:00:00 UTC"))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(page_path.as_uri(), wait_until="load")
            assert page.inner_text("#shown") == "1000"
            # no horizontal scrolling on a 1366-px-wide screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            # above the table: racks by org x region x release
            assert page.evaluate("document.getElementById('matrix').getBoundingClientRect().bottom <= "
                                 "document.getElementById('racks').getBoundingClientRect().top")
            cell = page.inner_text("#matrix tr[data-org=acme] td:nth-of-type(1)")
            counts = {}
            for item in rows:
                if item["org"] == "acme" and item["region"] == "ap-southeast-2":
                    counts[item["current"]] = counts.get(item["current"], 0) + 1
            for release, n in counts.items():
                assert "%d × %s" % (n, release) in cell, (cell, counts)
            total = page.evaluate("[...document.querySelectorAll('#matrix td b')].reduce((s, b) => s + +b.textContent, 0)")
            assert total == 1000
            page.select_option("#f-account", FLEET_ACCOUNTS[1])   # one account's racks, through the page
            assert page.inner_text("#shown") == str(len([r for r in rows if r["account"] == FLEET_ACCOUNTS[1]]))
            page.screenshot(path=str(tmp_path / "fleet-1000.png"))
        finally:
            browser.close()
