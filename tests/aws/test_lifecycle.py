# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rack's life on a real account, in order (make test-aws stops at the first failure and cleans up): publish two
releases to a new S3 channel (the second required), install a public rack from the first, an app on it, read the dry
run of the update, update, uninstall the app and the rack (its retained buckets with it).  Each step is checked with
boto3, not only by the module's word."""

from __future__ import annotations

import copy
import json
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = 3600                  # a real rack takes 10 to 20 minutes to create or delete
# what the rack is installed with: the smallest rack formation/rack.yml allows (InstanceCount: MinValue 2) - checked
# against the templates' constraints by tests/unit/formation/test_aws_values.py, as CloudFormation would
RACK_PARAMETERS = {"InstanceCount": 2}
APP_PARAMETERS: dict = {}


def formation(kind):
    with open(os.path.join(REPO, "formation", "%s.yml" % kind)) as f:
        return yaml.safe_load(f)


def test_publish_two_releases_to_a_new_channel(account):
    s3 = account.client("s3")
    location = {} if account.region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": account.region}}
    s3.create_bucket(Bucket=account.bucket, **location)
    second = account.dir / "release-2"
    second.mkdir()
    rack = copy.deepcopy(formation("rack"))
    rack["Resources"]["LogGroup"]["Properties"]["RetentionInDays"] = 14      # an in-place change
    (second / "rack.json").write_text(json.dumps(rack))
    (second / "app.json").write_text(json.dumps(formation("app")))
    first, required = account.tasks([
        {"convox.rack.rack_release": {"channel": account.channel, "version": "1", "src": os.path.join(REPO, "formation")}},
        {"convox.rack.rack_release": {"channel": account.channel, "version": "2", "src": str(second), "required": True}},
    ])
    assert first["changed"] and required["changed"] and not first.get("failed") and not required.get("failed")
    versions = json.loads(s3.get_object(Bucket=account.bucket, Key="stable/versions.json")["Body"].read())
    assert [(v["version"], v["required"]) for v in versions] == [("1", False), ("2", True)]


def rack(account, **args):
    return {"convox.rack.rack": dict({"name": account.rack, "channel": account.channel, "org": "ci",
                                      "termination_protection": False, "wait_timeout": WAIT,
                                      "parameters": dict(RACK_PARAMETERS)}, **args)}


def test_install_a_rack(account):
    installed, info = account.tasks([rack(account, version="1"), {"convox.rack.rack_info": {"name": account.rack}}])
    assert installed["changed"] and not installed.get("failed"), installed.get("msg")
    stack = account.stack(account.rack)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in stack["Tags"]}["System"] == "convox"
    assert info["racks"][0]["version"] == "1" and info["racks"][0]["status"] == "CREATE_COMPLETE"


def test_install_an_app(account):
    task = {"name": "web1", "rack": account.rack, "channel": account.channel, "wait_timeout": WAIT,
            "parameters": dict(APP_PARAMETERS)}
    app, = account.tasks([{"convox.rack.rack_app": task}])
    assert app["changed"] and not app.get("failed"), app.get("msg")
    assert account.stack("%s-web1" % account.rack)["StackStatus"] == "CREATE_COMPLETE"


def test_the_dry_run_of_the_update_changes_nothing(account):
    plan, = account.tasks([rack(account, version="2")], check=True, diff=True)
    assert plan["changed"] and not plan.get("failed"), plan.get("msg")
    assert (plan["plan"]["from_version"], plan["plan"]["to_version"], plan["plan"]["path"]) == ("1", "2", ["2"])
    assert "instances_replaced" not in plan["plan"], plan["plan"]["instances_replaced"]      # the image stays
    stack = account.stack(account.rack)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == "1"


def test_update_the_rack(account):
    updated, = account.tasks([rack(account, version="2")])
    assert updated["changed"] and not updated.get("failed"), updated.get("msg")
    stack = account.stack(account.rack)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == "2"


def test_uninstall_the_app_and_the_rack_with_its_buckets(account):
    cfn = account.client("cloudformation")
    retained = [r["PhysicalResourceId"] for page in cfn.get_paginator("list_stack_resources").paginate(
        StackName=account.rack) for r in page["StackResourceSummaries"] if r["ResourceType"] == "AWS::S3::Bucket"]
    app, gone = account.tasks([
        {"convox.rack.rack_app": {"name": "web1", "rack": account.rack, "state": "absent", "wait_timeout": WAIT}},
        rack(account, state="absent")])
    assert app["changed"] and gone["changed"] and not app.get("failed") and not gone.get("failed"), \
        (app.get("msg"), gone.get("msg"))
    assert account.stack(account.rack) is None and account.stack("%s-web1" % account.rack) is None
    names = {b["Name"] for b in account.client("s3").list_buckets()["Buckets"]}
    assert retained and not names & set(retained), retained
