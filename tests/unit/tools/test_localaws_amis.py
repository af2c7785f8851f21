# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint finds an AMI by comparing exact ids, not by fnmatch (tools/localaws/speed.py): the same answer as
moto's filtering of every AMI, and wildcards still filter."""

from __future__ import annotations

import boto3
import pytest


@pytest.mark.usefixtures("default_amis", "aws")
def test_image_id_filter_answers_as_before():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    every = ec2.describe_images()["Images"]
    assert len(every) > 10
    some = every[len(every) // 2]["ImageId"]

    def ids(values):
        return sorted(i["ImageId"] for i in ec2.describe_images(Filters=[{"Name": "image-id", "Values": values}])["Images"])

    assert ids([some]) == [some]
    assert ids([some, every[0]["ImageId"]]) == sorted({some, every[0]["ImageId"]})
    assert ids(["ami-00000000000000000"]) == []
    assert ids([some[:-2] + "*"]) == sorted(i["ImageId"] for i in every if i["ImageId"].startswith(some[:-2]))
    # an instance launched from it carries it
    run = ec2.run_instances(ImageId=some, MinCount=1, MaxCount=1)
    assert run["Instances"][0]["ImageId"] == some
