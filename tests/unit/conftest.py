# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit-test fixtures: moto in-process (``mock_aws``) and a client factory over it."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# Running plain pytest from the repo: expose it as ansible_collections.convox.rack (make setup links it into each
# virtualenv's collections directory: the oldest one also holds amazon.aws at its floor).
for candidate in (os.path.join(sys.prefix, "collections"), os.path.join(REPO, ".venv", "collections"),
                  os.path.abspath(os.path.join(REPO, "..", "..", ".."))):
    if os.path.isdir(os.path.join(candidate, "ansible_collections", "convox", "rack")) and candidate not in sys.path:
        sys.path.insert(0, candidate)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # moto loads its catalog of public AMIs into every region's EC2 backend it starts (half of a rack test's time,
    # through the quota reader's EC2 calls); only the tests about images need it (the default_amis fixture)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def default_amis(monkeypatch):
    """moto's catalog of public AMIs in the EC2 backends this test starts."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "true")


_RULES: list = []


def _endpoint_rules():
    if not _RULES:
        from localaws import parts
        parts.apply()
        _RULES.append(parts)
    return _RULES[0]


@pytest.fixture(scope="session")
def endpoint_rules():
    """The local endpoint's rules (tools/localaws: what moto lacks, as AWS documents it) applied to moto, once per
    process, for the tests that use moto: the pure tests never import it."""
    return _endpoint_rules()


# the services the emulator tests reach (botocore's models and moto's backends, loaded before any test)
SERVICES = ("cloudformation", "s3", "sts", "ssm", "ec2", "service-quotas", "cloudwatch", "elbv2", "elb", "iam", "ecs",
            "autoscaling", "kms", "dynamodb", "logs")


def pytest_collection_finish(session):
    """ansible-test units runs every test in a fork of its worker (its ansible_forked plugin), so what a test loads
    lazily it loads again in every fork: moto and its backends, the endpoint's rules, botocore's service models -
    over a second a test, four times plain pytest's time.  When an emulator test is selected they are loaded here,
    once per worker, before the forks."""
    if not any(EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items):
        return
    _endpoint_rules()
    import boto3
    from moto.backends import get_backend
    from moto.core.utils import get_service_model

    from ansible_collections.convox.rack.plugins.module_utils.aws._common import known_regions
    known_regions()
    for service in SERVICES:
        boto3.client(service, region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")
        get_service_model(service)                  # moto's own copy, to read requests and word responses
        try:
            get_backend(service.replace("-", ""))
        except (KeyError, ModuleNotFoundError):
            pass


@pytest.fixture
def aws(endpoint_rules):
    from moto import mock_aws
    with mock_aws():
        endpoint_rules.reset()
        yield


@pytest.fixture
def factory(aws):
    import boto3

    from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, botocore_config

    return ClientFactory(lambda service: boto3.client(service, region_name="us-east-1", config=botocore_config()),
                         "us-east-1")


sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, HERE)          # the tests' own helpers (corecompat), under ansible-test's rootdir too

import shared_loader  # noqa: E402  (tools/)

shared_loader.share()       # botocore's JSON parsed once per process, not once per session (tools/shared_loader.py)


# The tiers (make test runs each once): "pure" - no emulator, seconds; "emulator" - moto in-process with the local
# endpoint's rules; the playbook scenarios (tests/integration) are marked "scenario" by their own conftest.
EMULATOR_FIXTURES = frozenset(("aws", "factory", "endpoint_rules"))


def pytest_configure(config):
    config.addinivalue_line("markers", "pure: a unit test without the emulator (no moto): the fast tier")
    config.addinivalue_line("markers", "emulator: a test on moto in-process with the local endpoint's rules")


def pytest_collection_modifyitems(items):
    for item in items:
        module = getattr(item, "module", None)
        imports_moto = module is not None and any(name in vars(module) for name in ("mock_aws", "moto"))
        on_moto = imports_moto or bool(EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ())))
        item.add_marker(pytest.mark.emulator if on_moto else pytest.mark.pure)
