# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet engine's entry points (in-process moto): rack_batch - a batch's racks from their host variables, each
host's result, summary line and plan line; a host whose variables are invalid fails alone; a halted fleet touches no
rack; secrets stay out; rack_batch_result - a host's own result handed back with its fact; rack_batch_preflight."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from ansible_collections.convox.rack.plugins.action.rack_batch import ActionModule as BatchAction
from ansible_collections.convox.rack.plugins.action.rack_batch_preflight import ActionModule as PreflightAction
from ansible_collections.convox.rack.plugins.action.rack_batch_result import ActionModule as ResultAction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
from actionfixtures import action, run  # noqa: E402
from rackfixtures import make_channel  # noqa: E402


@pytest.fixture
def fleet(aws, tmp_path):
    channel = make_channel(str(tmp_path / "channel"))
    return {
        "acme-prod": {"rack_name": "prod", "rack_org": "acme", "rack_channel": channel, "rack_version": "1",
                      "rack_parameters": {"Secret": "hunter2"}},
        "acme-dev": {"rack_org": "acme", "rack_channel": channel, "rack_version": "", "rack_tags": {"Team": "a"}},
        "broken": {"rack_name": "bad name", "rack_channel": channel},
    }


def batch(hostvars, check_mode=False, entry=BatchAction, **args):
    args.setdefault("hosts", sorted(hostvars))
    return run(action(entry, dict(args, region="us-east-1"), check_mode=check_mode),
               task_vars={"hostvars": hostvars})


def stacks(aws_region="us-east-1"):
    import boto3
    return sorted(s["StackName"] for s in boto3.client("cloudformation", region_name=aws_region).describe_stacks()["Stacks"])


def test_a_batch_installs_each_rack_from_its_variables(fleet):
    plan = batch(fleet, check_mode=True)
    assert stacks() == []                                       # check mode: nothing created
    assert plan["plan_lines"] == [      # in the order of the hosts option
        'acme-dev: install - -> 3 via 3; parameters {"Version": {"after": "3", "before": null}}',
        'prod: install - -> 1 via 1; parameters {"Secret": {"after": "****", "before": null}, '
        '"Version": {"after": "1", "before": null}}',
        'bad name: failed: rack name "bad name" is invalid: it must start with a letter and contain only letters, '
        'digits and hyphens (at most 64 characters).']
    assert plan["results"]["acme-prod"]["convox_row"]["result"] == "planned"
    out = batch(fleet)
    results = out["results"]
    assert out["changed"] is False and stacks() == ["acme-dev", "prod"]
    assert results["acme-prod"]["rack"]["version"] == "1" and results["acme-dev"]["rack"]["version"] == "3"
    assert results["acme-dev"]["rack"]["tags"]["Team"] == "a"
    row = dict(results["acme-prod"]["convox_row"])
    from ansible_collections.convox.rack.plugins.module_utils.model._plan import BASIS
    assert len(row.pop("fingerprint")) == 32 and sorted(row.pop("fingerprint_of")) == sorted(BASIS)
    assert row == {
        "host": "acme-prod", "rack": "prod", "org": "acme", "account": "", "region": "us-east-1", "from": "-", "to": "1",
        "path": ["1"],
        "steps": 1, "result": "updated", "msg": "", "stateful": 0, "security": 0, "drifted": 0, "single_task_apps": [],
        "halted": False, "republished": False, "failed_step": ""}
    assert "hunter2" not in json.dumps(out)                     # a NoEcho value never in a result
    assert results["broken"]["failed"] is True and results["broken"]["convox_row"]["result"] == "failed"
    assert results["broken"]["msg"].startswith('rack name "bad name" is invalid')
    assert out["plan_lines"][2] == "bad name: failed: %s" % results["broken"]["msg"]
    assert set(out["polls"]) <= {"default", "us-east-1"}
    again = batch(fleet, hosts=["acme-prod", "acme-dev"])
    assert [again["results"][h]["changed"] for h in ("acme-prod", "acme-dev")] == [False, False]


def test_a_halted_fleet_touches_no_rack(fleet):
    out = batch(fleet, halted="the canary failed")
    assert stacks() == []
    assert {h: r["convox_row"]["result"] for h, r in out["results"].items()} == {
        "acme-prod": "skipped", "acme-dev": "skipped", "broken": "skipped"}      # nothing was tried
    assert out["results"]["acme-prod"]["convox_row"]["msg"] == "fleet halted: the canary failed"


def test_unreadable_host_variables_fail_that_host_only(fleet):
    class Unreadable(dict):
        def get(self, key, default=None):
            raise ValueError("'nope' is undefined")
    fleet["acme-dev"] = Unreadable()
    out = batch(fleet, hosts=["acme-prod", "acme-dev"])
    assert out["results"]["acme-dev"]["msg"] == "host acme-dev: its variables cannot be read ('nope' is undefined)."
    assert out["results"]["acme-prod"]["changed"] is True and stacks() == ["prod"]


def test_bad_options_of_the_batch_fail_before_any_call(fleet):
    out = batch(fleet, poll_interval="often")
    # ansible-core 2.17 says "of type <class 'str'>"
    assert out["failed"] is True and re.fullmatch(r"argument 'poll_interval' is of type (str|<class 'str'>) and we were "
                                                  r"unable to convert to float: <class 'str'> cannot be converted to a "
                                                  r"float", out["msg"]), out["msg"]
    # each entry point takes its own options only: a preflight's option is not the batch's
    out = run(action(BatchAction, {"hosts": ["a"], "preflight": True}), task_vars={"hostvars": fleet})
    assert out["failed"] is True
    assert out["msg"].startswith("Unsupported parameters for (convox.rack.rack_batch) module: preflight."), out["msg"]
    out = run(action(ResultAction, {"hosts": ["a"]}), task_vars={"hostvars": fleet})
    assert out["failed"] is True and "missing required arguments: result" in out["msg"], out["msg"]
    assert stacks() == []


def test_a_host_result_is_its_task_result_with_its_summary_line():
    row = {"rack": "prod", "result": "updated"}
    given = {"changed": True, "diff": {"before": {}, "after": {}}, "convox_row": row}
    out = run(action(ResultAction, {"result": given}))
    assert out["changed"] is True and out["ansible_facts"] == {"convox_result": row} and "diff" not in out
    assert "diff" in run(action(ResultAction, {"result": given}, diff=True))


def preflight(hostvars, **args):
    return batch(hostvars, entry=PreflightAction, **args)


def test_the_preflight_refuses_two_hosts_that_resolve_to_one_rack(fleet):
    # no region on one host, the default region on the other: the same rack
    hostvars = {"a": {"rack_name": "x"}, "b": {"rack_name": "x", "rack_region": "us-east-1"},
                "c": {"rack_name": "x", "rack_region": "eu-west-1"}}
    out = preflight(hostvars)
    assert out["failed"] is True
    assert out["msg"] == "hosts a, b all resolve to rack x in us-east-1; one rack must be one host; no rack was changed."
    # the same name in two accounts is two racks; a host naming no account is in the account of the credentials
    hostvars = {"a": {"rack_name": "x", "rack_account_id": "111111111111"}, "b": {"rack_name": "x"},
                "c": {"rack_name": "x", "rack_assume_role_arn": "arn:aws:iam::222222222222:role/convox"}}
    out = preflight(hostvars)
    assert "failed" not in out, out
    assert [(t["host"], t["account"], t["region"]) for t in out["targets"]] == [
        ("a", "111111111111", "us-east-1"), ("b", "123456789012", "us-east-1"), ("c", "222222222222", "us-east-1")]
    hostvars["a"]["rack_account_id"] = "123456789012"            # moto's account: the credentials' own
    out = preflight(hostvars)
    assert out["failed"] is True and out["msg"].startswith("hosts a, b all resolve to rack x in us-east-1 of account "
                                                           "123456789012; one rack must be one host")
    assert stacks() == []


def test_the_preflight_resolves_latest_and_edge_once_for_the_run(fleet, tmp_path):
    fleet.pop("broken")
    fleet["acme-dev"]["rack_version"] = "latest"
    fleet["edge"] = {"rack_channel": fleet["acme-prod"]["rack_channel"], "rack_version": "edge"}
    fleet["gone"] = {"rack_channel": "file:///nowhere", "rack_version": "latest", "rack_state": "absent"}
    out = preflight(fleet)
    channel = fleet["acme-prod"]["rack_channel"]
    assert out["versions"] == {channel: {"latest": "3", "edge": "4"}}
    assert out["ansible_facts"]["convox_run_versions"] == out["versions"]
    assert [r["version"] for r in out["ansible_facts"]["convox_run_releases"][channel]] == ["1", "2", "3", "4"]
    assert out["lines"][:2] == ["release of this run: edge = 4 in %s" % channel,
                                "release of this run: latest = 3 in %s" % channel]
    # the rack template of each release the run goes to is pinned (its digest) when the run starts
    pins = out["ansible_facts"]["convox_run_pins"][channel]
    assert sorted(pins) == sorted({fleet[h]["rack_version"] for h in ("acme-prod",)} | {"3", "4"})
    assert all(len(d) == 64 for d in pins.values())
    assert out["lines"][2:] == ["template of release %s in %s pinned for the run: sha256 %s" % (v, channel, pins[v][:16])
                                for v in sorted(pins)]
    assert out["racks"] == ["acme-dev", "edge", "gone", "prod"]
    # a batch given the run's versions goes there, whatever the channel says by then
    res = batch(fleet, hosts=["acme-dev", "edge"], versions={channel: {"latest": "2", "edge": "2"}}, check_mode=True)
    assert [res["results"][h]["plan"]["to_version"] for h in ("acme-dev", "edge")] == ["2", "2"]
    # an unreadable channel fails the preflight before any change
    fleet["acme-dev"]["rack_channel"] = "file://%s" % (tmp_path / "missing")
    out = preflight(fleet)
    assert out["failed"] is True and out["msg"] == (
        "channel file://%s could not be read before the run: channel file://%s has no versions.json. No rack was "
        "changed." % (tmp_path / "missing", tmp_path / "missing"))
    assert stacks() == []


def test_the_preflight_refuses_a_report_dir_that_cannot_take_the_results(fleet, tmp_path):
    not_a_dir = tmp_path / "report"
    not_a_dir.write_text("")
    out = preflight(fleet, report_dir=str(not_a_dir))
    assert out["failed"] is True and out["msg"] == (
        "convox_report_dir %s is not a writable directory, so the run's results (fleet-update.json) could not be "
        "written there; no rack was changed." % not_a_dir)
    assert "failed" not in preflight({"a": {}}, report_dir=str(tmp_path / "new")), "a directory yet to be made is fine"
