# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint refuses what AWS refuses (in-process, through boto3): quotas per account and region, a stack
failing a resource past one and rolling back, Fn::GetAZs and the zones with a default subnet, exports in use, SSM
values that change between operations, a missing key without s3:ListBucket, a TemplateURL in another region."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest
from localaws import ec2

pytestmark = pytest.mark.usefixtures("aws")


def client(service, region="us-east-1"):
    return boto3.client(service, region_name=region)


def error(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]


def events(cfn, stack):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
            for e in reversed(cfn.describe_stack_events(StackName=stack)["StackEvents"])]


def test_default_quotas_per_region_refuse_past_them_and_a_raise_is_honoured():
    vpc = client("ec2")
    for dummy in range(4):                                       # the default VPC is the first of five
        vpc.create_vpc(CidrBlock="10.1.0.0/16")
    refused = error(vpc.create_vpc, CidrBlock="10.1.0.0/16")
    assert (refused["Code"], refused["Message"]) == ("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
    for dummy in range(4):
        vpc.create_internet_gateway()
    assert error(vpc.create_internet_gateway)["Code"] == "InternetGatewayLimitExceeded"
    for dummy in range(5):
        vpc.allocate_address(Domain="vpc")
    assert error(vpc.allocate_address, Domain="vpc")["Code"] == "AddressLimitExceeded"
    quotas = client("service-quotas")
    assert quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")["Quota"]["Value"] == 5.0
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"vpcs": 8, "elastic_ips": 9}})
    vpc.create_vpc(CidrBlock="10.1.0.0/16")
    assert quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")["Quota"]["Value"] == 8.0
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-0263D0A3")["Quota"]["Value"] == 9.0
    assert quotas.get_service_quota(ServiceCode="cloudformation", QuotaCode="L-0485CB21")["Quota"]["Value"] == 2000.0
    # another region has its own defaults
    client("ec2", "eu-west-1").create_vpc(CidrBlock="10.2.0.0/16")


def test_a_stack_past_a_quota_fails_the_resource_and_rolls_back():
    for dummy in range(4):
        client("ec2").create_vpc(CidrBlock="10.1.0.0/16")
    cfn = client("cloudformation")
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"},
                              "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"},
                                      "DependsOn": "Queue"}}}
    cfn.create_stack(StackName="fifth", TemplateBody=json.dumps(template))
    stack = cfn.describe_stacks(StackName="fifth")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, "fifth") if e[1] == "CREATE_FAILED"]
    assert failed == [("Vpc", "CREATE_FAILED",
                       'Resource handler returned message: "The maximum number of VPCs has been reached. (Service: '
                       'EC2, Status Code: 400)" (HandlerErrorCode: ServiceLimitExceeded)')]
    assert client("sqs").list_queues().get("QueueUrls", []) == []          # what it created was rolled back
    cfn.delete_stack(StackName="fifth")


def test_get_azs_returns_the_zones_with_a_default_subnet():
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "DisplayName": {"Fn::Select": [2, {"Fn::GetAZs": ""}]}}}}}
    two = client("cloudformation", "us-west-1")
    refused = error(two.create_stack, StackName="three-zones", TemplateBody=json.dumps(template))
    assert refused["Message"] == "Template error: Fn::Select cannot select nonexistent value at index 2"
    assert two.describe_stacks()["Stacks"] == []                  # nothing was created
    zones = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
             "Outputs": {"Zones": {"Value": {"Fn::Join": [",", {"Fn::GetAZs": ""}]}}}}

    def listed(region):
        cfn = client("cloudformation", region)
        cfn.create_stack(StackName="zones", TemplateBody=json.dumps(zones))
        return cfn.describe_stacks(StackName="zones")["Stacks"][0]["Outputs"][0]["OutputValue"]

    assert listed("us-west-1") == "us-west-1a,us-west-1b"
    assert listed("eu-west-1") == "eu-west-1a,eu-west-1b,eu-west-1c"
    ec2.configure_zones({"region": "eu-west-2", "zones": ["eu-west-2b"]})
    assert listed("eu-west-2") == "eu-west-2b"           # only the zone that kept its default subnet


EXPORTING = {"Parameters": {"Size": {"Type": "String"}}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
             "Outputs": {"Size": {"Value": {"Ref": "Size"}, "Export": {"Name": "base:Size"}},
                         "Free": {"Value": "x", "Export": {"Name": "base:Free"}}}}
IMPORTING = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {
    "QueueName": {"Fn::Join": ["-", ["q", {"Fn::ImportValue": "base:Size"}]]}}}}}


def test_an_export_in_use_cannot_change_or_disappear():
    cfn = client("cloudformation")
    cfn.create_stack(StackName="base", TemplateBody=json.dumps(EXPORTING),
                     Parameters=[{"ParameterKey": "Size", "ParameterValue": "small"}])
    cfn.create_stack(StackName="user", TemplateBody=json.dumps(IMPORTING))
    assert cfn.list_imports(ExportName="base:Size")["Imports"] == ["user"]
    assert error(cfn.list_imports, ExportName="base:Free")["Message"] == "Export 'base:Free' is not imported by any stack."
    cfn.update_stack(StackName="base", UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "Size", "ParameterValue": "large"}])
    stack = cfn.describe_stacks(StackName="base")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == "Export base:Size cannot be updated as it is in use by user"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Size": "small"}
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Size"] == "small"
    dropped = dict(EXPORTING, Outputs={"Free": EXPORTING["Outputs"]["Free"]})
    cfn.update_stack(StackName="base", TemplateBody=json.dumps(dropped),
                     Parameters=[{"ParameterKey": "Size", "UsePreviousValue": True}])
    stack = cfn.describe_stacks(StackName="base")["Stacks"][0]
    assert stack["StackStatusReason"] == "Export base:Size cannot be deleted as it is in use by user"
    # an export nobody imports may change, and an importer's next update sees the new value
    free = dict(EXPORTING, Outputs=dict(EXPORTING["Outputs"], Free={"Value": "y", "Export": {"Name": "base:Free"}}))
    cfn.update_stack(StackName="base", TemplateBody=json.dumps(free),
                     Parameters=[{"ParameterKey": "Size", "UsePreviousValue": True}])
    assert cfn.describe_stacks(StackName="base")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}["base:Free"] == "y"
    cfn.delete_stack(StackName="base")
    stack = cfn.describe_stacks(StackName="base")["Stacks"][0]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == (
        "DELETE_FAILED", "Export base:Size cannot be deleted as it is in use by user")
    cfn.delete_stack(StackName="user")
    cfn.delete_stack(StackName="base")
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"] == []


def test_an_ssm_value_can_change_between_operations_and_cloudformation_resolves_it_again():
    ssm = client("ssm")
    ssm.put_parameter(Name="/images/ecs", Value="ami-00000000000000001", Type="String")
    template = {"Parameters": {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/images/ecs"},
                               "Tag": {"Type": "String", "Default": "a"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cfn = client("cloudformation")
    cfn.create_stack(StackName="ssm", TemplateBody=json.dumps(template))

    def resolved():
        params = cfn.describe_stacks(StackName="ssm")["Stacks"][0]["Parameters"]
        return {p["ParameterKey"]: p.get("ResolvedValue") for p in params}["Ami"]

    assert resolved() == "ami-00000000000000001"
    ssm.put_parameter(Name="/images/ecs", Value="ami-00000000000000002", Type="String", Overwrite=True)
    cfn.update_stack(StackName="ssm", UsePreviousTemplate=True, Parameters=[
        {"ParameterKey": "Ami", "UsePreviousValue": True}, {"ParameterKey": "Tag", "ParameterValue": "b"}])
    assert resolved() == "ami-00000000000000002"      # any update re-resolves it: a new image without asking


def test_a_template_url_follows_the_partition_rule():
    """In the aws partition CloudFormation reads a template from a bucket of any region (Convox's us-east-1 bucket
    serves every region); a URL naming a region must name the bucket's; aws-cn and aws-us-gov read only from a bucket
    in the stack's own region."""
    s3 = client("s3", "eu-west-1")
    s3.create_bucket(Bucket="templates-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    body = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    version = s3.put_object(Bucket="templates-eu", Key="t.json", Body=body)
    url = "https://templates-eu.s3.eu-west-1.amazonaws.com/t.json"
    client("cloudformation").create_stack(StackName="far", TemplateURL=url)          # another region of aws: read
    assert client("cloudformation").describe_stacks(StackName="far")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    wrong = error(client("cloudformation").create_stack, StackName="misnamed",
                  TemplateURL="https://templates-eu.s3.us-west-2.amazonaws.com/t.json")
    assert wrong["Message"].startswith("S3 error: The bucket you are attempting to access must be addressed using the "
                                       "specified endpoint.")
    client("cloudformation", "eu-west-1").create_stack(StackName="near", TemplateURL=url + "?versionId=%s"
                                                       % version.get("VersionId", "null"))
    assert client("cloudformation", "eu-west-1").describe_stacks(StackName="near")["Stacks"][0]["StackStatus"] == \
        "CREATE_COMPLETE"
    # aws-cn: a bucket of another region of the partition is refused, one of the stack's region is read
    cn = client("s3", "cn-north-1")
    cn.create_bucket(Bucket="templates-bj", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    cn.put_object(Bucket="templates-bj", Key="t.json", Body=body)
    cn_url = "https://templates-bj.s3.cn-north-1.amazonaws.com.cn/t.json"
    refused = error(client("cloudformation", "cn-northwest-1").create_stack, StackName="far", TemplateURL=cn_url)
    assert "must be addressed using the specified endpoint" in refused["Message"], refused
    client("cloudformation", "cn-north-1").create_stack(StackName="near", TemplateURL=cn_url)
    assert client("cloudformation", "cn-north-1").describe_stacks(StackName="near")["Stacks"][0]["StackStatus"] == \
        "CREATE_COMPLETE"


# -- the IAM model ----------------------------------------------------------------------------------------------------
def as_user(policy):
    """Keys of an IAM user holding only ``policy`` (made before IAM is enforced)."""
    iam = client("iam")
    iam.create_user(UserName="someone")
    iam.put_user_policy(UserName="someone", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": policy, "Resource": "*"}]}))
    key = iam.create_access_key(UserName="someone")["AccessKey"]
    session = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                    region_name="us-east-1")
    return session.client


@pytest.fixture
def enforced():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    yield lambda: (setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0),
                   setattr(ActionAuthenticatorMixin, "request_count", 0))
    settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def test_a_missing_key_answers_403_without_list_bucket(enforced):
    client("s3").create_bucket(Bucket="channel")
    reader = as_user(["s3:GetObject"])("s3")
    enforced()
    refused = error(reader.get_object, Bucket="channel", Key="versions.json")
    assert refused["Code"] == "AccessDenied" and "s3:ListBucket" in refused["Message"], refused
    from moto import settings
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")       # the harness grants s3:ListBucket too

    def grant(list_bucket_on):
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        client("iam").put_user_policy(UserName="someone", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::channel/*"},
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": list_bucket_on}]}))
        enforced()

    grant("arn:aws:s3:::another-bucket")           # s3:ListBucket on another bucket does not count
    assert error(reader.get_object, Bucket="channel", Key="versions.json")["Code"] == "AccessDenied"
    grant("arn:aws:s3:::channel")
    assert error(reader.get_object, Bucket="channel", Key="versions.json")["Code"] == "NoSuchKey"


def test_a_tagged_stack_needs_the_tagging_permissions_of_its_types(enforced):
    template = json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*",
                                                "Resource": "*"}]}}}}})
    cfn = as_user(["cloudformation:*", "kms:CreateKey", "kms:DescribeKey", "kms:PutKeyPolicy", "kms:GetKeyPolicy",
                   "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion"])("cloudformation")
    enforced()
    cfn.create_stack(StackName="untagged", TemplateBody=template)
    assert cfn.describe_stacks(StackName="untagged")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn.create_stack(StackName="tagged", TemplateBody=template, Tags=[{"Key": "System", "Value": "convox"}])
    assert cfn.describe_stacks(StackName="tagged")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, "tagged") if e[1] == "CREATE_FAILED"]
    assert failed[0][0] == "Key" and "is not authorized to perform: kms:TagResource" in failed[0][2]


def test_a_resource_made_early_for_an_export_fails_the_same_way():
    for dummy in range(4):
        client("ec2").create_vpc(CidrBlock="10.1.0.0/16")
    cfn = client("cloudformation")
    template = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}},
                "Outputs": {"Vpc": {"Value": {"Ref": "Vpc"}, "Export": {"Name": "x:Vpc"}}}}
    cfn.create_stack(StackName="exporting", TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName="exporting")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert cfn.list_exports()["Exports"] == []


# -- CloudWatch alarms ------------------------------------------------------------------------------------------------
def metric_alarm(cw, name):
    cw.put_metric_alarm(AlarmName=name, MetricName="Errors", Namespace="App", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")


def test_describe_alarms_applies_every_filter_and_returns_the_types_asked_for():
    cw = client("cloudwatch")
    metric_alarm(cw, "calm")
    metric_alarm(cw, "firing")
    cw.set_alarm_state(AlarmName="firing", StateValue="ALARM", StateReason="test")
    cw.put_composite_alarm(AlarmName="either", AlarmRule='ALARM("calm") OR ALARM("firing")')
    named = cw.describe_alarms(AlarmNames=["calm", "firing", "either"], StateValue="ALARM")
    assert [a["AlarmName"] for a in named["MetricAlarms"]] == ["firing"]      # "calm" is OK: not returned
    assert named["CompositeAlarms"] == []                                    # AlarmTypes omitted: metric alarms only
    both = cw.describe_alarms(AlarmNames=["calm", "either"], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert [a["AlarmName"] for a in both["MetricAlarms"]] == ["calm"]
    assert [(a["AlarmName"], a["StateValue"]) for a in both["CompositeAlarms"]] == [("either", "ALARM")]


def test_a_composite_alarm_follows_its_rule():
    cw = client("cloudwatch")
    metric_alarm(cw, "one")
    metric_alarm(cw, "two")
    cw.put_composite_alarm(AlarmName="all", AlarmRule='ALARM("one") AND NOT OK("two")')

    def state():
        return cw.describe_alarms(AlarmNames=["all"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]["StateValue"]
    assert state() == "OK"
    cw.set_alarm_state(AlarmName="one", StateValue="ALARM", StateReason="test")
    assert state() == "OK"
    arn = cw.describe_alarms(AlarmNames=["two"])["MetricAlarms"][0]["AlarmArn"]
    cw.put_composite_alarm(AlarmName="all", AlarmRule='ALARM("one") AND NOT OK("%s")' % arn)
    cw.set_alarm_state(AlarmName="two", StateValue="ALARM", StateReason="test")
    assert state() == "ALARM"
    refused = error(cw.put_composite_alarm, AlarmName="bad", AlarmRule='ALARM(one')
    assert "cannot be parsed" in refused["Message"]


def test_assume_role_is_authorized_on_the_role_and_a_trust_in_the_account_covers_its_users(enforced):
    iam = client("iam")
    arn = "arn:aws:iam::123456789012:role/fleet"
    iam.create_role(RoleName="fleet", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    iam.create_role(RoleName="foreign", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}]}))
    sts = as_user(["sts:GetCallerIdentity"])("sts")
    allowed = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [arn, "arn:aws:iam::123456789012:role/foreign"]}
    iam.put_user_policy(UserName="someone", PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allowed]}))
    enforced()
    assert sts.assume_role(RoleArn=arn, RoleSessionName="ok")["AssumedRoleUser"]["Arn"].endswith("fleet/ok")
    refused = error(sts.assume_role, RoleArn="arn:aws:iam::123456789012:role/foreign", RoleSessionName="no")
    assert refused["Code"] == "AccessDenied"
    from moto import settings
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    other = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/x"}
    iam.put_user_policy(UserName="someone", PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
    enforced()
    refused = error(sts.assume_role, RoleArn=arn, RoleSessionName="no")       # allowed on another role only
    assert refused["Code"] == "AccessDenied" and "sts:AssumeRole" in refused["Message"]


def test_a_failed_update_rolls_back_its_template_and_parameters():
    """AWS leaves a stack whose update failed as it was before: the previous template and parameter values."""
    from localaws import hooks
    cfn = client("cloudformation")
    template = {"Parameters": {"Version": {"Type": "String"}}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}])
    hooks.set_stack({"stack_name": "s", "fail_updates": {"logical_id": "Topic", "type": "AWS::SNS::Topic",
                                                         "reason": "boom"}})
    newer = dict(template, Resources={"Topic": {"Type": "AWS::SNS::Topic"}, "Queue": {"Type": "AWS::SQS::Queue"}})
    cfn.update_stack(StackName="s", TemplateBody=json.dumps(newer),
                     Parameters=[{"ParameterKey": "Version", "ParameterValue": "2"}])
    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Version": "1"}
    body = cfn.get_template(StackName="s")["TemplateBody"]
    assert "Queue" not in (body if isinstance(body, dict) else json.loads(body))["Resources"]
    hooks.FAIL_UPDATES.clear()


def test_a_failed_update_that_replaced_a_resource_leaves_a_stack_that_deletes():
    """moto deleted the resource the update replaced; the rolled-back stack names the one that exists, and deleting
    the stack deletes it (it never names a resource that is gone, which would fail the delete)."""
    from localaws import hooks
    cfn, s3 = client("cloudformation"), client("s3")
    template = {"Parameters": {"Name": {"Type": "String"}},
                "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Name"}}}}}
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "one"}])
    hooks.set_stack({"stack_name": "s", "fail_updates": {"logical_id": "Bucket", "type": "AWS::S3::Bucket",
                                                         "reason": "boom"}})
    cfn.update_stack(StackName="s", TemplateBody=json.dumps(template),    # a new name replaces the bucket
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "two"}])
    hooks.FAIL_UPDATES.clear()
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    named = cfn.describe_stack_resource(StackName="s", LogicalResourceId="Bucket")["StackResourceDetail"]
    existing = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert named["PhysicalResourceId"] in existing, (named["PhysicalResourceId"], existing)
    cfn.delete_stack(StackName="s")
    gone = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in gone] == ["s"]
    assert s3.list_buckets()["Buckets"] == []


TOPIC = {"Parameters": {"Version": {"Type": "String"}}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def version(value):
    return [{"ParameterKey": "Version", "ParameterValue": value}]


def test_a_stack_whose_create_rolled_back_can_only_be_deleted():
    from localaws import hooks
    cfn = client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("1"))
    hooks.set_stack({"stack_name": "s", "status": "ROLLBACK_COMPLETE"})
    refused = error(cfn.update_stack, StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("2"))
    assert refused["Code"] == "ValidationError"
    assert refused["Message"].endswith("is in ROLLBACK_COMPLETE state and can not be updated.")
    cfn.delete_stack(StackName="s")
    assert [s["StackName"] for s in cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]] == ["s"]


def test_an_update_cleans_up_before_it_completes():
    """Every update reports UPDATE_COMPLETE_CLEANUP_IN_PROGRESS before UPDATE_COMPLETE; in real-duration mode the stack
    is in that status for a while, and refuses an update meanwhile."""
    from localaws import timing
    cfn = client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("1"))
    cfn.update_stack(StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("2"))
    statuses = [status for logical_id, status, dummy in events(cfn, "s") if logical_id == "s"]
    assert statuses[-3:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    timing.configure({"seconds": 60})
    try:
        cfn.update_stack(StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("3"))
        assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
        for op in timing._PENDING.values():
            op["until"] = 0
        timing.settle()
        assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        busy = error(cfn.update_stack, StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("4"))
        assert busy["Message"].endswith("is in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS state and can not be updated.")
        for op in timing._PENDING.values():
            op["until"] = 0
        timing.settle()
        assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
        expected = ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
        assert [t[3] for t in timing.transitions()] == expected
    finally:
        timing.configure({"seconds": 0})


@pytest.mark.parametrize("statement, denied", [
    # NotAction: every action but those listed; NotResource: every resource but those listed (as IAM reads them)
    ({"Effect": "Deny", "NotAction": "Update:Modify", "Principal": "*", "Resource": "*"}, True),
    ({"Effect": "Deny", "NotAction": "Update:Replace", "Principal": "*", "Resource": "*"}, False),
    ({"Effect": "Deny", "Action": "Update:*", "Principal": "*", "NotResource": "LogicalResourceId/Bucket"}, False),
    ({"Effect": "Deny", "Action": "Update:*", "Principal": "*", "NotResource": "LogicalResourceId/Other"}, True),
])
def test_a_stack_policy_reads_not_action_and_not_resource_as_aws_does(statement, denied):
    cfn = client("cloudformation")
    template = {"Parameters": {"Name": {"Type": "String"}},
                "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Name"}}}}}
    policy = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}, statement]}
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template), StackPolicyBody=json.dumps(policy),
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "one"}])
    renamed = dict(template, Metadata={"Release": "2"})
    renamed["Resources"] = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "two"}}}
    cfn.update_stack(StackName="s", TemplateBody=json.dumps(renamed),      # a new BucketName replaces the bucket
                     Parameters=[{"ParameterKey": "Name", "UsePreviousValue": True}])
    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
    if denied:
        assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
        assert "does not allow [Update:Replace] for resource [LogicalResourceId/Bucket]" in stack["StackStatusReason"]
    else:
        assert stack["StackStatus"] == "UPDATE_COMPLETE"


def service_role(name, service="cloudformation.amazonaws.com", actions=("logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy")):
    iam = client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]}))
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    return "arn:aws:iam::123456789012:role/%s" % name


def test_a_service_role_must_be_passable_and_trust_cloudformation_and_then_acts(enforced):
    """RoleARN: the role must trust CloudFormation; the caller needs iam:PassRole on it (to CloudFormation); the
    resources are then created with the role's permissions, not the caller's."""
    good, untrusting = service_role("cfn"), service_role("ec2only", "ec2.amazonaws.com")
    weak = service_role("weak", actions=("logs:DescribeLogGroups", "logs:PutRetentionPolicy"))
    iam = client("iam")
    iam.create_user(UserName="someone")
    iam.put_user_policy(UserName="someone", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudformation:CreateStack", "cloudformation:DescribeStacks",
                                       "cloudformation:DescribeStackEvents"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": [good, untrusting, weak],
         "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}}]}))
    key = iam.create_access_key(UserName="someone")["AccessKey"]
    cfn = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                region_name="us-east-1").client("cloudformation")
    iam.put_user_policy(UserName="someone", PolicyName="q", PolicyDocument=json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*",
                                       "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]}))
    enforced()
    topic = json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}})
    # the caller has no logs:CreateLogGroup: the role's permissions create the topic
    cfn.create_stack(StackName="ok", TemplateBody=topic, RoleARN=good)
    assert cfn.describe_stacks(StackName="ok")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    refused = error(cfn.create_stack, StackName="no", TemplateBody=topic, RoleARN=untrusting)
    assert (refused["Code"], refused["Message"]) == ("ValidationError",
                                                     "Role %s is invalid or cannot be assumed" % untrusting)
    unknown = "arn:aws:iam::123456789012:role/nobody"
    refused = error(cfn.create_stack, StackName="no", TemplateBody=topic, RoleARN=unknown)
    assert (refused["Code"], refused["Message"]) == ("ValidationError",
                                                     "Role %s is invalid or cannot be assumed" % unknown)
    cfn.create_stack(StackName="weak", TemplateBody=topic, RoleARN=weak)
    assert cfn.describe_stacks(StackName="weak")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [reason for dummy, status, reason in events(cfn, "weak") if status == "CREATE_FAILED"]
    assert reasons and "assumed-role/weak/AWSCloudFormation is not authorized to perform: logs:CreateLogGroup" in reasons[0]


def test_passing_a_role_needs_iam_pass_role_to_cloudformation(enforced):
    role = service_role("cfn")
    iam = client("iam")
    iam.create_user(UserName="someone")
    iam.put_user_policy(UserName="someone", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudformation:CreateStack"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]}))
    key = iam.create_access_key(UserName="someone")["AccessKey"]
    cfn = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                region_name="us-east-1").client("cloudformation")
    enforced()
    refused = error(cfn.create_stack, StackName="s", TemplateBody=json.dumps(
        {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}), RoleARN=role)
    assert refused["Code"] == "AccessDenied"
    assert refused["Message"] == ("User: arn:aws:iam::123456789012:user/someone is not authorized to perform: "
                                  "iam:PassRole on resource: \"%s\" because no identity-based policy allows the "
                                  "iam:PassRole action" % role)


NAMED = {"Parameters": {"Name": {"Type": "String"}, "Display": {"Type": "String", "Default": "d"}},
         "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Name"}}},
                       "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Display"}}}}}


def test_a_parameter_only_change_set_lists_what_it_modifies_and_replaces_by_the_schemas():
    """No template change, new parameter values: the change set lists the resources that reference them, with
    Replacement True when the property is create-only in the type's schema (BucketName), False otherwise."""
    from localaws import cfn as cfn_part
    assert "BucketName" in cfn_part.create_only("AWS::S3::Bucket")
    assert "DisplayName" not in cfn_part.create_only("AWS::SNS::Topic")
    cfn = client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(NAMED),
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "one"}])

    def planned(**values):
        params = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
        params += [{"ParameterKey": k, "UsePreviousValue": True} for k in ("Name", "Display") if k not in values]
        cfn.create_change_set(StackName="s", ChangeSetName="c", ChangeSetType="UPDATE", UsePreviousTemplate=True,
                              Parameters=params)
        changes = cfn.describe_change_set(StackName="s", ChangeSetName="c")["Changes"]
        cfn.delete_change_set(StackName="s", ChangeSetName="c")
        return {c["ResourceChange"]["LogicalResourceId"]: (c["ResourceChange"]["Action"],
                                                           c["ResourceChange"].get("Replacement"))
                for c in changes}

    assert planned(Name="two") == {"Bucket": ("Modify", "True")}
    assert planned(Display="e") == {"Topic": ("Modify", "False")}


def test_a_stack_policy_denies_a_replacement_a_parameter_drives():
    cfn = client("cloudformation")
    policy = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "Update:Replace", "Principal": "*",
                             "Resource": "LogicalResourceId/Bucket"}]}
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(NAMED), StackPolicyBody=json.dumps(policy),
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "one"}])
    cfn.update_stack(StackName="s", UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "Name", "ParameterValue": "two"},
                                 {"ParameterKey": "Display", "UsePreviousValue": True}])
    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "does not allow [Update:Replace] for resource [LogicalResourceId/Bucket]" in stack["StackStatusReason"]
    assert [b["Name"] for b in client("s3").list_buckets()["Buckets"]] == ["one"]
    cfn.update_stack(StackName="s", UsePreviousTemplate=True,       # a change that replaces nothing goes through
                     Parameters=[{"ParameterKey": "Name", "UsePreviousValue": True},
                                 {"ParameterKey": "Display", "ParameterValue": "e"}])
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_an_update_that_changes_nothing_is_refused_and_a_tag_change_is_not():
    cfn = client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("1"),
                     Tags=[{"Key": "Team", "Value": "a"}])
    same = error(cfn.update_stack, StackName="s", TemplateBody=json.dumps(TOPIC), Parameters=version("1"),
                 Tags=[{"Key": "Team", "Value": "a"}])
    assert (same["Code"], same["Message"]) == ("ValidationError", "No updates are to be performed.")
    previous = error(cfn.update_stack, StackName="s", UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True}],
                     Tags=[{"Key": "Team", "Value": "a"}])
    assert previous["Message"] == "No updates are to be performed."
    cfn.update_stack(StackName="s", UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Version",
                                                                           "UsePreviousValue": True}],
                     Tags=[{"Key": "Team", "Value": "b"}])
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_a_create_that_fails_rolls_back_through_rollback_in_progress():
    """A resource that fails (a VPC past the quota) rolls the create back: ROLLBACK_IN_PROGRESS, ROLLBACK_COMPLETE."""
    cfn = client("cloudformation")
    template = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"vpcs": 1}})     # the default VPC takes the one
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template))
    statuses = [status for logical_id, status, dummy in events(cfn, "s") if logical_id == "s"]
    assert statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"], statuses


def _balancer_with_listener(region="us-east-1"):
    ec2c, elb = client("ec2", region), client("elbv2", region)
    vpc = ec2c.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2c.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    balancer = elb.create_load_balancer(Name="lb", Subnets=subnets[:2])["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]["ListenerArn"]
    return elb, listener, group


def test_listener_rules_per_load_balancer_refuse_past_the_quota_and_a_raise_is_honoured():
    elb, listener, group = _balancer_with_listener()
    limits = {item["Name"]: item["Max"] for item in elb.describe_account_limits()["Limits"]}
    assert limits["rules-per-application-load-balancer"] == "100"     # AWS's defaults, not moto's fixed 20 balancers
    assert limits["application-load-balancers"] == "50"
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"rules_per_load_balancer": 2}})
    limits = {item["Name"]: item["Max"] for item in elb.describe_account_limits()["Limits"]}
    assert limits["rules-per-application-load-balancer"] == "2"

    def rule(priority):
        return elb.create_rule(ListenerArn=listener, Priority=priority, Actions=[
            {"Type": "forward", "TargetGroupArn": group}],
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["a%d.example.com" % priority]}}])
    rule(1)
    rule(2)                     # the default rule does not count
    refused = error(rule, priority=3)
    assert (refused["Code"], refused["Message"]) == ("TooManyRules", "You've reached the limit on the number of rules "
                                                                     "per load balancer.")
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"rules_per_load_balancer": 3}})
    rule(3)
    assert len(elb.describe_rules(ListenerArn=listener)["Rules"]) == 4


def test_load_balancers_per_region_refuse_past_the_quota_and_a_stack_rolls_back():
    ec2c, elb = client("ec2"), client("elbv2")
    vpc = ec2c.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2c.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"load_balancers": 2}})
    assert {item["Name"]: item["Max"] for item in elb.describe_account_limits()["Limits"]}[
        "application-load-balancers"] == "2"
    elb.create_load_balancer(Name="one", Subnets=subnets[:2])
    elb.create_load_balancer(Name="two", Subnets=subnets[:2])
    elb.create_load_balancer(Name="net", Subnets=subnets[:2], Type="network")     # not an Application Load Balancer
    refused = error(elb.create_load_balancer, Name="three", Subnets=subnets[:2])
    assert (refused["Code"], refused["Message"]) == (
        "TooManyLoadBalancers", "You've reached the limit on the number of load balancers for your AWS account.")
    # another region has its own quota; a raise lets the third in
    client("elbv2", "eu-west-1").create_load_balancer(Name="three", Subnets=[
        s["SubnetId"] for s in client("ec2", "eu-west-1").describe_subnets()["Subnets"]][:2])
    cfn = client("cloudformation")
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"},
                              "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "DependsOn": "Queue",
                                     "Properties": {"Subnets": subnets[:2]}}}}
    cfn.create_stack(StackName="third", TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName="third")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [e for e in events(cfn, "third") if e[1] == "CREATE_FAILED"] == [
        ("Lb", "CREATE_FAILED", 'Resource handler returned message: "You\'ve reached the limit on the number of load '
                                'balancers for your AWS account. (Service: ElasticLoadBalancingV2, Status Code: 400)" '
                                '(HandlerErrorCode: ServiceLimitExceeded)')]
    assert client("sqs").list_queues().get("QueueUrls", []) == []
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"load_balancers": 3}})
    elb.create_load_balancer(Name="three", Subnets=subnets[:2])
    assert len([b for b in elb.describe_load_balancers()["LoadBalancers"] if b["Type"] == "application"]) == 3


def test_iam_roles_per_account_refuse_past_the_quota_in_every_region():
    iam = client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    # IAM is global: a quota set through any region is the account's, and Service Quotas answers it in every region
    ec2.configure_quotas({"region": "eu-west-1", "quotas": {"iam_roles": 2}})
    for region in ("us-east-1", "eu-west-1", "us-west-2"):
        quota = client("service-quotas", region).get_service_quota(ServiceCode="iam", QuotaCode="L-FE177D64")
        assert quota["Quota"]["Value"] == 2.0, region
    iam.create_role(RoleName="one", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="two", AssumeRolePolicyDocument=trust)
    refused = error(iam.create_role, RoleName="three", AssumeRolePolicyDocument=trust)
    assert (refused["Code"], refused["Message"]) == ("LimitExceeded", "Cannot exceed quota for RolesPerAccount: 2")
    cfn = client("cloudformation", "eu-west-1")
    cfn.create_stack(StackName="roles", TemplateBody=json.dumps({"Resources": {"Role": {
        "Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": json.loads(trust)}}}}),
        Capabilities=["CAPABILITY_IAM"])
    assert cfn.describe_stacks(StackName="roles")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [e[2] for e in events(cfn, "roles") if e[1] == "CREATE_FAILED"] == [
        'Resource handler returned message: "Cannot exceed quota for RolesPerAccount: 2 (Service: IAM, Status Code: '
        '400)" (HandlerErrorCode: ServiceLimitExceeded)']
    # AWS's default again (an empty configuration restores the defaults)
    ec2.configure_quotas({"region": "eu-west-1", "quotas": {}})
    iam.create_role(RoleName="three", AssumeRolePolicyDocument=trust)
    # a region's own quotas configured later leave the account's IAM quota as it was
    ec2.configure_quotas({"region": "eu-west-1", "quotas": {"iam_roles": 3}})
    ec2.configure_quotas({"region": "us-east-1", "quotas": {"vpcs": 9}})
    assert error(iam.create_role, RoleName="four", AssumeRolePolicyDocument=trust)["Code"] == "LimitExceeded"
