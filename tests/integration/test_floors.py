# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floors the collection states are tested, not only claimed: the oldest environment (make setup, from
tools/floors.py) holds exactly them - the oldest ansible-core meta/runtime.yml admits, boto3/botocore/PyYAML at the
floors of requirements.txt, amazon.aws at the floor of galaxy.yml.  The lifecycle runs in it with the other
ansible-core releases: test_matrix.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import OLDEST_BIN, OLDEST_ENV, REPO

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
