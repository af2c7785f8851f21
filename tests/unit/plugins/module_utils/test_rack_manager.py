# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RackManager against moto in-process: install, update path, in-place changes, uninstall,
failures and every CloudFormation status found on entry."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.convox.rack.plugins.module_utils.aws._stack import ALL_STATUSES, IN_PROGRESS, STABLE
from ansible_collections.convox.rack.plugins.module_utils.managers._app import AppManager
from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localaws import hooks  # noqa: E402  (on sys.path via tests/unit/conftest.py)
from rackfixtures import make_channel  # noqa: E402


@pytest.fixture
def channel(tmp_path):
    return make_channel(str(tmp_path / "channel"))


def rack(factory, channel, check=False, sleep=None, **params):
    base = {"name": "prod", "state": "present", "org": "acme", "channel": channel, "version": None, "parameters": {}, "tags": {},
            "purge_tags": True, "termination_protection": True, "max_steps": 0, "allow_downgrade": False, "force": False,
            "recover": False, "wait": True, "wait_timeout": 600, "releases": None}
    base.update(params)
    kwargs = {"sleep": sleep} if sleep else {}
    return RackManager(base, check_mode=check, client_factory=factory, **kwargs)


def cfn_stack(factory, name="prod"):
    stacks = factory("cloudformation").describe_stacks(StackName=name)["Stacks"]
    return stacks[0]


def params_of(stack):
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


# -- install / update ----------------------------------------------------------------------
def test_install_check_then_apply(factory, channel):
    res = rack(factory, channel, check=True).present()
    assert res["changed"] and res["plan"]["action"] == "install" and res["plan"]["to_version"] == "3"
    assert {c["logical_id"] for c in res["plan"]["resource_changes"]} == {"Settings", "Logs"}
    assert factory("cloudformation").describe_stacks()["Stacks"] == []

    res = rack(factory, channel).present()
    assert res["changed"] and res["rack"]["version"] == "3" and res["rack"]["status"] == "CREATE_COMPLETE"
    # the template has a NoEcho parameter and no output referring to it: the tag says so ("-"), so that a later read
    # masks the outputs without reading the template
    assert res["rack"]["tags"] == {"System": "convox", "Type": "rack", "Rack": "prod", "Org": "acme",
                                   "convox:no-echo-outputs": "-"}
    assert res["rack"]["termination_protection"] is True
    assert res["steps"][0]["to"] == "3" and res["steps"][0]["status"] == "CREATE_COMPLETE"
    assert {r["logical_id"] for r in res["resources"]} == {"Settings", "Logs"}

    again = rack(factory, channel).present()
    assert not again["changed"] and again["plan"]["action"] == "none"


def test_update_through_required_releases(factory, channel):
    rack(factory, channel, version="1", parameters={"Size": "large", "Private": True}).present()
    assert params_of(cfn_stack(factory))["Private"] == "Yes"
    check = rack(factory, channel, check=True, version="latest").present()
    assert check["changed"] and check["plan"]["path"] == ["2", "3"] and check["rack"]["version"] == "1"
    assert check["plan"]["parameter_changes"] == {"Version": {"before": "1", "after": "3"}}
    assert params_of(cfn_stack(factory))["Version"] == "1"
    assert factory("cloudformation").list_change_sets(StackName="prod")["Summaries"] == []

    res = rack(factory, channel, version="latest").present()
    assert [(s["from"], s["to"], s["status"]) for s in res["steps"]] == [
        ("1", "2", "UPDATE_COMPLETE"), ("2", "3", "UPDATE_COMPLETE")]
    params = params_of(cfn_stack(factory))
    # kept, newly added (template default), dropped
    assert params["Private"] == "Yes" and params["Extra"] == "fresh" and "Size" not in params
    assert params["Version"] == "3"
    assert not rack(factory, channel, version="latest").present()["changed"]


def test_max_steps_and_explicit_target(factory, channel):
    rack(factory, channel, version="1").present()
    res = rack(factory, channel, version="latest", max_steps=1).present()
    assert [s["to"] for s in res["steps"]] == ["2"] and res["plan"]["remaining_path"] == ["3"]
    res = rack(factory, channel, version="4").present()            # unpublished, by name
    assert [s["to"] for s in res["steps"]] == ["4"]


def test_downgrade_refused_then_allowed(factory, channel):
    rack(factory, channel, version="3").present()
    with pytest.raises(ConvoxError, match='version "1" is older than the current version "3"'):
        rack(factory, channel, version="1").present()
    res = rack(factory, channel, version="1", allow_downgrade=True).present()
    assert [s["to"] for s in res["steps"]] == ["1"]


def test_parameter_change_keeps_the_others(factory, channel):
    rack(factory, channel, version="1", parameters={"Size": "large"}).present()
    res = rack(factory, channel, check=True, parameters={"Private": "Yes"}).present()
    assert res["changed"] and res["plan"]["parameter_changes"] == {"Private": {"before": "No", "after": "Yes"}}
    assert params_of(cfn_stack(factory))["Private"] == "No"
    res = rack(factory, channel, parameters={"Private": "Yes"}).present()
    params = params_of(cfn_stack(factory))
    assert res["changed"] and params["Private"] == "Yes" and params["Size"] == "large" and params["Version"] == "1"
    assert res["diff"]["before"]["parameters"]["Private"] == "No"


@pytest.mark.parametrize("params, message", [
    ({"Nope": "x"}, 'parameter "Nope" is not declared by the rack template'),
    ({"Version": "9"}, "parameter Version of rack prod is set by the collection"),
    ({"Size": "huge"}, 'parameter Size of rack prod must be one of small, large, not "huge".'),
])
def test_bad_parameters_fail_before_any_change(factory, channel, params, message):
    rack(factory, channel, version="1").present()
    before = cfn_stack(factory)
    for version in (None, "2"):
        with pytest.raises(ConvoxError) as err:
            rack(factory, channel, version=version, parameters=params).present()
        assert message in err.value.msg
    after = cfn_stack(factory)
    assert params_of(after) == params_of(before) and after["StackStatus"] == "CREATE_COMPLETE"


def test_unknown_parameter_on_install_creates_nothing(factory, channel):
    with pytest.raises(ConvoxError, match='parameter "Nope" is not declared'):
        rack(factory, channel, parameters={"Nope": 1}).present()
    assert factory("cloudformation").describe_stacks()["Stacks"] == []


def test_tags_and_termination_protection_in_place(factory, channel):
    rack(factory, channel, tags={"team": "a", "cost": "1"}).present()
    res = rack(factory, channel, tags={"team": "b"}, termination_protection=False).present()
    stack = cfn_stack(factory)
    assert res["changed"] and stack["EnableTerminationProtection"] is False
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags["team"] == "b"
    assert not rack(factory, channel, tags={"team": "b"}, termination_protection=False).present()["changed"]
    # system tags cannot be overridden
    res = rack(factory, channel, tags={"team": "b", "System": "other"}, termination_protection=False).present()
    assert res["rack"]["tags"]["System"] == "convox"


@pytest.mark.parametrize("name", ["1abc", "a_b", "x" * 65, ""])
def test_invalid_rack_names(factory, channel, name):
    with pytest.raises(ConvoxError, match="rack name .* is invalid"):
        rack(factory, channel, name=name)


def test_install_needs_a_channel(factory):
    with pytest.raises(ConvoxError, match="^channel is required to install rack prod"):
        rack(factory, None).present()


# -- uninstall -------------------------------------------------------------------------------
def app(factory, channel, name="web1", state="present"):
    return AppManager({"name": name, "rack": "prod", "state": state, "channel": channel, "parameters": {}, "tags": {},
                       "purge_tags": True, "wait": True, "wait_timeout": 600}, False, client_factory=factory)


def test_uninstall_refuses_with_apps_then_force(factory, channel):
    rack(factory, channel).present()
    app(factory, channel).present()
    s3 = factory("s3")
    bucket = cfn_stack(factory)["Outputs"]
    settings = [o["OutputValue"] for o in bucket if o["OutputKey"] == "Settings"][0]
    s3.put_object(Bucket=settings, Key="a", Body=b"x")
    with pytest.raises(ConvoxError, match=r"^rack prod still has apps \(web1\); delete them first or set force"):
        rack(factory, channel, state="absent").absent()
    check = rack(factory, channel, check=True, force=True).absent()
    assert check["changed"] and check["plan"]["apps"] == ["web1"]
    assert cfn_stack(factory)["StackStatus"] == "CREATE_COMPLETE"
    res = rack(factory, channel, force=True).absent()
    assert res["changed"] and res["rack"]["status"] == "DELETE_COMPLETE"
    live = [s for s in factory("cloudformation").describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []        # nothing left behind
    assert not rack(factory, channel).absent()["changed"]


# -- apps in the rack's task (option apps) -----------------------------------------------------
def app_versions(factory):
    return {s["StackName"]: params_of(s).get("Version") for s in factory("cloudformation").describe_stacks()["Stacks"]
            if s["StackName"] != "prod" and s["StackStatus"] != "DELETE_COMPLETE"}


def test_apps_follow_the_rack_in_one_run(factory, channel):
    apps = [{"name": "web1", "parameters": {"Count": 3}}, {"name": "worker", "state": "present"}]
    plan = rack(factory, channel, check=True, version="1", apps=apps).present()
    assert plan["changed"] and [a["plan"]["action"] for a in plan["apps"]] == ["create", "create"]
    assert [a["plan"]["to_version"] for a in plan["apps"]] == ["1", "1"]          # planned on the rack's target
    assert isinstance(plan["diff"], list) and [d["after_header"] for d in plan["diff"]] == [
        "rack prod", "app prod-web1", "app prod-worker"]
    assert factory("cloudformation").describe_stacks()["Stacks"] == []           # check mode created nothing

    res = rack(factory, channel, version="1", apps=apps).present()
    assert res["changed"] and [a["app"]["status"] for a in res["apps"]] == ["CREATE_COMPLETE"] * 2
    assert app_versions(factory) == {"prod-web1": "1", "prod-worker": "1"}
    assert params_of(cfn_stack(factory, "prod-web1"))["Count"] == "3"
    noop = rack(factory, channel, version="1", apps=apps).present()
    assert not noop["changed"] and [a["changed"] for a in noop["apps"]] == [False, False]

    # the rack moves through the required release 2 to 3; --check plans the apps on 3 too
    check = rack(factory, channel, check=True, version="latest", apps=apps).present()
    assert [(a["plan"]["from_version"], a["plan"]["to_version"]) for a in check["apps"]] == [("1", "3")] * 2
    assert app_versions(factory) == {"prod-web1": "1", "prod-worker": "1"}
    res = rack(factory, channel, version="latest", apps=apps).present()
    assert [s["to"] for s in res["steps"]] == ["2", "3"]
    assert app_versions(factory) == {"prod-web1": "3", "prod-worker": "3"}

    # listed as absent: deleted; not listed: left alone
    res = rack(factory, channel, apps=[{"name": "worker", "state": "absent"}]).present()
    assert res["changed"] and res["apps"][0]["plan"]["action"] == "delete"
    assert app_versions(factory) == {"prod-web1": "3"}
    res = rack(factory, channel).present()                                       # no apps option: none touched
    assert "apps" not in res and app_versions(factory) == {"prod-web1": "3"}


@pytest.mark.parametrize("apps, message", [
    ([{"name": "web1"}, {"name": "web1"}], "app web1 is listed twice in the apps of rack prod."),
    ([{"name": "x"}], 'app name "x" is invalid'),
    ([{"name": "prod"}], 'app name "prod" must differ from its rack\'s name.'),
])
def test_bad_apps_fail_before_any_call(factory, channel, apps, message):
    calls = []
    counting = type(factory)(lambda service: calls.append(service) or factory(service), "us-east-1")
    with pytest.raises(ConvoxError) as err:
        rack(counting, channel, apps=apps).present()
    assert err.value.msg.startswith(message) and calls == []


def test_a_failing_app_is_named_and_the_rack_result_kept(factory, channel):
    with pytest.raises(ConvoxError) as err:
        rack(factory, channel, version="1", apps=[{"name": "web1", "parameters": {"Nope": "1"}}]).present()
    assert err.value.msg.startswith('app web1 on rack prod: parameter "Nope" is not declared by the app template')
    assert err.value.details["rack"]["status"] == "CREATE_COMPLETE" and err.value.details["apps"] == []
    assert app_versions(factory) == {}


# -- failures name the resource and reason ---------------------------------------------------
@pytest.fixture
def failing_updates(monkeypatch):
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.update_stack

    def update_stack(self, name, *args, **kwargs):
        stack = original(self, name, *args, **kwargs)
        stack._add_stack_event("UPDATE_IN_PROGRESS")
        hooks.set_stack({"stack_name": stack.name, "status": "UPDATE_ROLLBACK_COMPLETE", "events": [
            {"logical_id": "Logs", "type": "AWS::Logs::LogGroup", "status": "UPDATE_FAILED", "physical_id": "prod-logs",
             "reason": "Resource limit exceeded for log groups."},
            {"logical_id": "Settings", "type": "AWS::S3::Bucket", "status": "UPDATE_FAILED",
             "reason": "Resource update cancelled"},
        ]})
        return stack

    monkeypatch.setattr(CloudFormationBackend, "update_stack", update_stack)


def test_failed_update_names_resource_and_reason(factory, channel, failing_updates):
    rack(factory, channel, version="1").present()
    with pytest.raises(ConvoxError) as err:
        rack(factory, channel, version="latest").present()
    assert err.value.msg == ("updating from 1 to 2 failed for rack prod: AWS::Logs::LogGroup Logs (prod-logs) "
                             "UPDATE_FAILED: Resource limit exceeded for log groups; the stack is now "
                             "UPDATE_ROLLBACK_COMPLETE.")
    assert err.value.details["steps"][0]["to"] == "2"


# -- every status on entry -------------------------------------------------------------------
SETTLES_TO = {
    "CREATE_IN_PROGRESS": "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS": "ROLLBACK_COMPLETE",
    "UPDATE_IN_PROGRESS": "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_IN_PROGRESS": "IMPORT_COMPLETE", "IMPORT_ROLLBACK_IN_PROGRESS": "IMPORT_ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS": "DELETE_COMPLETE",
}
STUCK_MESSAGES = {
    "CREATE_FAILED": "remove it with state=absent",
    "ROLLBACK_FAILED": "remove it with state=absent (naming in retain_resources",
    "DELETE_FAILED": "run with state=absent again",
    "UPDATE_FAILED": "recover: true to roll it back (RollbackStack)",
    "UPDATE_ROLLBACK_FAILED": "recover: true",
    "IMPORT_ROLLBACK_FAILED": "repeat that import (a change set of type IMPORT)",
}


def force_status(factory, stack, status):
    if status == "DELETE_COMPLETE":
        factory("cloudformation").delete_stack(StackName=stack)
    else:
        hooks.set_stack({"stack_name": stack, "status": status})


def put_in(factory, channel, status):
    rack(factory, channel, version="1", termination_protection=False).present()
    force_status(factory, "prod", status)


def settle_later(final, stack="prod"):
    """A sleep that lets the 'operation in progress' on ``stack`` finish after the first poll."""
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        if final == "DELETE_COMPLETE":      # the delete in progress finishes
            from moto.cloudformation.models import cloudformation_backends
            cloudformation_backends["123456789012"]["us-east-1"].delete_stack(stack)
        else:
            hooks.set_stack({"stack_name": stack, "status": final})
    return sleep, calls


def test_the_matrix_covers_all_23_statuses():
    assert len(ALL_STATUSES) == 23
    assert set(SETTLES_TO) == set(IN_PROGRESS)


@pytest.mark.parametrize("status", sorted(ALL_STATUSES))
def test_present_from_every_status(factory, channel, status):
    put_in(factory, channel, status)
    if status in IN_PROGRESS:
        sleep, calls = settle_later(SETTLES_TO[status])
        res = rack(factory, channel, sleep=sleep, termination_protection=False).present()
        assert calls, "an operation in progress is waited for"
        settled = SETTLES_TO[status]
        if settled in STABLE:
            assert res["rack"]["version"] == "1"
        else:   # ROLLBACK_COMPLETE or deleted: installed again at latest
            assert res["changed"] and res["rack"]["version"] == "3"
        return
    if status in STABLE:
        res = rack(factory, channel, termination_protection=False).present()
        assert not res["changed"] and res["rack"]["status"] == status
    elif status in ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
        res = rack(factory, channel, termination_protection=False).present()
        assert res["changed"] and res["plan"]["action"] == "install" and res["rack"]["status"] == "CREATE_COMPLETE"
        if status != "DELETE_COMPLETE":
            assert "installed again" in res["plan"]["note"] or "replaced" in res["plan"]["note"]
    else:
        with pytest.raises(ConvoxError) as err:
            rack(factory, channel, termination_protection=False).present()
        assert err.value.msg.startswith("rack prod is in %s" % status)
        assert STUCK_MESSAGES[status] in err.value.msg
        assert cfn_stack(factory)["StackStatus"] == status          # untouched


def test_update_rollback_failed_is_recovered_when_asked(factory, channel):
    put_in(factory, channel, "UPDATE_ROLLBACK_FAILED")
    res = rack(factory, channel, recover=True, version="2", termination_protection=False).present()
    assert res["changed"] and res["plan"]["note"].startswith("recovered") and res["rack"]["version"] == "2"


@pytest.mark.parametrize("status", sorted(ALL_STATUSES))
def test_absent_from_every_status(factory, channel, status):
    put_in(factory, channel, status)
    sleep, calls = settle_later(SETTLES_TO.get(status, status))
    res = rack(factory, channel, sleep=sleep).absent()
    if status in ("DELETE_COMPLETE", "DELETE_IN_PROGRESS"):
        assert not res["changed"]
    else:
        assert res["changed"] and res["plan"]["action"] == "uninstall"
    live = [s for s in factory("cloudformation").describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []


# -- secrets -----------------------------------------------------------------------------------
def test_no_echo_values_never_appear_in_results(factory, channel):
    import json
    res = rack(factory, channel, version="1", parameters={"Secret": "hunter2-very-secret"}).present()
    assert "hunter2-very-secret" not in json.dumps(res)
    assert res["rack"]["parameters"]["Secret"] == "****"
    check = rack(factory, channel, check=True, parameters={"Secret": "another-secret-value"}).present()
    text = json.dumps(check)
    assert "another-secret-value" not in text and "****" in text
    manager = rack(factory, channel, parameters={"Secret": "third-secret-value"})
    res = manager.present()
    assert "third-secret-value" in manager.secret_values and "third-secret-value" not in json.dumps(res)


def test_a_parameter_that_was_no_echo_stays_masked_when_a_release_drops_no_echo(factory, tmp_path):
    import json

    from rackfixtures import rack_template

    from ansible_collections.convox.rack.plugins.module_utils.managers._info import RackInfo
    secret_template = rack_template()
    plain = rack_template()
    plain["Parameters"]["Secret"] = {"Type": "String", "Default": "s3cr3t"}     # NoEcho dropped
    plain["Outputs"]["Leak"] = {"Value": {"Ref": "Secret"}}
    root = tmp_path / "drops"
    for version, template in (("1", secret_template), ("2", plain), ("3", plain)):
        (root / version).mkdir(parents=True)
        (root / version / "rack.json").write_text(json.dumps(template))
        (root / version / "app.json").write_text(json.dumps({"Parameters": {"Rack": {"Type": "String"},
                                                                            "Version": {"Type": "String"}},
                                                             "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    (root / "versions.json").write_text(json.dumps([{"version": v, "description": "", "published": True,
                                                     "required": False} for v in ("1", "2", "3")]))
    channel = "file://%s" % root
    rack(factory, channel, version="1", parameters={"Secret": "hunter2-kept"}).present()
    warnings = []
    check = RackManager(dict(name="prod", channel=channel, version="2"), check_mode=True, client_factory=factory,
                        warn=warnings.append).present()
    drop = ("rack prod: release 2 drops NoEcho from parameter Secret, so CloudFormation will show its value to anyone "
            "allowed to describe the stack; the collection keeps masking it (tag convox:no-echo).")
    assert check["plan"]["warnings"] == [drop] and warnings == [drop]
    assert check["diff"]["after"]["tags"]["convox:no-echo"] == "Secret"
    manager = rack(factory, channel, version="2")
    res = manager.present()
    described = cfn_stack(factory)
    assert params_of(described)["Secret"] == "hunter2-kept"       # what CloudFormation now shows anyone
    assert {"Key": "convox:no-echo", "Value": "Secret"} in described["Tags"]
    for result in (res, rack(factory, channel, version="3").present(), rack(factory, channel, version="3").present(),
                   {"racks": RackInfo({}, factory).racks()}):
        assert "hunter2-kept" not in json.dumps(result), result
    assert res["rack"]["parameters"]["Secret"] == "****" and res["rack"]["outputs"]["Leak"] == "****"
    assert "hunter2-kept" in manager.secret_values                 # and kept out of logs (no_log values)


# -- every status on entry, for an app -----------------------------------------------------------
def put_app_in(factory, channel, status):
    rack(factory, channel, version="1", termination_protection=False).present()
    app(factory, channel).present()
    force_status(factory, "prod-web1", status)


def app_with(factory, channel, sleep, **params):
    base = {"name": "web1", "rack": "prod", "state": "present", "channel": channel, "parameters": {}, "tags": {},
            "purge_tags": True, "wait": True, "wait_timeout": 600, "recover": False}
    base.update(params)
    return AppManager(base, False, client_factory=factory, sleep=sleep)


@pytest.mark.parametrize("status", sorted(ALL_STATUSES))
def test_app_present_and_absent_from_every_status(factory, channel, status):
    put_app_in(factory, channel, status)
    sleep, calls = settle_later(SETTLES_TO.get(status, status), stack="prod-web1")
    recoverable = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "DELETE_COMPLETE")
    if status in IN_PROGRESS or status in STABLE or status in recoverable:
        res = app_with(factory, channel, sleep).present()
        assert res["app"]["status"].endswith("_COMPLETE") and res["app"]["version"] == "1"
        if status in IN_PROGRESS:
            assert calls, "an operation in progress is waited for"
    else:
        with pytest.raises(ConvoxError) as err:
            app_with(factory, channel, sleep).present()
        assert err.value.msg.startswith("app web1 on rack prod is in %s" % status)
        assert STUCK_MESSAGES[status] in err.value.msg
    res = app_with(factory, channel, sleep, state="absent").absent()
    live = [s["StackName"] for s in factory("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == ["prod"], live
