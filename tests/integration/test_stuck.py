# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stuck stacks without the console, and what amazon.aws users pass through: a rollback that fails again is
recovered by skipping the resources that cannot roll back (resources_to_skip); a rack whose deletion failed is
deleted leaving named resources in place (retain_resources); an update that outlives wait_timeout is cancelled and
rolled back (cancel_on_timeout); an update failed with rollback disabled is rolled back (recover: RollbackStack) -- each
of these in real-duration mode, the operation taking time as on AWS; SNS topics and a service role reach the stack.  Each through
ansible-playbook against the local endpoint, which models ContinueUpdateRollback's ResourcesToSkip, DeleteStack's
RetainResources and CancelUpdateStack, with AWS state read back with boto3."""

from __future__ import annotations

import botocore.exceptions
import localaws
import pytest
from safety import entry, run_tasks, write_channel

RACK = {
    "Parameters": {"Version": {"Type": "String"}},
    "Resources": {"Store": {"Type": "AWS::S3::Bucket"}, "Logs": {"Type": "AWS::Logs::LogGroup"}},
    "Outputs": {"Store": {"Value": {"Ref": "Store"}}},
}
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-events"
ROLE = "arn:aws:iam::123456789012:role/cloudformation-convox"


def channel(tmp_path, versions=("1", "2")):
    return write_channel(str(tmp_path / "channel"), [entry(v) for v in versions], rack=RACK)


def rack(channel_url, **options):
    task = {"name": "prod", "channel": channel_url, "version": "1", "termination_protection": False}
    task.update(options)
    return {"convox.rack.rack": task}


def statuses(aws, name="prod"):
    """The statuses the stack went through in real-duration mode, in order."""
    return [t[3] for t in localaws.transitions(aws.endpoint)["transitions"] if t[2] == name]


def described(aws, name="prod"):
    try:
        return aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except botocore.exceptions.ClientError:
        return None


def bucket_of(aws, logical_id="Store"):
    return aws.client("cloudformation").describe_stack_resource(
        StackName="prod", LogicalResourceId=logical_id)["StackResourceDetail"]["PhysicalResourceId"]


def test_a_rollback_that_fails_again_is_recovered_by_skipping_what_cannot_roll_back(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    aws.set_stack(stack_name="prod", status="UPDATE_ROLLBACK_FAILED", rollback_blocked=["Store"],
                  reason="The following resource(s) failed to update: [Store].")
    localaws.set_timing(aws.endpoint, seconds=2)           # real-duration mode: each ContinueUpdateRollback takes time
    aws.recording.mark()
    again, skipped = run_tasks(aws, tmp_path, [rack(url, recover=True),
                                               rack(url, recover=True, resources_to_skip=["Store"])])
    assert again["failed"] and again["changed"], again["msg"]
    assert "the stack is now UPDATE_ROLLBACK_FAILED" in again["msg"], again["msg"]
    assert again["msg"].endswith("list the resources whose rollback cannot succeed in resources_to_skip to leave them "
                                 "as they are."), again["msg"]
    assert not skipped.get("failed"), skipped.get("msg")
    assert "skipping Store (resources_to_skip)" in skipped["plan"]["note"], skipped["plan"]
    assert described(aws)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert statuses(aws) == ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS",
                             "UPDATE_ROLLBACK_COMPLETE"], statuses(aws)
    calls = aws.recording.params("ContinueUpdateRollback")
    assert [c.get("ResourcesToSkip.member.1") for c in calls] == [None, "Store"]


def test_a_rack_whose_deletion_failed_is_deleted_leaving_the_named_resources(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    store = bucket_of(aws)
    aws.client("s3").put_object(Bucket=store, Key="keep/me", Body=b"x")
    aws.set_stack(stack_name="prod", status="DELETE_FAILED", reason="The following resource(s) failed to delete: "
                  "[Store].", events=[{"logical_id": "Store", "type": "AWS::S3::Bucket", "status": "DELETE_FAILED",
                                       "reason": "The bucket you tried to delete is not empty"}])
    localaws.set_timing(aws.endpoint, seconds=2)           # real-duration mode: the delete takes time
    aws.recording.mark()
    gone, = run_tasks(aws, tmp_path, [rack(url, state="absent", retain_resources=["Store"])])
    assert not gone.get("failed"), gone.get("msg")
    assert gone["changed"] and gone["retained"] == ["Store"]
    assert described(aws) is None
    assert statuses(aws) == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"], statuses(aws)
    # the retained bucket is in place, with what it held: the collection neither emptied nor deleted it
    assert [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=store)["Contents"]] == ["keep/me"]
    deletes = aws.recording.params("DeleteStack")
    assert [d.get("RetainResources.member.1") for d in deletes] == ["Store"]


def test_retain_resources_on_a_healthy_rack_deletes_it_as_usual(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    store = bucket_of(aws)
    aws.recording.mark()
    gone, = run_tasks(aws, tmp_path, [rack(url, state="absent", retain_resources=["Store"])])
    assert not gone.get("failed") and "retained" not in gone, gone
    assert described(aws) is None
    assert [d.get("RetainResources.member.1") for d in aws.recording.params("DeleteStack")] == [None]
    names = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert store not in names


def test_the_endpoint_refuses_retain_resources_and_cancel_where_aws_does(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    cfn = aws.client("cloudformation")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn.delete_stack(StackName="prod", RetainResources=["Store"])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "RetainResources can only be specified when the stack is in DELETE_FAILED state" in str(err.value)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn.cancel_update_stack(StackName="prod")
    assert err.value.response["Error"]["Message"] == "CancelUpdateStack cannot be called from current stack status"
    assert described(aws)["StackStatus"] == "CREATE_COMPLETE"


def test_an_update_past_wait_timeout_is_cancelled_and_rolled_back(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    localaws.set_timing(aws.endpoint, seconds=6)
    result, = run_tasks(aws, tmp_path, [rack(url, version="2", wait_timeout=2, cancel_on_timeout=True)])
    assert result["failed"] and result["changed"]
    assert result["msg"].startswith("updating from 1 to 2 of rack prod did not finish within 2 seconds, so it was "
                                    "cancelled"), result["msg"]
    assert result["msg"].endswith("so it was cancelled (cancel_on_timeout: CancelUpdateStack) and rolled back; the "
                                  "stack is now UPDATE_ROLLBACK_COMPLETE."), result["msg"]
    stack = described(aws)
    version = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]
    assert (stack["StackStatus"], version) == ("UPDATE_ROLLBACK_COMPLETE", "1")
    assert statuses(aws) == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"], \
        statuses(aws)


def test_topics_and_a_service_role_reach_the_stack_and_stay(aws, tmp_path):
    url = channel(tmp_path)
    aws.client("sns").create_topic(Name="ops-events")
    installed, updated = run_tasks(aws, tmp_path, [rack(url, notification_arns=[TOPIC], role_arn=ROLE),
                                                   rack(url, version="2")])
    assert not installed.get("failed") and not updated.get("failed"), (installed.get("msg"), updated.get("msg"))
    stack = described(aws)
    assert stack["NotificationARNs"] == [TOPIC] and stack["RoleARN"] == ROLE
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == "2"


def test_a_protected_bucket_is_not_replaced_and_allow_replace_lets_it(aws, tmp_path):
    renamed = {"Parameters": RACK["Parameters"], "Outputs": RACK["Outputs"], "Resources": {
        "Store": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "prod-store-renamed"}},
        "Logs": {"Type": "AWS::Logs::LogGroup"}}}
    url = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")], racks={"1": RACK, "2": renamed})
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    store = bucket_of(aws)
    aws.client("s3").put_object(Bucket=store, Key="orders/1", Body=b"x")
    localaws.set_timing(aws.endpoint, seconds=3)           # real-duration mode: the refusal comes from the update
    plan, refused = run_tasks(aws, tmp_path, [dict(rack(url, version="2"), check_mode=True), rack(url, version="2")])
    assert plan["plan"]["protected"] == ["Logs", "Store"]
    assert [c["protected"] for c in plan["plan"]["stateful_changes"] if c["logical_id"] == "Store"] == [True]
    assert any("it is protected (protect_stateful)" in w for w in plan["warnings"]), plan["warnings"]
    assert refused["failed"] and refused["changed"]
    assert ("AWS::S3::Bucket Store" in refused["msg"] and "Action denied by stack policy" in refused["msg"]
            and "list it in allow_replace" in refused["msg"]), refused["msg"]
    stack = described(aws)
    version = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]
    assert (stack["StackStatus"], version, bucket_of(aws)) == ("UPDATE_ROLLBACK_COMPLETE", "1", store)
    assert [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=store)["Contents"]] == ["orders/1"]
    allowed, = run_tasks(aws, tmp_path, [rack(url, version="2", allow_replace=["Store"])], name="allowed.yml")
    assert not allowed.get("failed"), allowed.get("msg")
    assert bucket_of(aws) == "prod-store-renamed"
    assert statuses(aws) == ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_IN_PROGRESS",
                             "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"], statuses(aws)


def test_an_update_failed_with_rollback_disabled_is_rolled_back_with_recover(aws, tmp_path):
    url = channel(tmp_path)
    run_tasks(aws, tmp_path, [dict(rack(url), ignore_errors=False)])
    aws.set_stack(stack_name="prod", status="UPDATE_FAILED", reason="Resource Store failed (rollback disabled)")
    localaws.set_timing(aws.endpoint, seconds=2)           # real-duration mode: RollbackStack and the update take time
    refused, recovered = run_tasks(aws, tmp_path, [rack(url, version="2"), rack(url, version="2", recover=True)])
    assert refused["failed"] and not refused["changed"]
    assert "run again with recover: true to roll it back (RollbackStack) first" in refused["msg"], refused["msg"]
    assert not recovered.get("failed"), recovered.get("msg")
    assert "rolled back from UPDATE_FAILED with RollbackStack" in recovered["plan"]["note"], recovered["plan"]
    stack = described(aws)
    version = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"]
    assert (stack["StackStatus"], version) == ("UPDATE_COMPLETE", "2")
    assert statuses(aws) == ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_IN_PROGRESS",
                             "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"], statuses(aws)
    with pytest.raises(botocore.exceptions.ClientError) as err:      # the endpoint: only from *_FAILED
        aws.client("cloudformation").rollback_stack(StackName="prod")
    assert err.value.response["Error"]["Code"] == "ValidationError"
