# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint as AWS: UsePreviousValue keeps the stack's value of a parameter, also one that took its
template default (moto failed with a KeyError), and is refused for a key the previous template lacks."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

TEMPLATE = {"Parameters": {"Version": {"Type": "String"}, "Size": {"Type": "String", "Default": "small"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def params(cfn):
    return {p["ParameterKey"]: p["ParameterValue"] for p in cfn.describe_stacks(StackName="s")["Stacks"][0]["Parameters"]}


@pytest.mark.usefixtures("aws")
def test_use_previous_value_keeps_given_and_defaulted_values():
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE),
                     Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}])
    newer = dict(TEMPLATE, Parameters=dict(TEMPLATE["Parameters"], Size={"Type": "String", "Default": "large"}))
    cfn.update_stack(StackName="s", TemplateBody=json.dumps(newer),
                     Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True},
                                 {"ParameterKey": "Size", "UsePreviousValue": True}])
    # the value the stack had - the old template's default - not the new template's
    assert params(cfn) == {"Version": "1", "Size": "small"}
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn.update_stack(StackName="s", UsePreviousTemplate=True,
                         Parameters=[{"ParameterKey": "Version", "ParameterValue": "2"},
                                     {"ParameterKey": "Extra", "UsePreviousValue": True}])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["Error"]["Message"] == (
        "Invalid input for parameter key Extra. Cannot specify usePreviousValue as true for a parameter key not in the "
        "previous template")
