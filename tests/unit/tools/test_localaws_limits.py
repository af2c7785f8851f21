# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint refuses what CloudFormation's quotas refuse (tools/localaws/limits.py): a TemplateBody over
51,200 bytes, a template by URL over 1 MB, more than 500 resources, 200 parameters or 200 outputs, more than 5
rollback triggers - each synchronously, creating nothing."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

pytestmark = pytest.mark.usefixtures("aws")


def cfn():
    return boto3.client("cloudformation", region_name="us-east-1")


def refused(**kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn().create_stack(StackName="s", **kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert cfn().describe_stacks()["Stacks"] == []
    return err.value.response["Error"]["Message"]


def topics(count, **extra):
    return dict({"Resources": {"T%03d" % i: {"Type": "AWS::SNS::Topic"} for i in range(count)}}, **extra)


def test_a_template_body_over_51200_bytes():
    big = topics(1, Metadata={"pad": "x" * 51200})
    assert "Member must have length less than or equal to 51200" in refused(TemplateBody=json.dumps(big))


def test_a_template_by_url_over_one_megabyte():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="big.json", Body=json.dumps(topics(1, Metadata={"pad": "x" * 1000000})))
    assert refused(TemplateURL="https://templates.s3.amazonaws.com/big.json") == \
        "Template may not exceed 1000000 bytes in size."


@pytest.mark.parametrize("template, message", [
    (topics(501), "Template format error: Number of resources, 501, is greater than maximum allowed, 500"),
    (topics(1, Parameters={"P%03d" % i: {"Type": "String", "Default": ""} for i in range(201)}),
     "Template format error: Parameter count 201 is greater than max allowed 200"),
    (topics(1, Outputs={"O%03d" % i: {"Value": "x"} for i in range(201)}),
     "Template format error: Output count 201 is greater than max allowed 200"),
])
def test_more_resources_parameters_or_outputs_than_a_template_may_have(template, message):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="t.json", Body=json.dumps(template))
    assert refused(TemplateURL="https://templates.s3.amazonaws.com/t.json") == message


def test_more_than_five_rollback_triggers():
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    triggers = []
    for i in range(6):
        cw.put_metric_alarm(AlarmName="a%d" % i, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        triggers.append({"Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a%d" % i,
                         "Type": "AWS::CloudWatch::Alarm"})
    message = refused(TemplateBody=json.dumps(topics(1)), RollbackConfiguration={"RollbackTriggers": triggers})
    assert "Member must have length less than or equal to 5" in message
    cfn().create_stack(StackName="s", TemplateBody=json.dumps(topics(1)),
                       RollbackConfiguration={"RollbackTriggers": triggers[:5]})
