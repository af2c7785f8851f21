# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet filters: the halt decision, the summary table, a host's summary line."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.convox.rack.plugins.filter.fleet import (
    fleet_batch_label,
    fleet_failed,
    fleet_row,
    fleet_table,
    halt_reason,
)


class Broken(dict):
    def get(self, key, default=None):
        raise ValueError("'undefined_thing' is undefined")


def row(rack, result, **extra):
    out = {"rack": rack, "org": "acme", "region": "us-east-1", "from": "1", "to": "3", "path": ["2", "3"],
           "steps": 2, "result": result, "msg": ""}
    out.update(extra)
    return out


def test_halt_reason():
    hostvars = {"c": {"convox_result": row("c", "updated")}, "x": {"convox_result": row("x", "failed")},
                "y": {"convox_result": row("y", "updated")}, "z": {}}
    hosts = ["c", "x", "y", "z"]
    assert halt_reason(hosts, hostvars, ["c"], 0) == "1 rack failed"
    assert halt_reason(hosts, hostvars, ["c"], 25) == ""           # 1 of 4 is not more than 25 %
    assert halt_reason(hosts, hostvars, ["x"], 100) == "the canary failed"
    assert halt_reason(hosts, {"c": {}}, [], 0) == ""


def test_table_and_failed():
    hostvars = {"b": {"convox_result": row("b", "failed", msg="boom", steps=1)},
                "a": {"convox_result": row("a", "updated")}, "c": {"convox_result": row("c", "skipped", path=[])},
                "d": {}}
    lines = fleet_table(["a", "b", "c", "d"], hostvars)
    assert lines[0].split() == ["RACK", "ORG", "ACCOUNT", "REGION", "FROM", "->", "TO", "(PATH)", "STEPS", "RESULT"]
    assert lines[1].split() == ["a", "acme", "-", "us-east-1", "1", "->", "2", "->", "3", "2", "updated"]
    assert lines[2].endswith("failed: boom")
    assert lines[3].split()[4:7] == ["1", "->", "3"]                # no path: from -> to
    assert lines[-1] == "1 failed, 1 updated, 0 up to date, 1 skipped"
    assert fleet_table(["a"], hostvars, check_mode=True)[-1] == "0 failed, 1 to update, 0 up to date, 0 skipped"
    assert fleet_failed(["a", "b", "c", "d"], hostvars) == ["b"]


def test_table_warns_about_stateful_changes():
    hostvars = {"a": {"convox_result": row("a", "planned", stateful=2)}, "b": {"convox_result": row("b", "planned")}}
    lines = fleet_table(["a", "b"], hostvars, check_mode=True)
    assert lines[-2] == "0 failed, 2 to update, 0 up to date, 0 skipped"
    assert lines[-1] == ("WARNING: 1 rack would remove or replace a stateful resource (bucket, table, key, log group or "
                         "a retained resource): a")


def test_a_host_row_is_the_batch_row_else_made_the_same_way():
    made = {"rack": "prod", "result": "updated"}
    assert fleet_row("prod", {}, {"changed": True, "convox_row": made}) is made
    hostvars = {"h1": {"rack_name": "prod", "rack_org": "acme", "rack_region": "eu-west-1"}, "h2": {}}
    assert fleet_row("h1", hostvars, {"failed": True, "msg": "rack_batch: bad options."}) == {
        "host": "h1", "rack": "prod", "org": "acme", "account": "", "region": "eu-west-1", "from": "-", "to": "-", "path": [],
        "steps": 0, "result": "failed", "msg": "rack_batch: bad options.", "stateful": 0, "security": 0, "drifted": 0,
        "fingerprint": "", "fingerprint_of": {}, "single_task_apps": [], "halted": False, "republished": False, "failed_step": ""}
    assert fleet_row("h2", hostvars, {"failed": True})["rack"] == "h2"
    assert fleet_row("h2", hostvars, {"changed": True, "plan": {"to_version": "3"}}, True)["result"] == "planned"


def test_unreadable_host_variables_name_the_host():
    with pytest.raises(AnsibleFilterError, match="host x: rack_name cannot be read"):
        fleet_row("x", {"x": Broken()}, {"failed": True})


def test_batch_labels_follow_ansible_s_serial_batches():
    hosts = ["h%d" % i for i in range(10)]
    assert fleet_batch_label(["h0", "h1"], hosts, "25%") == "batch 1/5"      # 25 % of 10: 2 a batch
    assert fleet_batch_label(["h8", "h9"], hosts, "25%") == "batch 5/5"
    assert fleet_batch_label(["h3", "h4", "h5"], hosts, 3) == "batch 2/4"
    assert fleet_batch_label(["h9"], hosts, "3") == "batch 4/4"
    assert fleet_batch_label(["h0"], hosts, "5%") == "batch 1/10"            # at least one host a batch


def test_table_warns_about_apps_down_while_instances_are_replaced():
    hostvars = {"a": {"convox_result": row("a", "planned", single_task_apps=["web", "worker"])},
                "b": {"convox_result": row("b", "planned")}}
    lines = fleet_table(["a", "b"], hostvars, check_mode=True)
    assert lines[-1] == ("WARNING: 1 rack replaces instances under apps that run a single task, down meanwhile (run at "
                         "least two copies of anything critical): a (web, worker)")
