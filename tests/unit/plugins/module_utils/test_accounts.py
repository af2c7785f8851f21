# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts: the options refused before any call, a role's credentials renewing themselves a quarter of their life
before they expire (botocore's 15 minutes at most), a call refused as expired retried once with renewed credentials
and then named, and the account check."""

from __future__ import annotations

import datetime

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import (
    RenewingCredentials,
    check_account_params,
    role_credentials,
    verify_account,
)
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, RetryingClient, describe_aws_error
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

ROLE = "arn:aws:iam::222222222222:role/convox"


@pytest.mark.parametrize("params, message", [
    ({"account_id": "12345"}, 'account_id "12345" is not an AWS account id (12 digits).'),
    ({"assume_role_arn": "convox"},
     'assume_role_arn "convox" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).'),
    ({"assume_role_external_id": "x"}, "assume_role_external_id needs assume_role_arn (the role to assume)."),
    ({"assume_role_arn": ROLE, "assume_role_session_name": "a b"},
     'assume_role_session_name "a b" is not a valid session name (2 to 64 of letters, digits and +=,.@_-).'),
    ({"assume_role_arn": ROLE, "account_id": "333333333333"},
     "assume_role_arn %s is a role of account 222222222222, not of account_id 333333333333; nothing was read or "
     "changed." % ROLE),
])
def test_account_options_that_cannot_be_right_are_refused(params, message):
    with pytest.raises(ConvoxError) as err:
        check_account_params(params)
    assert err.value.msg == message


def test_account_options_that_can_be_right_pass():
    check_account_params({})
    check_account_params({"account_id": "222222222222", "assume_role_arn": ROLE, "assume_role_external_id": "x",
                          "assume_role_session_name": "fleet@acme"})
    check_account_params({"assume_role_arn": "arn:aws-cn:iam::222222222222:role/path/convox"})


class FakeSts:
    """Hands out credentials living ``life`` seconds, counting the AssumeRole calls."""

    def __init__(self, life):
        self.life = life
        self.calls = []

    def assume_role(self, **kwargs):
        self.calls.append(kwargs)
        now = datetime.datetime.now(datetime.timezone.utc)
        return {"Credentials": {"AccessKeyId": "ASIA%d" % len(self.calls), "SecretAccessKey": "s", "SessionToken": "t",
                                "Expiration": now + datetime.timedelta(seconds=self.life)}}


@pytest.mark.parametrize("life, advisory, mandatory", [(3600, 900, 600), (43200, 900, 600), (60, 15, 10)])
def test_a_role_s_credentials_renew_a_quarter_of_their_life_before_they_expire(life, advisory, mandatory):
    sts = FakeSts(life)
    creds = role_credentials(sts, ROLE, external_id="ext", session_name="fleet")
    assert sts.calls == []                                            # deferred: nothing until first use
    assert creds.get_frozen_credentials().access_key == "ASIA1"
    assert sts.calls == [{"RoleArn": ROLE, "RoleSessionName": "fleet", "ExternalId": "ext"}]
    assert creds._advisory_refresh_timeout == pytest.approx(advisory, abs=1)
    assert creds._mandatory_refresh_timeout == pytest.approx(mandatory, abs=1)
    for dummy in range(5):                                            # live credentials: no AssumeRole per call
        assert creds.get_frozen_credentials().access_key == "ASIA1"
    assert len(sts.calls) == 1


def test_credentials_near_their_end_are_renewed_before_use():
    sts = FakeSts(60)
    creds = role_credentials(sts, ROLE)
    creds.get_frozen_credentials()
    assert sts.calls[0]["RoleSessionName"] == "convox-rack"
    # 8 seconds left: inside the mandatory window (10 s of a 60 s life): the next use blocks for new ones
    creds._expiry_time = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=8)
    assert creds.get_frozen_credentials().access_key == "ASIA2"
    assert creds.renewals == 2


def expired(operation="DescribeStacks"):
    return botocore.exceptions.ClientError(
        {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"},
         "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


class Client:
    """A client whose describe_stacks fails as expired ``fails`` times."""

    def __init__(self, fails):
        self.fails = fails
        self.calls = 0

    def describe_stacks(self, **kwargs):
        self.calls += 1
        if self.calls <= self.fails:
            raise expired()
        return {"Stacks": []}


def test_a_call_refused_as_expired_is_retried_once_with_renewed_credentials():
    renewed = []
    client = RetryingClient(Client(fails=1), renew=lambda: renewed.append(1))
    assert client.describe_stacks() == {"Stacks": []}
    assert renewed == [1]


def test_a_call_refused_as_expired_twice_fails_naming_the_expired_token():
    renewed = []
    client = RetryingClient(Client(fails=2), renew=lambda: renewed.append(1))
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client.describe_stacks()
    assert renewed == [1] and client.client.calls == 2
    assert describe_aws_error(err.value, "reading stack prod") == (
        "reading stack prod failed: the AWS credentials expired (ExpiredToken: The security token included in the "
        "request is expired); renew them - an assumed role (assume_role_arn) renews its own.")


def test_without_a_role_an_expired_token_is_not_retried():
    client = RetryingClient(Client(fails=1))
    with pytest.raises(botocore.exceptions.ClientError):
        client.describe_stacks()
    assert client.client.calls == 1


def test_renew_forces_new_credentials():
    sts = FakeSts(3600)
    creds = role_credentials(sts, ROLE)
    assert isinstance(creds, RenewingCredentials)
    creds.get_frozen_credentials()
    creds.renew()
    assert creds.get_frozen_credentials().access_key == "ASIA2"


@mock_aws
def test_the_account_check_names_both_accounts():
    factory = ClientFactory(lambda service: boto3.client(service, region_name="us-east-1"), "us-east-1")
    verify_account(factory, {"account_id": "123456789012"})
    verify_account(factory, {})
    with pytest.raises(ConvoxError) as err:
        verify_account(factory, {"account_id": "111111111111"})
    assert err.value.msg == ("the credentials are of account 123456789012 (arn:aws:sts::123456789012:user/moto), not "
                             "of account_id 111111111111; nothing was read or changed.")


def test_a_role_is_assumed_in_each_region_through_that_region_s_sts_endpoint():
    """One credential per role and region: assumed through the STS client of the region it is used in, so a rack in
    an opt-in region never signs with a token of the global endpoint (refused there)."""
    import boto3

    from ansible_collections.convox.rack.plugins.module_utils.aws import _accounts
    from ansible_collections.convox.rack.plugins.module_utils.aws._common import botocore_config

    _accounts._ROLES.clear()
    endpoints = []

    def source(region):
        def make(service):
            client = boto3.client(service, region_name=region, config=botocore_config())
            if service == "sts":
                endpoints.append(client.meta.endpoint_url)
            return client
        return ClientFactory(make, region)

    with mock_aws():
        params = {"assume_role_arn": "arn:aws:iam::123456789012:role/convox"}
        first = _accounts.role_session(source("af-south-1"), params)
        again = _accounts.role_session(source("af-south-1"), params)
        other = _accounts.role_session(source("eu-west-1"), params)
    assert first is again and other is not first
    assert endpoints[0] == "https://sts.af-south-1.amazonaws.com"
    _accounts._ROLES.clear()
