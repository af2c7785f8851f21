# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform: a fleet playbook run as one slice of a sliced job refuses before any change, saying
why and how to override it; a fleet update publishes one set_stats entry per rack for a workflow's next node."""

from __future__ import annotations

import json
import os

from conftest import REPO
from safety import entry, write_channel

SLICE = {"awx_job_id": 41, "awx_job_template_name": "fleet update", "awx_workflow_job_id": 40,
         "awx_workflow_job_name": "fleet update", "awx_job_launch_type": "workflow"}


def fleet(tmp_path, channel):
    hosts = {"acme-a": {"rack_region": "us-east-1"}, "acme-b": {"rack_region": "eu-west-1"},
             "acme-c": {"rack_region": "us-east-1"}}
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "rack_channel": channel, "rack_version": "1", "rack_termination_protection": False},
        "hosts": hosts, "children": {"canary": {"hosts": {"acme-a": None}}}}}
    path = tmp_path / "fleet.yml"
    path.write_text(json.dumps(inventory))
    return str(path)


def stacks(aws):
    return sorted(s["StackName"] for region in ("us-east-1", "eu-west-1")
                  for s in aws.client("cloudformation", region).describe_stacks()["Stacks"])


def test_a_sliced_job_is_refused_before_any_change_and_says_how_to_override(aws, tmp_path):
    inventory = fleet(tmp_path, write_channel(str(tmp_path / "channel"), [entry("1")]))
    aws.recording.mark()
    for playbook in ("update.yml", "site.yml"):
        out = aws.playbook(os.path.join(REPO, "playbooks", playbook), inventory=inventory, cwd=REPO,
                           extra_vars=SLICE, expect_rc=2)
        assert ("this run looks like one slice of a sliced AWX / Automation Platform job (its workflow job fleet "
                "update is named after its job template)") in out, out[-3000:]
        assert "-e convox_not_a_sliced_job=true" in out and "no rack was changed." in out
    # the tower_ names AWX sets as well
    tower = {k.replace("awx_", "tower_"): v for k, v in SLICE.items()}
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=inventory, cwd=REPO,
                       extra_vars=tower, expect_rc=2)
    assert "one slice of a sliced AWX" in out
    assert stacks(aws) == [] and aws.recording.mutating(include_plan=True) == []


def test_a_fleet_update_publishes_one_entry_per_rack_with_set_stats(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    inventory = fleet(tmp_path, channel)
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=inventory, cwd=REPO)
    # an AWX workflow of its own (not a slice: the workflow is not named after the template) goes on
    workflow = dict(SLICE, awx_workflow_job_name="canary, approval, fleet")
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=inventory, cwd=REPO,
                       extra_vars=dict(workflow, rack_version="latest",
                                       convox_report_dir=str(tmp_path / "report")),
                       env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_SHOW_CUSTOM_STATS": "true"})
    data = json.loads(out[out.index("{\n"):])
    stats = data["global_custom_stats"]
    rows = {row["rack"]: row for row in stats["convox_fleet_results"]}
    assert sorted(rows) == ["acme-a", "acme-b", "acme-c"]
    assert {(r["from"], r["to"], r["result"]) for r in rows.values()} == {("1", "2", "updated")}
    assert stats["convox_fleet_failed"] == [] and stats["convox_fleet_mode"] == "run"
    # the same as fleet-update.json
    with open(tmp_path / "report" / "fleet-update.json") as f:
        assert sorted(r["rack"] for r in json.load(f)["results"]) == sorted(rows)
