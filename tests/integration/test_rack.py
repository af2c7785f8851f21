# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rack module through ansible-playbook against the local AWS server."""

from __future__ import annotations

import json
import pathlib
import shutil

import yaml
from conftest import REPO, target

FORMATION = pathlib.Path(REPO) / "formation"

ONE = target("rack", "one.yml")


def newer_formation(tmp_path):
    """formation/ plus one resource, as a later release would add."""
    src = tmp_path / "formation-v5"
    src.mkdir()
    rack = yaml.safe_load((FORMATION / "rack.yml").read_text())
    rack["Resources"]["AuditLog"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}
    rack["Outputs"]["AuditLog"] = {"Value": {"Ref": "AuditLog"}}
    (src / "rack.json").write_text(json.dumps(rack))
    shutil.copy(FORMATION / "app.yml", src / "app.yml")
    return str(src)


def test_rack_lifecycle(aws, tmp_path):
    aws.playbook(target("rack"), extra_vars={"channel": "file://%s" % (tmp_path / "channel"),
                                             "v5_src": newer_formation(tmp_path)})
    s3 = aws.client("s3")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]
            if b["Name"].startswith(("alpha", "beta"))] == [], "uninstall leaves no bucket behind"


def test_noop_costs_one_cloudformation_call_and_check_mode_does_not_mutate(aws, tmp_path):
    channel = "file://%s" % (tmp_path / "channel")
    aws.playbook(ONE, extra_vars={"channel": channel, "version": "setup"})
    rec = aws.recording.mark()
    out = aws.playbook(ONE, extra_vars={"channel": channel, "version": "keep"})
    assert "changed=0" in out
    assert rec.calls() == [("cloudformation", "DescribeStacks", "us-east-1")]

    rec.mark()
    out = aws.playbook(ONE, extra_vars={"channel": channel, "version": "latest"}, check=True, diff=True)
    assert "changed=1" in out
    calls = rec.calls()
    assert rec.mutating() == [], rec.mutating()
    actions = [a for dummy, a, dummy2 in calls]
    assert actions.count("CreateChangeSet") == actions.count("DeleteChangeSet") == 1
    assert aws.client("cloudformation").describe_stacks(StackName="solo")["Stacks"][0]["Parameters"]

    rec.mark()
    aws.playbook(ONE, extra_vars={"channel": channel, "version": "latest"})
    mutating = [a for dummy, a, dummy2 in rec.mutating()]
    assert mutating == ["UpdateStack"], mutating
