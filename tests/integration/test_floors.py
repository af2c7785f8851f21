# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floors the collection states are tested, not only claimed: the oldest environment (make setup, from
tools/floors.py) holds exactly them - the oldest ansible-core meta/runtime.yml admits, boto3/botocore/PyYAML at the
floors of requirements.txt, amazon.aws at the floor of galaxy.yml - and with its ansible-playbook a release is
published to an S3 channel (conditional writes), a rack and an app installed, then updated to the next release, its
modules running on its Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import OLDEST_BIN, OLDEST_ENV, REPO
from safety import run_tasks

sys.path.insert(0, os.path.join(REPO, "tools"))
import floors  # noqa: E402


def test_the_oldest_environment_holds_exactly_the_floors(aws):
    pinned, bundle = floors.floors()
    wanted = dict(line.split("==") for line in pinned)
    code = ("import json, ansible.release, boto3, botocore, yaml; print(json.dumps({'ansible-core': "
            "ansible.release.__version__, 'boto3': boto3.__version__, 'botocore': botocore.__version__, "
            "'PyYAML': yaml.__version__}))")
    found = json.loads(subprocess.run([os.path.join(OLDEST_BIN, "python"), "-c", code], capture_output=True,
                                      text=True, check=True).stdout)
    assert found["ansible-core"].startswith(wanted["ansible-core"].rstrip("*")), found
    assert {k: found[k] for k in ("boto3", "botocore", "PyYAML")} == {k: wanted[k] for k in ("boto3", "botocore",
                                                                                             "PyYAML")}
    listing = subprocess.run([os.path.join(OLDEST_BIN, "ansible-galaxy"), "collection", "list", "amazon.aws",
                              "--format", "json"], capture_output=True, text=True, check=True,
                             env=aws.env(**OLDEST_ENV)).stdout
    versions = [c["version"] for path in json.loads(listing).values() for c in path.values()]
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        floor = f.read().split('amazon.aws: ">=')[1].split(",")[0]
    assert versions == [floor], listing


def test_publish_install_and_update_on_the_floors(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket="floors")
    channel = "s3://floors/stable"
    formation = os.path.join(REPO, "formation")
    rack = {"name": "floor", "channel": channel, "termination_protection": False}
    results = run_tasks(aws, tmp_path, [
        {"convox.rack.rack_release": {"channel": channel, "version": "1", "src": formation}},
        {"convox.rack.rack_release": {"channel": channel, "version": "2", "src": formation, "required": True}},
        {"convox.rack.rack": dict(rack, version="1")},
        {"convox.rack.rack_app": {"name": "web1", "rack": "floor", "channel": channel}},
        dict({"convox.rack.rack": dict(rack, version="2")}, check_mode=True, diff=True),
        {"convox.rack.rack": dict(rack, version="2")},
        {"convox.rack.rack_info": {"name": "floor"}},
    ], oldest=True)
    for result in results:
        assert not result.get("failed") and "exception" not in result, (result.get("msg"), result.get("exception"))
    published_1, published_2, installed, app, plan, updated, info = results
    assert published_1["changed"] and published_2["changed"]
    assert installed["changed"] and app["changed"] and plan["changed"] and updated["changed"]
    assert (plan["plan"]["from_version"], plan["plan"]["to_version"], plan["plan"]["path"]) == ("1", "2", ["2"])
    assert plan["diff"]["before"]["version"] == "1" and plan["diff"]["after"]["version"] == "2", plan["diff"]
    stack = aws.client("cloudformation").describe_stacks(StackName="floor")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Version"] == "2"
    assert info["racks"][0]["version"] == "2", info
    versions = json.loads(aws.client("s3").get_object(Bucket="floors", Key="stable/versions.json")["Body"].read())
    assert [(v["version"], v["required"]) for v in versions] == [("1", False), ("2", True)]
