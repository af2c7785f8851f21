# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dry run shows what each release step does to the resources: the first step from a change
set against the live stack, later steps from a static diff of consecutive templates, and a warning
for every stateful resource a step would remove or replace."""

from __future__ import annotations

import copy

from safety import RACK_TEMPLATE, create_stack, entry, run_tasks, snapshot, write_channel


def releases():
    one = copy.deepcopy(RACK_TEMPLATE)
    one["Resources"]["Builds"] = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": "builds-1", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}
    two = copy.deepcopy(one)
    del two["Resources"]["Data"]                                   # release 2 removes the bucket
    del two["Outputs"]["Data"]
    two["Resources"]["Builds"]["Properties"]["TableName"] = "builds-2"   # and replaces the table (new name)
    three = copy.deepcopy(two)
    del three["Resources"]["Logs"]                                 # release 3 removes the log group
    three["Resources"]["Audit"] = {"Type": "AWS::SNS::Topic"}
    return one, two, three


def test_resource_changes_per_step_with_stateful_warnings(aws, tmp_path):
    one, two, three = releases()
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2", required=True), entry("3")],
                            racks={"1": one, "2": two, "3": three})
    create_stack(aws, "dry", one, {"System": "convox", "Type": "rack", "Rack": "dry"}, {"Version": "1"})
    before = snapshot(aws)
    rec = aws.recording.mark()
    (res,) = run_tasks(aws, tmp_path, [dict({"convox.rack.rack": {"name": "dry", "channel": channel, "version": "latest"}},
                                            check_mode=True)], diff=True)
    assert res["changed"] and not res.get("failed"), res
    first, second = res["plan"]["steps"]
    assert (first["step"], first["source"], second["step"], second["source"]) == (
        "1 -> 2", "change set", "2 -> 3", "template diff")
    by_id = {c["logical_id"]: c for c in first["resource_changes"]}
    assert (by_id["Data"]["action"], by_id["Data"]["type"], by_id["Data"]["stateful"]) == (
        "Remove", "AWS::S3::Bucket", True)
    assert (by_id["Builds"]["action"], by_id["Builds"]["replacement"], by_id["Builds"]["stateful"]) == (
        "Modify", "True", True)                                    # a new table name replaces the table
    later = {c["logical_id"]: c for c in second["resource_changes"]}
    assert (later["Logs"]["action"], later["Logs"]["stateful"]) == ("Remove", True)
    assert (later["Audit"]["action"], later["Audit"]["stateful"]) == ("Add", False)
    flagged = [(c["step"], c["logical_id"]) for c in res["plan"]["stateful_changes"]]
    assert sorted(flagged) == [("1 -> 2", "Builds"), ("1 -> 2", "Data"), ("2 -> 3", "Logs")]
    warnings = " ".join(res.get("warnings", []))
    # the bucket is retained (DeletionPolicy Retain): left behind, orphaned - not lost
    assert ("rack dry, step 1 -> 2: Remove AWS::S3::Bucket Data (retained: left behind, orphaned) would leave a "
            "stateful resource behind, orphaned: CloudFormation keeps it (DeletionPolicy or UpdateReplacePolicy Retain) "
            "but no longer manages it, and nothing deletes it later; it is protected (protect_stateful): the step will "
            "fail and roll back before anything is lost, unless allow_replace lists it.") in warnings
    assert sorted(res["plan"]["warnings"]) == sorted(res["warnings"])
    assert "rack dry, step 2 -> 3: Remove AWS::Logs::LogGroup Logs would lose" in warnings
    assert ("rack dry, step 1 -> 2: Modify AWS::DynamoDB::Table Builds (replacement: True) would lose a stateful "
            "resource's data; it is protected (protect_stateful): the step will fail and roll back before anything is "
            "lost, unless allow_replace lists it.") in warnings
    assert res["diff"]["after"]["resource_changes"]["2 -> 3 (template diff)"] == [
        "Add AWS::SNS::Topic Audit", "Remove AWS::Logs::LogGroup Logs"]
    assert rec.mutating() == []                                    # the change set is the only write
    assert snapshot(aws) == before
