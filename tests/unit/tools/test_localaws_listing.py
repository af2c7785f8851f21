# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint's DescribeStacks listing, built from each stack's cached XML member, is byte for
byte moto's own answer, through every kind of change a stack goes through (tools/localaws/speed.py)."""

from __future__ import annotations

import json
import os
import re
import sys

import boto3
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins", "module_utils"))
from localaws import hooks, speed, timing  # noqa: E402  (on sys.path via tests/unit/conftest.py)
from rackfixtures import app_template, rack_template  # noqa: E402

REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")


def listing_bodies(cfn):
    """The raw bodies of a full listing (every page), with the cache and then with moto's serializer."""
    bodies = []

    def keep(http_response, **_kwargs):
        bodies.append(REQUEST_ID.sub(b"", http_response.content))

    cfn.meta.events.register("after-call.cloudformation.DescribeStacks", keep)
    out = {}
    try:
        for enabled in (True, False):
            speed.LISTING_CACHE["enabled"] = enabled
            del bodies[:]
            pages = list(cfn.get_paginator("describe_stacks").paginate())
            out[enabled] = (list(bodies), [s["StackName"] for p in pages for s in p["Stacks"]])
    finally:
        speed.LISTING_CACHE["enabled"] = True
        cfn.meta.events.unregister("after-call.cloudformation.DescribeStacks", keep)
    return out


def assert_same(cfn):
    out = listing_bodies(cfn)
    assert out[True][0] == out[False][0]
    assert out[True][1] == out[False][1]
    return out[True][1]


@pytest.mark.usefixtures("aws")
def test_listing_is_motos_own_answer_through_every_change():
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    rack, app = json.dumps(rack_template()), json.dumps(app_template())
    # two pages (moto lists 50 a page)
    for i in range(53):
        cfn.create_stack(StackName="r%02d" % i, TemplateBody=rack,
                         Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}],
                         Tags=[{"Key": "System", "Value": "convox"}])
    cfn.create_stack(StackName="r00-web", TemplateBody=app,
                     Parameters=[{"ParameterKey": "Rack", "ParameterValue": "r00"},
                                 {"ParameterKey": "Version", "ParameterValue": "1"}])
    names = assert_same(cfn)
    assert len(names) == 54
    assert_same(cfn)                                    # served from the cache now

    # an update: new parameters, template, outputs
    cfn.update_stack(StackName="r01", TemplateBody=json.dumps(rack_template(extra_param=True)),
                     Parameters=[{"ParameterKey": "Version", "ParameterValue": "2"}])
    assert_same(cfn)
    # tags only
    cfn.update_stack(StackName="r02", UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "Version", "UsePreviousValue": True}],
                     Tags=[{"Key": "System", "Value": "convox"}, {"Key": "Team", "Value": "a"}])
    assert_same(cfn)
    # termination protection, a status put by the test hook (no event), a delete
    cfn.update_termination_protection(StackName="r03", EnableTerminationProtection=True)
    hooks.set_stack({"stack_name": "r04", "status": "UPDATE_ROLLBACK_FAILED", "reason": "the test says so"})
    cfn.delete_stack(StackName="r05")
    names = assert_same(cfn)
    assert "r05" not in names
    listed = {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"]}
    assert listed["r03"]["EnableTerminationProtection"] is True
    assert listed["r04"]["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert listed["r04"]["StackStatusReason"] == "the test says so"
    assert {t["Key"] for t in listed["r02"]["Tags"]} == {"System", "Team"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in listed["r01"]["Parameters"]}["Version"] == "2"


@pytest.mark.usefixtures("aws")
def test_real_duration_statuses_are_listed_as_they_change(monkeypatch):
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    timing.configure({"seconds": 60})
    try:
        cfn.create_stack(StackName="slow", TemplateBody=json.dumps(rack_template()),
                         Parameters=[{"ParameterKey": "Version", "ParameterValue": "1"}])
        assert_same(cfn)
        assert cfn.describe_stacks()["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
        for op in timing._PENDING.values():
            op["until"] = 0                     # its time is up
        timing.settle()
        assert_same(cfn)
        assert cfn.describe_stacks()["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    finally:
        timing.configure({"seconds": 0})
