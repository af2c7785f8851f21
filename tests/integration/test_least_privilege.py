# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/iam-policy.json is enough and nothing in it is spare.

* Through ansible-playbook against the local AWS server with IAM enforcement on, an IAM user
  holding only that policy installs, updates and uninstalls a rack and an app; without one action
  (a collection call, and a permission CloudFormation needs) the step fails naming the action.
* In-process (moto ``mock_aws``, for speed), the whole lifecycle (install, plan, update through a
  release that touches every resource, in-place change, an explained failure, recovery,
  uninstall with non-empty buckets) runs as that user; then, once per action in the policy, the
  same lifecycle runs without that action and must fail with a message naming it.

CloudFormation's own calls into EC2, ECS, IAM, ... are made with the caller's permissions, as on
AWS without a service role; tools/localaws/iam.py enforces them from tools/cfn_handler_permissions.json,
whose every entry must be one AWS publishes for that resource type (cfn-lint's copy of the
resource schemas)."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import sys
from contextlib import contextmanager

import localaws
import pytest
import yaml
from conftest import REPO, target

sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))
from localaws import hooks, iam, parts  # noqa: E402  (tools/, on sys.path via conftest)

from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, botocore_config  # noqa: E402
from ansible_collections.convox.rack.plugins.module_utils.fleet import _fleet  # noqa: E402
from ansible_collections.convox.rack.plugins.module_utils.managers._app import AppManager  # noqa: E402
from ansible_collections.convox.rack.plugins.module_utils.managers._publish import ReleaseManager  # noqa: E402
from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager  # noqa: E402
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError  # noqa: E402

POLICY = json.load(open(os.path.join(REPO, "docs", "iam-policy.json")))
CHANNEL = "s3://convox-releases/rack"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def in_process_env(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    parts.apply()


def policy_actions(policy):
    return [a for st in policy["Statement"] for a in st["Action"]]


def without(policy, action):
    out = copy.deepcopy(policy)
    for st in out["Statement"]:
        st["Action"] = [a for a in st["Action"] if a != action]
    out["Statement"] = [st for st in out["Statement"] if st["Action"]]
    return out


_FORMATION: dict = {}


def formation(kind):
    """formation/<kind>.yml, parsed once per worker (a copy each time: the tests change it)."""
    if kind not in _FORMATION:
        with open(os.path.join(REPO, "formation", "%s.yml" % kind)) as f:
            _FORMATION[kind] = yaml.safe_load(f)
    return copy.deepcopy(_FORMATION[kind])


def touched(template, release, size=0):
    """The same template with every resource changed (CloudFormation modifies each one), padded to ``size`` bytes."""
    out = copy.deepcopy(template)
    for res in out["Resources"].values():
        res["Metadata"] = {"Release": release}
    if size:
        out.setdefault("Metadata", {})["Padding"] = ""
        out["Metadata"]["Padding"] = "x" * max(0, size - len(json.dumps(out, separators=(",", ":"))))
    return out


@contextmanager
def enforcing():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


_ADMIN: dict = {}


def admin_client(service):
    """The test harness's client of ``service`` (the environment's keys), one per worker: moto's handler is on every
    client, whichever mock_aws block made it."""
    import boto3
    if service not in _ADMIN:
        _ADMIN[service] = boto3.session.Session(region_name=REGION).client(service)
    return _ADMIN[service]


def operator(policy, name="operator"):
    """A client factory for an IAM user holding only ``policy`` (created with IAM off)."""
    import boto3
    iam = admin_client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="convox-rack", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    session = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                    region_name=REGION)
    return ClientFactory(lambda service: session.client(service, config=botocore_config()), REGION)


def publish(tmp_path, client=None):
    """Release 1 is formation/ as is; release 2 changes every rack and app resource, and its rack template is over
    CloudFormation's request limit (CloudFormation reads it from the channel's bucket, whose region it names)."""
    client = client or admin_client
    client("s3").create_bucket(Bucket="convox-releases")
    # versioned, as the guide advises: CloudFormation then reads each template by its version (s3:GetObjectVersion)
    client("s3").put_bucket_versioning(Bucket="convox-releases", VersioningConfiguration={"Status": "Enabled"})
    admin = ClientFactory(client, REGION)
    for version, change in (("1", False), ("2", True)):
        src = tmp_path / ("release-%s" % version)
        src.mkdir(exist_ok=True)
        for kind in ("rack", "app"):
            tpl = touched(formation(kind), version, 60000 if kind == "rack" else 0) if change else formation(kind)
            (src / ("%s.json" % kind)).write_text(json.dumps(tpl))
        ReleaseManager({"channel": CHANNEL, "version": version, "src": str(src), "published": True, "required": False,
                        "description": ""}, client_factory=admin).present()


# what the managers warned about: a warning that an action was refused (a quota read that fell back to AWS's
# defaults) counts as that step's failure, since the policy must grant it
WARNINGS: list = []


# stack options every rack and app of the lifecycle gets (the service-role setup sets role_arn)
STACK_OPTIONS: dict = {}


def rack(factory, **params):
    base = {"name": "prod", "state": "present", "org": "acme", "channel": CHANNEL, "version": "1", "tags": {}, "purge_tags": True,
            "parameters": {"Private": "Yes", "AvailabilityZones": "3"}, "termination_protection": True, "max_steps": 0,
            "allow_downgrade": False, "force": False, "recover": False, "wait": True, "wait_timeout": 60, "releases": None}
    base.update(STACK_OPTIONS)
    base.update(params)
    check = base.pop("check", False)
    return RackManager(base, check_mode=check, client_factory=factory, sleep=lambda s: None, warn=WARNINGS.append)


def app(factory, **params):
    base = {"name": "webapp", "rack": "prod", "state": "present", "channel": CHANNEL, "parameters": {}, "tags": {},
            "purge_tags": True, "wait": True, "wait_timeout": 60}
    base.update(STACK_OPTIONS)
    base.update(params)
    return AppManager(base, False, client_factory=factory, sleep=lambda s: None, warn=WARNINGS.append)


def rack_bucket():
    cfn = admin_client("cloudformation")
    res = cfn.list_stack_resources(StackName="prod")["StackResourceSummaries"]
    return next(r["PhysicalResourceId"] for r in res if r["LogicalResourceId"] == "Settings")


def lifecycle(factory):
    """(step, outcome) pairs; an outcome is "ok" or the error message.  Stops at the first
    step whose outcome is not the expected one."""
    params = {"Private": "Yes", "AvailabilityZones": "3"}

    def failed_update_named():
        def fail_next_update():
            hooks.FAIL_UPDATES["prod"] = {
                "logical_id": "Instances", "type": "AWS::AutoScaling::AutoScalingGroup",
                "reason": "Received 0 SUCCESS signal(s) out of 2"}
        with_admin(fail_next_update)
        try:
            rack(factory, version="2", parameters=dict(params, InstanceCount=4)).present()
        except ConvoxError as exc:
            return "ok" if "Received 0 SUCCESS signal(s)" in str(exc) else str(exc)
        return "the update was expected to fail"

    def recover():
        def stuck():
            hooks.FAIL_UPDATES.pop("prod", None)
            hooks.set_stack({"stack_name": "prod", "status": "UPDATE_ROLLBACK_FAILED"})
        with_admin(stuck)
        return rack(factory, version="2", recover=True).present()

    def recover_rolled_back():
        # an update left UPDATE_FAILED (rollback disabled): recover rolls it back with RollbackStack first
        with_admin(lambda: hooks.set_stack({"stack_name": "prod", "status": "UPDATE_FAILED"}))
        return rack(factory, version="2", recover=True).present()

    def plan_with_drift():
        drift = rack(factory, version="2", check=True, drift=True).present()["drift"]
        # a resource the policy cannot read fails the detection in part: not checked, naming the action
        return "ok" if drift["status"] in ("IN_SYNC", "DRIFTED") else drift["reason"]

    def fleet_engine_change():
        # a fleet batch (rack_batch's engine): the batch's listing, then waits shared through ListStacks
        racks = [("prod", rack(factory, version="2", parameters=dict(params, InstanceCount=3)).params)]
        saved = _fleet.FIRST_POLL_DELAY
        _fleet.FIRST_POLL_DELAY = 0.01
        try:
            result = _fleet.Batch(racks, False, lambda p: factory, poll_interval=0.05).run()["prod"]
        finally:
            _fleet.FIRST_POLL_DELAY = saved
        for warning in result.get("warnings") or []:
            WARNINGS.append(warning)
        return result["msg"] if result.get("failed") else "ok"

    def uninstall_rack():
        with_admin(lambda: admin_client("s3").put_object(Bucket=rack_bucket(), Key="env/web", Body=b"x"))
        return rack(factory, state="absent").absent()

    steps = [
        ("install rack", lambda: rack(factory).present()),
        ("install app", lambda: app(factory).present()),
        ("plan rack update with drift detection (check mode)", plan_with_drift),
        ("update rack to a release changing every resource", lambda: rack(factory, version="2").present()),
        ("update app to its rack's new release", lambda: app(factory).present()),
        ("change a rack parameter in place",
         lambda: rack(factory, version="2", parameters=dict(params, InstanceCount=2)).present()),
        ("change a rack parameter through the fleet engine", fleet_engine_change),
        ("a failed update names its cause", failed_update_named),
        ("recover from UPDATE_ROLLBACK_FAILED", recover),
        ("recover from UPDATE_FAILED (RollbackStack)", recover_rolled_back),
        ("uninstall app", lambda: app(factory, state="absent").absent()),
        ("uninstall rack with objects in its buckets", uninstall_rack),
    ]
    outcomes = []
    for name, run in steps:
        del WARNINGS[:]
        try:
            result = run()
            outcome = result if isinstance(result, str) else "ok"
        except ConvoxError as exc:
            outcome = str(exc)
        refused = [w for w in WARNINGS if "not authorized to perform" in w]
        if outcome == "ok" and refused:
            outcome = refused[0]
        outcomes.append((name, outcome))
        if outcome != "ok":
            break
    return outcomes


def with_admin(fn):
    """Run ``fn`` as the test harness (IAM enforcement paused)."""
    from moto import settings
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    try:
        return fn()
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def run_as(policy, tmp_path):
    from moto import mock_aws
    with mock_aws():
        publish(tmp_path)
        factory = operator(policy)
        try:
            with enforcing():
                outcomes = lifecycle(factory)
            stacks = with_admin(lambda: [s["StackName"] for s in admin_client("cloudformation").describe_stacks()["Stacks"]])
            buckets = with_admin(lambda: [b["Name"] for b in admin_client("s3").list_buckets()["Buckets"]])
        finally:
            hooks.FAIL_UPDATES.clear()
    return outcomes, stacks, buckets


def test_the_policy_runs_the_whole_lifecycle(tmp_path):
    outcomes, stacks, buckets = run_as(POLICY, tmp_path)
    assert [o for o in outcomes if o[1] != "ok"] == []
    assert len(outcomes) == 12
    assert stacks == [] and buckets == ["convox-releases"]


@pytest.mark.parametrize("action", sorted(set(policy_actions(POLICY))))
def test_dropping_any_action_fails_naming_it(action, tmp_path):
    outcomes, dummy, dummy2 = run_as(without(POLICY, action), tmp_path)
    failed = [(step, outcome) for step, outcome in outcomes if outcome != "ok"]
    assert failed, "the lifecycle passed without %s: it is not needed, drop it from docs/iam-policy.json" % action
    step, message = failed[0]
    # AWS names the action ("not authorized to perform: X"), except in the per-object errors of
    # DeleteObjects ("AccessDenied: Access Denied"), where the collection names it
    # a wildcard action is named by the action of it that was refused
    named = action in message or any(fnmatch.fnmatchcase(n, action) for n in re.findall(r"perform: ([\w:*-]+)", message))
    assert named and re.search("not authorized to perform|AccessDenied", message), (step, message)


def needed_by_cloudformation():
    """What CloudFormation needs of the operator for formation/: each type's create, update and delete handler
    permissions and tagging permissions (every stack is tagged), the read ones of the rack's types (drift detection
    runs on racks), and the stack's own (SSM parameters, Fn::GetAZs); an action a wildcard of the set covers is
    not listed on its own."""
    model = iam.handler_permissions()
    rack_types = {r["Type"] for r in formation("rack")["Resources"].values()}
    types = rack_types | {r["Type"] for r in formation("app")["Resources"].values()}
    assert types <= set(model["resources"]), "a resource type of formation/ has no entry in the handler model"
    templates = [formation("rack"), formation("app")]
    needed = set()
    if any(str((p or {}).get("Type", "")).startswith("AWS::SSM::Parameter::")
           for t in templates for p in (t.get("Parameters") or {}).values()):
        needed |= set(model["stack"]["ssm_parameters"])
    if "Fn::GetAZs" in json.dumps(templates):
        needed |= set(model["stack"]["availability_zones"])
    if any(str((p or {}).get("Type", "")) == "AWS::EC2::Image::Id"
           for t in templates for p in (t.get("Parameters") or {}).values()):
        needed |= set(model["stack"]["image_parameters"])
    # the release of the lifecycle over CloudFormation's request limit is read by TemplateURL, of a version
    needed |= set(model["stack"]["template_url"]) | set(model["stack"]["template_url_version"])
    for rtype in types:
        for op in ("create", "update", "delete"):
            needed |= set(model["resources"][rtype][op])
        needed |= set(iam.tagging_permissions(rtype))
    for rtype in rack_types:
        needed |= set(model["resources"][rtype]["read"])
    patterns = [a for a in needed if "*" in a]
    return {a for a in needed if "*" in a or not any(fnmatch.fnmatchcase(a, p) for p in patterns)}


def test_the_policy_is_the_collection_calls_plus_the_handler_model():
    by_sid = {st["Sid"]: set(st["Action"]) for st in POLICY["Statement"]}
    collection = set().union(*(actions for sid, actions in by_sid.items() if sid not in ROLE_STATEMENTS))
    # what CloudFormation needs that the collection's own statements do not already grant
    assert set().union(*(by_sid[sid] for sid in ROLE_STATEMENTS)) == needed_by_cloudformation() - collection
    assert by_sid["CloudFormationPassesRackRolesToTheirServices"] == {"iam:PassRole"}
    assert all(a.startswith("cloudformation:") for a in by_sid["CollectionCallsCloudFormation"])
    assert all(st["Effect"] == "Allow" and st["Resource"] == "*" for st in POLICY["Statement"])
    # iam:PassRole only to the services the templates pass roles to (the endpoint evaluates the condition)
    passing, = [st for st in POLICY["Statement"] if st["Sid"] == "CloudFormationPassesRackRolesToTheirServices"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": sorted(set(iam.PASSED_TO.values()))}}
    assert all("Condition" not in st for st in POLICY["Statement"] if st is not passing)


def test_the_handler_model_is_what_aws_publishes():
    """Each modelled action appears in the AWS resource schema's handler permissions for that
    type and operation (cfn-lint ships the schemas)."""
    import cfnlint
    schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
    with open(os.path.join(schemas, "providers", "us-east-1.json")) as f:
        index = json.load(f)
    unknown = []
    for rtype, ops in iam.handler_permissions()["resources"].items():
        with open(os.path.join(schemas, "resources", "%s.json" % index[rtype])) as f:
            handlers = json.load(f).get("handlers", {})
        for op, actions in ops.items():
            published = handlers.get(op, {}).get("permissions", [])
            unknown += ["%s %s %s" % (rtype, op, a) for a in actions
                        if not any(fnmatch.fnmatchcase(a, p) for p in published)]
    assert unknown == []


def test_denied_resource_names_resource_and_action(tmp_path):
    """What an operator sees when the policy lacks a handler permission."""
    outcomes, stacks, dummy = run_as(without(POLICY, "ec2:CreateNatGateway"), tmp_path)
    step, message = outcomes[-1]
    assert step == "install rack"
    assert re.search(r"installing version 1 failed for rack prod: AWS::EC2::NatGateway Nat\d .*CREATE_FAILED: .*is not "
                     r"authorized to perform: ec2:CreateNatGateway.*; the stack is now ROLLBACK_COMPLETE\.$", message), message


# -- through ansible-playbook, against the local AWS server ------------------------------------
def grant(aws, policy):
    """Give the IAM user "operator" exactly ``policy`` (IAM enforcement paused); its keys."""
    iam = aws.client("iam")
    if not iam.list_users()["Users"]:
        iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="convox-rack", PolicyDocument=json.dumps(policy))
    keys = iam.list_access_keys(UserName="operator")["AccessKeyMetadata"]
    for key in keys:
        iam.delete_access_key(UserName="operator", AccessKeyId=key["AccessKeyId"])
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@contextmanager
def server_enforcing(aws):
    localaws.post(aws.endpoint, "/moto-api/reset-auth", 0)
    try:
        yield
    finally:
        localaws.post(aws.endpoint, "/moto-api/reset-auth", float("inf"))


def operator_step(aws, creds, version, state, expect_rc=0):
    return aws.playbook(target("least_privilege"), env=creds, expect_rc=expect_rc,
                        extra_vars={"channel": CHANNEL, "version": version, "state": state})


def test_operator_lifecycle_through_ansible_with_iam_enforced(aws, tmp_path):
    publish(tmp_path, aws.client)
    creds = grant(aws, POLICY)
    with server_enforcing(aws):
        # the harness's own keys are refused now: enforcement is really on
        with pytest.raises(Exception, match="InvalidClientTokenId|not authorized|security token"):
            aws.client("cloudformation").describe_stacks()
        operator_step(aws, creds, "1", "present")
        operator_step(aws, creds, "2", "present")
        operator_step(aws, creds, "2", "absent")
    assert aws.client("cloudformation").describe_stacks()["Stacks"] == []
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["convox-releases"]


@pytest.mark.parametrize("action, step, expected", [
    # a call the collection makes itself
    ("cloudformation:DeleteStack", ("2", "absent"),
     r"deleting .*failed: access denied \(User: arn:aws:iam::123456789012:user/operator is not authorized to "
     r"perform: cloudformation:DeleteStack\)"),
    # a call CloudFormation makes with the operator's permissions
    ("elasticloadbalancing:ModifyRule", ("2", "present"),
     r"updating to 2 failed for app webapp on rack prod: AWS::ElasticLoadBalancingV2::ListenerRule ListenerRule .*UPDATE_FAILED: .*is not "
     r"authorized to perform: elasticloadbalancing:ModifyRule"),
])
def test_a_missing_action_fails_the_step_naming_it(aws, tmp_path, action, step, expected):
    publish(tmp_path, aws.client)
    creds = grant(aws, POLICY)
    with server_enforcing(aws):
        operator_step(aws, creds, "1", "present")
    creds = grant(aws, without(POLICY, action))
    with server_enforcing(aws):
        out = operator_step(aws, creds, step[0], step[1], expect_rc=2)
    assert re.search(expected, out), out[-3000:]


# -- the publisher's policy (docs/publisher-policy.json, for a release pipeline) ---------------------------------------
PUBLISHER = json.loads(open(os.path.join(REPO, "docs", "publisher-policy.json")).read()
                       .replace("CHANNEL_BUCKET", "convox-releases").replace("CHANNEL_PREFIX", "rack")
                       .replace("PARTITION", "aws"))


def publishing(factory, tmp_path):
    """(step, outcome) pairs of a release pipeline's life on an empty channel, stopping at the first failure."""
    def release(version, retention=7, **params):
        src = tmp_path / ("src-%s-%s" % (version, retention))
        src.mkdir(exist_ok=True)
        rack = formation("rack")
        rack["Resources"]["Logs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": retention}}
        (src / "rack.json").write_text(json.dumps(rack))
        (src / "app.json").write_text(json.dumps(formation("app")))
        base = {"channel": CHANNEL, "version": version, "src": str(src), "published": True, "required": False,
                "description": "", "force": False, "state": "present"}
        base.update(params)
        manager = ReleaseManager(base, client_factory=factory)
        return manager.absent() if base["state"] == "absent" else manager.present()

    steps = [
        ("publish the first release to the empty channel", lambda: release("1")),
        ("publish it again (no change)", lambda: release("1")),
        ("publish a required release", lambda: release("2", required=True)),
        ("republish a release with force", lambda: release("2", retention=30, required=True, force=True)),
        ("withdraw a release", lambda: release("2", state="absent")),
    ]
    outcomes = []
    for name, run in steps:
        try:
            run()
            outcomes.append((name, "ok"))
        except ConvoxError as exc:
            outcomes.append((name, str(exc)))
            break
    return outcomes


def run_publisher(policy, tmp_path):
    from moto import mock_aws
    with mock_aws():
        admin_client("s3").create_bucket(Bucket="convox-releases")
        factory = operator(policy, "publisher")
        with enforcing():
            outcomes = publishing(factory, tmp_path)
        keys = with_admin(lambda: sorted(o["Key"] for o in admin_client("s3").list_objects_v2(
            Bucket="convox-releases").get("Contents", [])))
    return outcomes, keys


def test_the_publisher_policy_publishes_to_an_empty_channel(tmp_path):
    outcomes, keys = run_publisher(PUBLISHER, tmp_path)
    assert [o for o in outcomes if o[1] != "ok"] == [] and len(outcomes) == 5
    assert keys == ["rack/1/app.json", "rack/1/rack.json", "rack/versions.json"]


@pytest.mark.parametrize("action", sorted(set(policy_actions(PUBLISHER))))
def test_the_publisher_policy_needs_each_action(action, tmp_path):
    outcomes, dummy = run_publisher(without(PUBLISHER, action), tmp_path)
    failed = [(step, outcome) for step, outcome in outcomes if outcome != "ok"]
    assert failed, "publishing passed without %s: drop it from docs/publisher-policy.json" % action
    step, message = failed[0]
    assert action in message, (step, message)
    if action == "s3:ListBucket":      # the first read of the empty channel: 403, not 404, and the message says why
        assert step == "publish the first release to the empty channel"
        assert message.startswith("publishing the release failed: cannot read s3://convox-releases/rack/versions.json "
                                  "(AccessDenied: ") or message.startswith(
            "cannot read s3://convox-releases/rack/versions.json (AccessDenied: "), message
        assert message.endswith("S3 answers 403, not 404, for an object that does not exist to a caller without "
                                "s3:ListBucket on bucket convox-releases, so grant it s3:GetObject on the channel's "
                                "objects and s3:ListBucket on the bucket (docs/publisher-policy.json)."), message


ACCOUNT = "123456789012"
SERVICE_ROLE = "arn:aws:iam::%s:role/convox-cloudformation" % ACCOUNT
ROLE_STATEMENTS = ("CloudFormationActsWithYourPermissions", "CloudFormationPassesRackRolesToTheirServices")


def service_role_setup():
    """(the operator's policy, the service role's trust, the service role's policy) of the recommended setup, as the
    guide says to fill them in."""
    def doc(name):
        with open(os.path.join(REPO, "docs", name)) as f:
            return json.loads(f.read().replace("ACCOUNT", ACCOUNT))
    return (doc("operator-with-service-role-policy.json"), doc("service-role-trust.json"),
            doc("service-role-policy.json"))


def run_with_service_role(operator_policy, trust, role_policy, tmp_path, monkeypatch):
    from moto import mock_aws
    monkeypatch.setitem(STACK_OPTIONS, "role_arn", SERVICE_ROLE)
    with mock_aws():
        publish(tmp_path)
        iam_client = admin_client("iam")
        iam_client.create_role(RoleName="convox-cloudformation", AssumeRolePolicyDocument=json.dumps(trust))
        iam_client.put_role_policy(RoleName="convox-cloudformation", PolicyName="convox-rack",
                                   PolicyDocument=json.dumps(role_policy))
        factory = operator(operator_policy)
        try:
            with enforcing():
                outcomes = lifecycle(factory)
            stacks = with_admin(lambda: [s["StackName"] for s in admin_client("cloudformation").describe_stacks()["Stacks"]])
        finally:
            hooks.FAIL_UPDATES.clear()
    return outcomes, stacks


def test_the_service_role_setup_runs_the_whole_lifecycle(tmp_path, monkeypatch):
    """The recommended setup: the operator holds docs/operator-with-service-role-policy.json only - no handler
    permission, no VPC, key or role of its own - and every stack operation runs as the service role."""
    outcomes, stacks = run_with_service_role(*service_role_setup(), tmp_path, monkeypatch)
    assert [o for o in outcomes if o[1] != "ok"] == []
    assert len(outcomes) == 12 and stacks == []


@pytest.mark.parametrize("case", ["operator cannot pass the role", "role passed to another service only",
                                  "role does not trust CloudFormation", "role lacks a handler permission",
                                  "rack roles passed to EC2 only"])
def test_the_service_role_setup_fails_naming_what_is_missing(case, tmp_path, monkeypatch):
    operator_policy, trust, role_policy = service_role_setup()
    pass_role = operator_policy["Statement"][-1]
    if case == "operator cannot pass the role":
        operator_policy["Statement"] = operator_policy["Statement"][:-1]
        expected = "not authorized to perform: iam:PassRole on resource: \"%s\"" % SERVICE_ROLE
    elif case == "role passed to another service only":
        pass_role["Condition"] = {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
        expected = "not authorized to perform: iam:PassRole on resource: \"%s\"" % SERVICE_ROLE
    elif case == "role does not trust CloudFormation":
        trust["Statement"][0]["Principal"] = {"Service": "ec2.amazonaws.com"}
        expected = "Role %s is invalid or cannot be assumed" % SERVICE_ROLE
    elif case == "role lacks a handler permission":
        role_policy = without(role_policy, "ec2:CreateVpc")
        expected = ("User: arn:aws:sts::%s:assumed-role/convox-cloudformation/AWSCloudFormation is not authorized to "
                    "perform: ec2:CreateVpc" % ACCOUNT)
    else:
        passing = role_policy["Statement"][-1]
        passing["Condition"] = {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
        expected = "is not authorized to perform: iam:PassRole"
    outcomes, dummy = run_with_service_role(operator_policy, trust, role_policy, tmp_path, monkeypatch)
    failed = [(step, message) for step, message in outcomes if message != "ok"]
    assert failed and expected in failed[0][1], failed
    if case == "rack roles passed to EC2 only":       # the first resource that passes a role to ECS fails
        ecs_types = [t for t, service in iam.PASSED_TO.items() if service != "ec2.amazonaws.com"]
        assert any(failed[0][1].startswith("installing version 1 failed for rack prod: %s " % t) for t in ecs_types), \
            failed


def test_the_service_role_policy_is_what_cloudformation_needs():
    """docs/service-role-policy.json is exactly the handler model's needs for formation/ (nothing the collection
    itself calls): iam:PassRole in a statement of its own, to the services the templates pass roles to."""
    role = json.load(open(os.path.join(REPO, "docs", "service-role-policy.json")))
    manages, passing = role["Statement"]
    assert set(manages["Action"]) | set(passing["Action"]) == needed_by_cloudformation()
    assert sorted(manages["Action"]) == manages["Action"] and passing["Action"] == ["iam:PassRole"]
    assert passing == [st for st in POLICY["Statement"] if st["Sid"] == "CloudFormationPassesRackRolesToTheirServices"][0]


@pytest.mark.parametrize("action", ["ec2:CreateVpc", "ec2:DescribeVpcs", "iam:CreateRole", "kms:CreateKey"])
def test_the_service_role_needs_what_it_holds(action, tmp_path, monkeypatch):
    """A sample of the service role's actions, each dropped in turn, fails the lifecycle naming it as the role."""
    operator_policy, trust, role_policy = service_role_setup()
    outcomes, dummy = run_with_service_role(operator_policy, trust, without(role_policy, action), tmp_path, monkeypatch)
    failed = [(step, message) for step, message in outcomes if message != "ok"]
    assert failed and ("assumed-role/convox-cloudformation/AWSCloudFormation is not authorized to perform: %s"
                       % action) in failed[0][1], failed


def test_the_service_role_setup_is_the_policy_split_in_two():
    """docs/operator-with-service-role-policy.json is exactly the collection's own statements of docs/iam-policy.json
    plus iam:PassRole on the one service role, passed to CloudFormation only; the service role trusts CloudFormation
    of its own account."""
    operator = json.load(open(os.path.join(REPO, "docs", "operator-with-service-role-policy.json")))
    trust = json.load(open(os.path.join(REPO, "docs", "service-role-trust.json")))
    own = [st for st in POLICY["Statement"] if st["Sid"] not in ROLE_STATEMENTS]
    assert operator["Statement"][:len(own)] == own
    # what CloudFormation reads with the caller's credentials to validate a request, whatever role it acts with
    reads, = [st for st in operator["Statement"] if st["Sid"] == "CloudFormationReadsTheRequestAsYou"]
    model = iam.handler_permissions()["stack"]
    assert set(reads["Action"]) == (set(model["image_parameters"]) | set(model["template_url_version"])
                                    | set(model["availability_zones"]))
    assert len(operator["Statement"]) == len(own) + 2
    pass_role, = operator["Statement"][-1:]
    assert pass_role["Action"] == ["iam:PassRole"] and pass_role["Resource"].endswith(":role/convox-cloudformation")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    assert trust["Statement"][0]["Principal"] == {"Service": "cloudformation.amazonaws.com"}
