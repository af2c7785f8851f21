# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle against the account the environment's credentials reach: run only through ``make test-aws``
(tools/test_aws.py), which confirms, names the region and the disposable prefix, and cleans up whatever happens."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def pytest_configure(config):
    if not os.environ.get("CONVOX_TEST_AWS_PREFIX"):
        pytest.exit("tests/aws run against a real account through make test-aws (tools/test_aws.py), which confirms, "
                    "names the prefix and cleans up.", returncode=4)


class Account:
    """The account under test: its region, the run's prefix, AWS clients and module tasks run by ansible-playbook."""

    def __init__(self, tmp_path_factory):
        self.region = os.environ["CONVOX_TEST_AWS_REGION"]
        self.prefix = os.environ["CONVOX_TEST_AWS_PREFIX"]
        self.account = os.environ["CONVOX_TEST_AWS_ACCOUNT"]
        self.rack = self.prefix
        self.bucket = "%s-releases-%s" % (self.prefix, self.account)
        self.channel = "s3://%s/stable" % self.bucket
        self.dir = tmp_path_factory.mktemp("aws")
        self.runs = 0

    def client(self, service):
        import boto3
        return boto3.client(service, region_name=self.region)

    def tasks(self, tasks, check=False, diff=False):
        """Run module ``tasks`` on localhost; each task's result (failed or not)."""
        for task in tasks:
            task.setdefault("ignore_errors", True)
            next(v for k, v in task.items() if k.startswith("convox.rack.")).setdefault("region", self.region)
        self.runs += 1
        path = self.dir / ("run%d.yml" % self.runs)
        path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
        inventory = self.dir / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(path)]
        cmd += ["--check"] if check else []
        cmd += ["--diff"] if diff else []
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
                   ANSIBLE_DEPRECATION_WARNINGS="false", ANSIBLE_LOCALHOST_WARNING="false")
        out = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=False).stdout
        data = json.loads(out[out.index("{\n"):])
        return [t["hosts"]["localhost"] for play in data["plays"] for t in play["tasks"]]

    def stack(self, name):
        from botocore.exceptions import ClientError
        try:
            return self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise


@pytest.fixture(scope="session")
def account(tmp_path_factory):
    return Account(tmp_path_factory)
