# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts and hours: the local endpoint's accounts (roles trusting a base account, external ids, assumed-role
credentials that expire and are then refused as AWS refuses them), the account check on both ways a task runs, and
a fleet in three accounts x two regions, found through the inventory's ``accounts``, converged and updated - each
rack only in its own account - while credentials expire every 60 seconds, in real-duration mode."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import boto3
import botocore.config
import botocore.exceptions
import localaws
import pytest
import yaml
from conftest import BIN, REPO
from safety import entry, run_tasks, write_channel

BASE = "123456789012"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
ROLE = "arn:aws:iam::%s:role/convox-fleet"


def roles(aws, credential_seconds=None):
    """A convox-fleet role in each account trusting the base account (the second asking for an external id)."""
    return localaws.set_accounts(aws.endpoint, [
        {"account": account, "name": "convox-fleet", "trusts": BASE,
         "external_id": "acme-fleet" if account == ACCOUNTS[1] else None} for account in ACCOUNTS],
        credential_seconds=credential_seconds)


def assumed(aws, account, external_id=None):
    sts = aws.client("sts")
    kwargs = {"ExternalId": external_id} if external_id else {}
    creds = sts.assume_role(RoleArn=ROLE % account, RoleSessionName="test", **kwargs)["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])


def client_in(aws, account, service, region="us-east-1"):
    session = assumed(aws, account, "acme-fleet" if account == ACCOUNTS[1] else None)
    return session.client(service, region_name=region, endpoint_url=aws.endpoint,
                          config=botocore.config.Config(retries={"max_attempts": 1}))


def stacks(aws, account, region):
    """{name: (status, Version)} of the live stacks of an account and region (the base account: None)."""
    cfn = aws.client("cloudformation", region) if account is None else client_in(aws, account, "cloudformation", region)
    out = {}
    for s in cfn.describe_stacks()["Stacks"]:
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in s.get("Parameters", [])}
        out[s["StackName"]] = (s["StackStatus"], parameters.get("Version"))
    return out


# -- the endpoint itself -----------------------------------------------------------------------------------------
def test_the_endpoint_refuses_an_untrusted_role_and_expired_credentials(aws):
    sts = aws.client("sts")

    def refused(**kwargs):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            sts.assume_role(RoleSessionName="test", **kwargs)
        return err.value.response

    answer = refused(RoleArn=ROLE % ACCOUNTS[0])                  # no such role yet
    assert (answer["Error"]["Code"], answer["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert answer["Error"]["Message"] == ("User: arn:aws:iam::%s:user/moto is not authorized to perform: "
                                          "sts:AssumeRole on resource: %s" % (BASE, ROLE % ACCOUNTS[0]))
    roles(aws, credential_seconds=2)
    assert refused(RoleArn=ROLE % ACCOUNTS[1])["Error"]["Code"] == "AccessDenied"         # without its external id
    assert refused(RoleArn=ROLE % ACCOUNTS[1], ExternalId="other")["Error"]["Code"] == "AccessDenied"
    session = assumed(aws, ACCOUNTS[1], "acme-fleet")
    clients = {service: session.client(service, region_name="us-east-1", endpoint_url=aws.endpoint,
                                       config=botocore.config.Config(retries={"max_attempts": 1}))
               for service in ("sts", "cloudformation", "s3", "ec2", "service-quotas")}
    assert clients["sts"].get_caller_identity()["Account"] == ACCOUNTS[1]
    # a role of one account cannot assume another account's role (it trusts the base account only)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        clients["sts"].assume_role(RoleArn=ROLE % ACCOUNTS[2], RoleSessionName="test")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    time.sleep(2.2)
    answers = {}
    for service, call in (("sts", "get_caller_identity"), ("cloudformation", "describe_stacks"),
                          ("s3", "list_buckets"), ("ec2", "describe_vpcs"), ("service-quotas", "list_services")):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            getattr(clients[service], call)()
        answers[service] = (err.value.response["Error"]["Code"], err.value.response["Error"]["Message"])
    assert answers == {
        "sts": ("ExpiredToken", "The security token included in the request is expired"),
        "cloudformation": ("ExpiredToken", "The security token included in the request is expired"),
        "s3": ("ExpiredToken", "The provided token has expired."),
        "ec2": ("RequestExpired", "Request has expired."),
        "service-quotas": ("ExpiredTokenException", "The security token included in the request is expired")}


# -- the account check ------------------------------------------------------------------------------------------
def test_a_rack_of_another_account_is_refused_naming_both_and_nothing_changes(aws, tmp_path):
    roles(aws)
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    aws.recording.mark()
    rack = {"name": "prod", "channel": channel, "version": "1", "termination_protection": False}
    results = run_tasks(aws, tmp_path, [
        {"convox.rack.rack": dict(rack, account_id="999999999999")},
        {"convox.rack.rack": dict(rack, account_id="999999999999"), "check_mode": True},
        {"convox.rack.rack": dict(rack, assume_role_arn=ROLE % ACCOUNTS[0], account_id=ACCOUNTS[2])},
        {"convox.rack.rack": dict(rack, assume_role_arn=ROLE % ACCOUNTS[0], account_id="111111111112")},
        {"convox.rack.rack_info": {"account_id": "999999999999"}},
    ])
    mismatch = ("the credentials are of account %s (arn:aws:iam::%s:user/moto), not of account_id 999999999999; "
                "nothing was read or changed." % (BASE, BASE))
    # moto answers GetCallerIdentity for its default user with an sts ARN
    assert [r["msg"].replace("arn:aws:sts::", "arn:aws:iam::") for r in results] == [
        mismatch, mismatch,
        "assume_role_arn %s is a role of account %s, not of account_id %s; nothing was read or changed."
        % (ROLE % ACCOUNTS[0], ACCOUNTS[0], ACCOUNTS[2]),
        "assume_role_arn %s is a role of account %s, not of account_id 111111111112; nothing was read or changed."
        % (ROLE % ACCOUNTS[0], ACCOUNTS[0]),
        mismatch]
    assert all(r["failed"] and not r.get("changed") for r in results)
    assert stacks(aws, None, "us-east-1") == {} and stacks(aws, ACCOUNTS[0], "us-east-1") == {}
    # (the test's own AssumeRole, reading account 1 above, aside)
    assert [c for c in aws.recording.mutating(include_plan=True) if c[0] != "sts"] == []


# -- a fleet in three accounts and two regions, for minutes, with credentials expiring every minute ---------------
T = 10              # seconds each stack operation takes (real-duration mode)
CREDENTIALS = 35    # seconds assumed-role credentials live (the run takes more than twice that)


def rack_name(account, region):
    return "a%s-%s" % (account[0], "use1" if region == "us-east-1" else "euw1")


def test_a_fleet_across_accounts_moves_every_rack_in_its_own_account_while_credentials_expire(aws, tmp_path):
    made = roles(aws, credential_seconds=CREDENTIALS)
    assert made == [ROLE % account for account in ACCOUNTS]
    channel = write_channel(str(tmp_path / "channel"),
                            [entry("1"), entry("2", required=True), entry("3")])
    # the racks, installed in their accounts through each account's role (the module)
    tasks = [{"convox.rack.rack": {"name": rack_name(account, region), "region": region, "channel": channel,
                                   "version": "1", "termination_protection": False, "org": "org%s" % account[0],
                                   "assume_role_arn": ROLE % account, "account_id": account,
                                   "assume_role_external_id": "acme-fleet" if account == ACCOUNTS[1] else None},
              "ignore_errors": False}
             for account in ACCOUNTS for region in REGIONS]
    for task in tasks:
        task["convox.rack.rack"] = {k: v for k, v in task["convox.rack.rack"].items() if v is not None}
    results = run_tasks(aws, tmp_path, tasks)
    assert all(r.get("changed") and not r.get("failed") for r in results), results
    for account in ACCOUNTS:
        for region in REGIONS:
            assert stacks(aws, account, region) == {rack_name(account, region): ("CREATE_COMPLETE", "1")}
    assert all(stacks(aws, None, region) == {} for region in REGIONS)

    # the inventory finds them through the accounts option; group_vars hold the targets
    inventory = tmp_path / "fleet.racks.yml"
    inventory.write_text(yaml.safe_dump({
        "plugin": "convox.rack.racks", "regions": list(REGIONS),
        "accounts": [{"assume_role_arn": ROLE % ACCOUNTS[0], "org": "org1"},
                     {"assume_role_arn": ROLE % ACCOUNTS[1], "external_id": "acme-fleet", "org": "org2"},
                     {"assume_role_arn": ROLE % ACCOUNTS[2], "org": "org3"}],
        "groups": {"canary": "rack_name == '%s'" % rack_name(ACCOUNTS[0], REGIONS[0])}}))
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_python_interpreter": "{{ ansible_playbook_python }}", "rack_channel": channel, "rack_version": "1",
        "rack_termination_protection": False}))
    listing = json.loads(subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(inventory), "--list"],
                                        env=aws.env(), capture_output=True, text=True, check=True).stdout)
    hostvars = listing["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(rack_name(a, r) for a in ACCOUNTS for r in REGIONS)
    for account in ACCOUNTS:
        host = hostvars[rack_name(account, REGIONS[1])]
        plain = {k: v.get("__ansible_unsafe", v) if isinstance(v, dict) else v for k, v in host.items()}
        assert plain["rack_account_id"] == account and plain["rack_assume_role_arn"] == ROLE % account
        assert plain["rack_org"] == "org%s" % account[0]
    assert "account_%s" % ACCOUNTS[2] in listing

    env = {"ANSIBLE_FORKS": "5"}
    localaws.set_timing(aws.endpoint, seconds=T)
    aws.recording.mark()
    started = time.monotonic()
    # site.yml at the racks' own release: every rack is read in its own account and left as it is (a rack looked
    # up in the wrong account would be installed there)
    out = aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=str(inventory), cwd=REPO, env=env)
    assert sorted(line.strip().strip('",') for line in out.splitlines() if ": none 1 -> 1" in line) == sorted(
        "%s: none 1 -> 1" % rack_name(a, r) for a in ACCOUNTS for r in REGIONS), out[-3000:]
    assert "changed=1" not in out and "failed=1" not in out, out[-3000:]
    # update.yml to the latest release, through the required one: the canary, then batches of two
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=str(inventory), cwd=REPO, env=env,
                       extra_vars={"rack_version": "latest", "convox_batch_size": 2,
                                   "convox_report_dir": str(tmp_path / "report")})
    elapsed = time.monotonic() - started
    assert "0 failed, 6 updated, 0 up to date, 0 skipped" in out, out[-4000:]
    # progress while racks wait, printed as each rack changes state: the canary, then 3 batches (2, 2, 1 racks)
    for line in ("canary: 0/1 done, 1 updating, 0 failed", "canary: 1/1 done, 0 updating, 0 failed",
                 "batch 1/3: 0/2 done, 2 updating, 0 failed", "batch 1/3: 2/2 done, 0 updating, 0 failed",
                 "batch 3/3: 0/1 done, 1 updating, 0 failed", "batch 3/3: 1/1 done, 0 updating, 0 failed"):
        assert line in out, (line, out[-6000:])
    assert out.index("batch 1/3: 2/2 done") < out.index("batch 2/3: 0/2 done") < out.index("batch 3/3: 1/1 done")
    assert elapsed > 2 * CREDENTIALS, elapsed       # the run outlived its credentials twice over
    for account in ACCOUNTS:
        assert "account %s, region us-east-1: VPCs" % account in out, out[:4000]
        for region in REGIONS:
            assert stacks(aws, account, region) == {rack_name(account, region): ("UPDATE_COMPLETE", "3")}
    assert all(stacks(aws, None, region) == {} for region in REGIONS)     # nothing in the base account
    # every step in its own account, in order, no required release skipped
    log = localaws.transitions(aws.endpoint)["transitions"]
    for account in ACCOUNTS:
        for region in REGIONS:
            versions = [v for dummy, r, stack, status, v in log
                        if stack == rack_name(account, region) and status == "UPDATE_IN_PROGRESS"]
            assert versions == ["2", "3"], (account, region, versions)
    # the roles' credentials were renewed as they neared their end (each lives 60 s): more AssumeRole calls than
    # one per account, and not one per request
    assume = aws.recording.params("AssumeRole")
    assert len(assume) > 2 * len(ACCOUNTS), len(assume)


# -- a named profile ---------------------------------------------------------------------------------------------

PROFILE_PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Racks, as the profile
      convox.rack.rack_info:
        profile: "{{ profile }}"
        region: us-east-1
      register: listed
    - name: A rack install planned, as the profile (a client of CloudFormation, S3, EC2, SSM, ... from its session)
      convox.rack.rack:
        name: profiled
        profile: "{{ profile }}"
        region: us-east-1
        channel: "{{ channel }}"
        version: "1"
      check_mode: true
"""


def test_a_module_signs_every_call_with_the_profile_it_is_given_and_names_a_missing_one(aws, tmp_path):
    """Every client of a module run comes from one session (module_utils/aws/_common.connection_factory): each must
    sign with the task's profile - from the shared credentials file, ahead of the environment's keys - and a profile
    that does not exist fails the task naming it, before any request."""
    channel = write_channel(str(tmp_path / "channel"), [entry("1")])
    (tmp_path / "config").write_text("[profile fleet]\nregion = eu-west-1\n")
    (tmp_path / "credentials").write_text("[fleet]\naws_access_key_id = AKIAFLEETPROFILE0001\n"
                                          "aws_secret_access_key = fleet-secret\n")
    play = tmp_path / "profile.yml"
    play.write_text(PROFILE_PLAY)
    # no keys in the environment: amazon.aws refuses a profile beside keys
    env = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
           "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}

    rec = aws.recording.mark()
    out = aws.playbook(str(play), extra_vars={"profile": "fleet", "channel": channel}, env=env)
    assert "changed=1" in out and "failed=0" in out, out[-3000:]
    keys, agents = set(), set()
    for record in rec._entries():
        auth = record.get("headers", {}).get("Authorization", "")
        keys.add(auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else auth)
        agents.add(bool(re.search(r"APN/1\.0 Ansible/2\.\d+\.\d+ convox\.rack", record["headers"].get("User-Agent", ""))))
    services = {service for service, dummy, dummy2 in rec.calls()}
    assert keys == {"AKIAFLEETPROFILE0001"}, keys
    assert agents == {True}       # CloudTrail's userAgent names Ansible and the collection, as amazon.aws's modules do
    assert {"cloudformation", "ec2", "iam", "servicequotas"} <= services, services
    assert rec.mutating() == []

    rec.mark()
    out = aws.playbook(str(play), extra_vars={"profile": "missing", "channel": channel}, env=env, expect_rc=2)
    assert "The config profile (missing) could not be found." in out, out[-3000:]
    assert rec.calls() == []
