# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint validates parameters as CloudFormation does, synchronously, at CreateStack, UpdateStack and
CreateChangeSet: every constraint of a declaration, AWS-specific types that must exist, values kept with
UsePreviousValue and defaults included (tools/localaws/params.py)."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

pytestmark = pytest.mark.usefixtures("aws")

TEMPLATE = {"Parameters": {
    "Count": {"Type": "Number", "Default": "2", "MinValue": "2", "MaxValue": "10"},
    "Size": {"Type": "String", "Default": "small", "AllowedValues": ["small", "large"]},
    "Name": {"Type": "String", "Default": "web", "AllowedPattern": "[a-z][a-z0-9-]*", "MinLength": "3",
             "MaxLength": "8"},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a,b", "AllowedValues": ["a", "b", "c"]},
}, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def cfn():
    return boto3.client("cloudformation", region_name="us-east-1")


def refused(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(**kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    return err.value.response["Error"]["Message"]


def params(**values):
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


@pytest.mark.parametrize("values, message", [
    ({"Count": "1"}, "Parameter 'Count' must be a number not less than 2"),
    ({"Count": "11"}, "Parameter 'Count' must be a number not greater than 10"),
    ({"Count": "two"}, "Parameter 'Count' must be a number"),
    ({"Size": "huge"}, "Parameter 'Size' must be one of AllowedValues"),
    ({"Name": "Web"}, "Parameter 'Name' must match pattern [a-z][a-z0-9-]*"),
    ({"Name": "ab"}, "Parameter 'Name' must contain at least 3 characters"),
    ({"Name": "abcdefghi"}, "Parameter 'Name' must contain at most 8 characters"),
    ({"Zones": "a,d"}, "Parameter 'Zones' must be one of AllowedValues"),
])
def test_a_value_its_declaration_refuses_fails_the_call_and_creates_nothing(values, message):
    assert refused(cfn().create_stack, StackName="s", TemplateBody=json.dumps(TEMPLATE),
                   Parameters=params(**values)) == message
    assert cfn().describe_stacks()["Stacks"] == []


def test_update_and_change_set_validate_the_values_the_stack_would_have():
    client = cfn()
    client.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE), Parameters=params(Count="3"))
    stricter = json.loads(json.dumps(TEMPLATE))
    stricter["Parameters"]["Count"]["MinValue"] = "4"           # the kept value 3 is now refused
    kept = [{"ParameterKey": "Count", "UsePreviousValue": True}]
    assert refused(client.update_stack, StackName="s", TemplateBody=json.dumps(stricter), Parameters=kept) == \
        "Parameter 'Count' must be a number not less than 4"
    assert refused(client.create_change_set, StackName="s", ChangeSetName="c", ChangeSetType="UPDATE",
                   TemplateBody=json.dumps(stricter),
                   Parameters=kept) == "Parameter 'Count' must be a number not less than 4"
    assert client.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    client.update_stack(StackName="s", TemplateBody=json.dumps(stricter), Parameters=params(Count="5"))
    assert client.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_an_aws_specific_parameter_must_name_something_that_exists():
    template = {"Parameters": {"Image": {"Type": "AWS::EC2::Image::Id"}, "Key": {"Type": "AWS::EC2::KeyPair::KeyName"},
                               "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.create_key_pair(KeyName="ops")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    image = ec2.register_image(Name="base", RootDeviceName="/dev/xvda")["ImageId"]
    good = {"Image": image, "Key": "ops", "Subnets": subnet}
    for key, bad in (("Image", "ami-0123456789abcdef0"), ("Key", "nobody"), ("Subnets", "%s,subnet-0000" % subnet)):
        message = refused(cfn().create_stack, StackName="s", TemplateBody=json.dumps(template),
                          Parameters=params(**dict(good, **{key: bad})))
        shown = bad.split(",")[-1]
        assert message == "Parameter validation failed: parameter value %s for parameter name %s does not exist" % (
            shown, key)
    cfn().create_stack(StackName="s", TemplateBody=json.dumps(template), Parameters=params(**good))
