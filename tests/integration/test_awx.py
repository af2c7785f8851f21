# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Platform: a fleet playbook run as one slice of a sliced job refuses before any change, saying
why and how to override it; a fleet update publishes one set_stats entry per rack for a workflow's next node."""

from __future__ import annotations

import json
import os

from conftest import REPO
from fleets import write_fleet
from safety import entry, write_channel

SLICE = {"awx_job_id": 41, "awx_job_template_name": "fleet update", "awx_workflow_job_id": 40,
         "awx_workflow_job_name": "fleet update", "awx_job_launch_type": "workflow"}


def fleet(tmp_path, channel):
    hosts = {"acme-a": {"rack_region": "us-east-1"}, "acme-b": {"rack_region": "eu-west-1"},
             "acme-c": {"rack_region": "us-east-1"}}
    return write_fleet(tmp_path / "fleet.yml", channel, hosts)


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


def test_the_failing_rack_alone_is_failed_in_awx_host_summary(aws, tmp_path, monkeypatch):
    """Through ansible-runner, AWX's engine: the playbook_on_stats event counts a failure on the failing rack alone,
    the racks that updated are ok; the failed rack's row (set_stats, fleet-update.json) keeps its from, to, path and
    the step that failed."""
    import ansible_runner
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    inventory = fleet(tmp_path, channel)
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=inventory, cwd=REPO)
    aws.set_stack(stack_name="acme-c",
                  fail_updates={"logical_id": "Data", "type": "AWS::S3::Bucket", "reason": "Bucket policy denied"})
    private = tmp_path / "runner"
    (private / "env").mkdir(parents=True)
    env = aws.env(ANSIBLE_SHOW_CUSTOM_STATS="true")
    monkeypatch.setenv("PATH", env["PATH"])    # the runner starts the ansible-playbook its PATH finds: this one's
    run = ansible_runner.run(private_data_dir=str(private), playbook="playbooks/update.yml",
                             inventory=inventory, envvars=env, quiet=True, project_dir=REPO,
                             extravars={"rack_version": "2", "convox_max_fail_percentage": 50,
                                        "convox_report_dir": str(tmp_path / "report")})
    stats = [e for e in run.events if e["event"] == "playbook_on_stats"][-1]["event_data"]
    assert run.rc != 0 and run.status == "failed"
    assert stats["failures"] == {"acme-c": 1}, stats
    assert "acme-a" not in stats.get("dark", {}) and {"acme-a", "acme-b"} <= set(stats["ok"]), stats
    assert stats["changed"].keys() >= {"acme-a", "acme-b"}
    failed_events = {e["event_data"].get("host") for e in run.events if e["event"] == "runner_on_failed"
                     and not e["event_data"].get("ignore_errors")}
    assert failed_events <= {"acme-c"}, failed_events
    with open(tmp_path / "report" / "fleet-update.json") as f:
        rows = {r["rack"]: r for r in json.load(f)["results"]}
    failed = rows["acme-c"]
    assert (failed["result"], failed["from"], failed["to"], failed["path"]) == ("failed", "1", "2", ["2"]), failed
    assert failed["steps"] == 1 and "Bucket policy denied" in failed["msg"], failed
    assert failed["failed_step"] == "1 -> 2 (UPDATE_ROLLBACK_COMPLETE)", failed
    custom = stats["artifact_data"]              # what set_stats published, as AWX hands it to a workflow
    assert custom["convox_fleet_failed"] == ["acme-c"] and sorted(custom["convox_fleet_moved"]) == ["acme-a", "acme-b"]
    assert {r["rack"]: r["result"] for r in custom["convox_fleet_results"]} == {
        "acme-a": "updated", "acme-b": "updated", "acme-c": "failed"}
