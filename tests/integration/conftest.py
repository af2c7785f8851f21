# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration fixtures: one local AWS server per pytest worker, reset before each test, and a
helper that runs a playbook through ``ansible-playbook`` against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))

import localaws  # noqa: E402
import shared_loader  # noqa: E402

# the in-process tests (test_least_privilege.py): botocore's JSON parsed once per worker (tools/shared_loader.py)
shared_loader.share()

BIN = os.path.dirname(sys.executable)
# the oldest environment (make setup; tools/floors.py): exactly the floors the collection states, amazon.aws at its
# floor in its own collections directory
OLDEST = os.path.join(REPO, ".venv", "core-oldest")
OLDEST_BIN = os.path.join(OLDEST, "bin")
OLDEST_ENV = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(OLDEST, "collections"),
              "PATH": OLDEST_BIN + os.pathsep + os.environ.get("PATH", "")}
# every ansible-core meta/runtime.yml admits has an environment (make setup): the oldest (2.17, on the floors), 2.18
# (.venv/core-2.18, amazon.aws from .venv's ansible package) and the newest, .venv itself
CORE_ENVIRONMENTS = {"2.17": OLDEST, "2.18": os.path.join(REPO, ".venv", "core-2.18"), "2.19": None}
INVENTORY = os.path.join(HERE, "inventory.yml")


def core_environment(core):
    """(bin directory, environment variables) of the ansible-core ``core`` environment."""
    root = CORE_ENVIRONMENTS[core]
    if root is None:
        return BIN, {}
    return os.path.join(root, "bin"), {"ANSIBLE_COLLECTIONS_PATH": os.path.join(root, "collections"),
                                       "PATH": os.path.join(root, "bin") + os.pathsep + os.environ.get("PATH", "")}


class LocalAws:
    def __init__(self, state_dir, endpoint):
        self.state_dir = state_dir
        self.endpoint = endpoint
        self.recording = localaws.Recording(state_dir)

    def env(self, **extra):
        env = dict(os.environ)
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_URL"):
            env.pop(var, None)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
            ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
            ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="false", ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            PATH=BIN + os.pathsep + env.get("PATH", ""),
        )
        env.update(extra)
        return env

    def client(self, service, region="us-east-1"):
        import boto3
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def fleet_quotas(self, racks, *regions):
        """Quotas for ``racks`` private three-zone racks in each of ``regions`` - what a fleet's account has once its
        quota increases are approved (AWS's defaults leave room for four public racks a region)."""
        for region in regions:
            localaws.set_quotas(self.endpoint, region, vpcs=racks + 1, internet_gateways=racks + 1,
                                elastic_ips=3 * racks + 5, nat_gateways_per_az=racks + 5)

    def set_stack(self, **spec):
        return localaws.post(self.endpoint, "/_localaws/stack", spec)

    def playbook(self, path, *args, extra_vars=None, check=False, diff=False, expect_rc=0, env=None,
                 inventory=INVENTORY, cwd=None, oldest=False, core=None):
        """Run ``ansible-playbook``: the newest, or (``oldest``) the oldest environment's, or ``core``'s (a key of
        CORE_ENVIRONMENTS), on its collections."""
        bindir, core_env = core_environment("2.17" if oldest else core or "2.19")
        env = dict(core_env, **(env or {}))
        cmd = [os.path.join(bindir, "ansible-playbook"), "-i", inventory, path]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        proc = subprocess.run(cmd, cwd=cwd or os.path.dirname(path), env=self.env(**(env or {})),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
                              check=False)
        if expect_rc is not None and proc.returncode != expect_rc:
            raise AssertionError("ansible-playbook %s exited %d (expected %d):\n%s"
                                 % (os.path.basename(path), proc.returncode, expect_rc, proc.stdout[-12000:]))
        return proc.stdout


@pytest.fixture(scope="session")
def localaws_server(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("localaws"))
    endpoint = localaws.start(state)
    try:
        yield LocalAws(state, endpoint)
    finally:
        localaws.stop(state)


@pytest.fixture
def aws(localaws_server):
    localaws.reset(localaws_server.endpoint)
    localaws.post(localaws_server.endpoint, "/_localaws/faults", {})
    localaws.set_timing(localaws_server.endpoint, 0)
    yield localaws_server


def target(name, playbook="main.yml"):
    return os.path.join(HERE, "targets", name, playbook)


def _galaxy(*args, cwd, collections):
    # only the temporary collections path: make exports one that already holds this work tree as convox.rack, and
    # ansible-galaxy would then find the collection "already installed"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections)
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy")] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The collection as a user gets it: the tarball ``ansible-galaxy collection build`` makes of this tree,
    installed (without dependencies: amazon.aws comes from the ansible package, as the README's Installation says
    for an offline machine) into a collections path of its own.  (tarball, collections path)."""
    root = tmp_path_factory.mktemp("installed")
    collections = str(root / "collections")
    _galaxy("collection", "build", "--output-path", str(root), REPO, cwd=str(root), collections=collections)
    tarball, = [str(p) for p in root.glob("convox-rack-*.tar.gz")]
    out = _galaxy("collection", "install", "--no-deps", "-p", collections, tarball, cwd=str(root),
                  collections=collections)
    assert "was installed successfully" in out, out
    return tarball, collections


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario: a playbook scenario against the local endpoint (the slow tier)")


# The scenarios that take a minute or more (most of it waiting on real-duration stack operations), handed to the
# workers first so that none of them starts last and becomes the suite's tail.  make test runs xdist with
# --maxschedchunk 1: each worker starts with two tests and takes one more as each ends (by default each worker would
# start with a quarter of its share, consecutive tests: every long one on the first worker, one after another).  In
# this order a worker's first two are one of the longest and a shorter one.
LONG = ("test_accounts.py::test_a_fleet_across_accounts", "test_examples.py::",
        "test_fleet_speed.py::", "test_async.py::",
        "test_docs.py::test_guide_commands", "test_reliability.py::",
        "test_rack.py::test_rack_lifecycle", "test_approved_plans.py::",
        "test_drift_report.py::test_fleet_drift", "test_fleet.py::test_a_failed_canary",
        "test_fleet.py::test_site_is_idempotent", "test_bad_inputs.py::test_module_bad_inputs")


def _rank(item):
    return next((i for i, long in enumerate(LONG) if long in item.nodeid), len(LONG))


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.scenario)
    items.sort(key=_rank)     # stable: the others as collected
