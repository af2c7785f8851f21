# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small rack/app templates and a file channel for the manager unit tests (fast in moto)."""

from __future__ import annotations

import json
import os


def rack_template(extra_param=False, drop_size=False):
    params = {
        "Version": {"Type": "String"},
        "Size": {"Type": "String", "Default": "small", "AllowedValues": ["small", "large"]},
        "Private": {"Type": "String", "Default": "No", "AllowedValues": ["Yes", "No"]},
        "Secret": {"Type": "String", "Default": "s3cr3t", "NoEcho": True},
    }
    if drop_size:
        params.pop("Size")
    if extra_param:
        params["Extra"] = {"Type": "String", "Default": "fresh"}
    return {
        "Parameters": params,
        "Resources": {
            "Settings": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "${AWS::StackName}-logs"}}},
        },
        "Outputs": {
            "Version": {"Value": {"Ref": "Version"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Version"}}},
            "Settings": {"Value": {"Ref": "Settings"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Settings"}}},
        },
    }


def app_template():
    return {
        "Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"},
                       "Count": {"Type": "Number", "Default": 2}},
        "Resources": {"Settings": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}},
        "Outputs": {"Version": {"Value": {"Ref": "Version"}}},
    }


RELEASES = [
    ("1", True, False, rack_template()),
    ("2", True, True, rack_template()),
    ("3", True, False, rack_template(extra_param=True, drop_size=True)),
    ("4", False, False, rack_template(extra_param=True, drop_size=True)),
]


def make_channel(root):
    os.makedirs(root, exist_ok=True)
    entries = []
    for version, published, required, tpl in RELEASES:
        os.makedirs(os.path.join(root, version), exist_ok=True)
        with open(os.path.join(root, version, "rack.json"), "w") as f:
            json.dump(tpl, f)
        with open(os.path.join(root, version, "app.json"), "w") as f:
            json.dump(app_template(), f)
        entries.append({"version": version, "description": "", "published": published, "required": required})
    with open(os.path.join(root, "versions.json"), "w") as f:
        json.dump(entries, f)
    return "file://" + root
