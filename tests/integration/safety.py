# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the safety tests: a small release channel written by hand (so it can be made
hostile), stacks created straight through boto3 (foreign ones, and racks and apps as the
collection tags them), snapshots of everything a test must find unchanged, and a way to run
module tasks through ansible-playbook and read each task's result."""

from __future__ import annotations

import json
import os

import yaml

RACK_TEMPLATE = {
    "Parameters": {
        "Version": {"Type": "String"},
        "Size": {"Type": "String", "Default": "small", "AllowedValues": ["small", "large"]},
    },
    "Resources": {
        "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    },
    "Outputs": {"Data": {"Value": {"Ref": "Data"}}},
}
APP_TEMPLATE = {
    "Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"}},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
}
FOREIGN_TEMPLATE = {
    "Parameters": {"Version": {"Type": "String", "Default": "9.6"}},
    "Resources": {
        "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "Archive": {"Type": "AWS::S3::Bucket"},
    },
}


def entry(version, published=True, required=False):
    return {"version": version, "description": "", "published": published, "required": required}


def write_channel(root, versions, rack=None, app=None, skip=(), racks=None):
    """A file channel at ``root``: versions.json (entries or version strings) and, for every version
    not in ``skip``, its rack.json (``racks[version]``, else ``rack``) and app.json."""
    os.makedirs(root, exist_ok=True)
    entries = [entry(v) if isinstance(v, str) else v for v in versions]
    with open(os.path.join(root, "versions.json"), "w") as f:
        json.dump(entries, f)
    for item in entries:
        if item["version"] in skip or "/" in item["version"] or item["version"].strip() != item["version"]:
            continue
        os.makedirs(os.path.join(root, item["version"]), exist_ok=True)
        rack_template = (racks or {}).get(item["version"]) or rack or RACK_TEMPLATE
        for kind, template in (("rack", rack_template), ("app", app or APP_TEMPLATE)):
            with open(os.path.join(root, item["version"], "%s.json" % kind), "w") as f:
                f.write(template if isinstance(template, str) else json.dumps(template))
    return "file://%s" % root


def create_stack(aws, name, template, tags, parameters=None, protection=False, region="us-east-1"):
    cfn = aws.client("cloudformation", region)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
                     Tags=[{"Key": k, "Value": v} for k, v in tags.items()], EnableTerminationProtection=protection)
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def rack_stack(aws, name, version="1", org=None, region="us-east-1", protection=False):
    """A rack as the collection would have installed it (its tags, release ``version``)."""
    tags = {"System": "convox", "Type": "rack", "Rack": name}
    if org:
        tags["Org"] = org
    return create_stack(aws, name, RACK_TEMPLATE, tags, {"Version": version}, protection, region)


def app_stack(aws, rack, app, stack_name=None, version="1"):
    return create_stack(aws, stack_name or "%s-%s" % (rack, app), APP_TEMPLATE,
                        {"System": "convox", "Type": "app", "Rack": rack, "Name": app},
                        {"Rack": rack, "Version": version})


def snapshot(aws, region="us-east-1"):
    """Every live stack of the region (status, parameters, tags, protection, template, resources) and
    every bucket with its objects: what a refused task must leave exactly as it was."""
    cfn = aws.client("cloudformation", region)
    s3 = aws.client("s3", region)
    stacks = {}
    for stack in cfn.describe_stacks()["Stacks"]:
        if stack["StackStatus"] == "DELETE_COMPLETE":
            continue
        name = stack["StackName"]
        stacks[name] = {
            "id": stack["StackId"], "status": stack["StackStatus"],
            "parameters": sorted((p["ParameterKey"], p.get("ParameterValue")) for p in stack.get("Parameters", [])),
            "tags": sorted((t["Key"], t["Value"]) for t in stack.get("Tags", [])),
            "protection": stack.get("EnableTerminationProtection"),
            "template": cfn.get_template(StackName=name)["TemplateBody"],
            "resources": sorted((r["LogicalResourceId"], r.get("PhysicalResourceId"), r["ResourceStatus"])
                                for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"])}
    buckets = {}
    for bucket in s3.list_buckets()["Buckets"]:
        objects = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        buckets[bucket["Name"]] = sorted((o["Key"], o["ETag"]) for o in objects)
    return {"stacks": stacks, "buckets": buckets}


def bucket_of(aws, stack, logical_id="Data", region="us-east-1"):
    return aws.client("cloudformation", region).describe_stack_resource(
        StackName=stack, LogicalResourceId=logical_id)["StackResourceDetail"]["PhysicalResourceId"]


def run_tasks(aws, tmp_path, tasks, check=False, diff=False, name="tasks.yml", env=None, **kw):
    """Run ``tasks`` (module tasks, each failing or not) on localhost; return each task's result."""
    for task in tasks:
        task.setdefault("ignore_errors", True)
    play = [{"name": "safety", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    path = tmp_path / name
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    out = aws.playbook(str(path), check=check, diff=diff, expect_rc=None,
                       env=dict(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", **(env or {})), **kw)
    data = json.loads(out[out.index("{\n"):])
    return [t["hosts"]["localhost"] for play in data["plays"] for t in play["tasks"]]
