# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one execution path: the action plugins validate against ``_specs`` and run ``_tasks`` in the
controller, exactly what a module's ``main()`` runs on a host (in-process moto)."""

from __future__ import annotations

import json
import os
import sys
from unittest import mock

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.convox.rack.plugins.action.rack import ActionModule as RackAction
from ansible_collections.convox.rack.plugins.action.rack_app import ActionModule as RackAppAction
from ansible_collections.convox.rack.plugins.action.rack_info import ActionModule as RackInfoAction
from ansible_collections.convox.rack.plugins.action.rack_release import ActionModule as ReleaseAction
from ansible_collections.convox.rack.plugins.module_utils._specs import SPEC_OPTIONS, SPECS
from ansible_collections.convox.rack.plugins.module_utils._tasks import TASKS, run_task

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
from rackfixtures import make_channel  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from actionfixtures import action, run  # noqa: E402


def validated(name, args):
    result = ArgumentSpecValidator(SPECS[name](), **SPEC_OPTIONS.get(name, {})).validate(args)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_every_module_has_a_spec_and_a_task():
    assert set(TASKS) | {"rack_batch"} == set(SPECS)
    for name in ("rack", "rack_app", "rack_release", "rack_info", "rack_release_info"):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules",
                               name + ".py")) as f:
            text = f.read()
        assert 'run_module("%s")' % name in text              # the module's main() runs the same task
        assert "plugins.modules" not in open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..",
                                                          "plugins", "action", name + ".py")).read()


@pytest.mark.usefixtures("aws")
def test_run_task_installs_and_shapes_the_result(factory, tmp_path):
    channel = make_channel(str(tmp_path / "channel"))
    params = validated("rack", {"name": "prod", "channel": channel, "org": "acme",
                                "parameters": {"Secret": "hunter2"}})
    result, secrets = run_task("rack", params, False, False, factory, lambda msg: None)
    assert result["changed"] is True and result["rack"]["version"] == "3"
    assert "diff" not in result                              # no --diff: no diff
    assert secrets == {"hunter2"}                            # a NoEcho value, kept out of the output
    planned, dummy = run_task("rack", params, True, True, factory, lambda msg: None)
    assert not planned.get("failed") and "diff" in planned   # check + diff: the plan and its diff
    again, dummy = run_task("rack", params, False, False, factory, lambda msg: None)
    assert again["changed"] is False and not again.get("failed")


@pytest.mark.usefixtures("aws")
def test_run_task_failure_is_a_result(factory, tmp_path):
    params = validated("rack", {"name": "prod", "channel": make_channel(str(tmp_path / "c")), "version": "9"})
    result, dummy = run_task("rack", params, False, False, factory, lambda msg: None)
    assert result["failed"] is True and result["changed"] is False
    assert "9" in result["msg"]
    assert factory("cloudformation").describe_stacks()["Stacks"] == []


def test_run_task_words_an_aws_error_outside_a_manager(factory):
    import botocore.exceptions

    def no_region(*args):
        raise botocore.exceptions.NoRegionError()

    def bug(*args):
        raise KeyError("a bug is not an AWS error")

    params = validated("rack_info", {})
    with mock.patch.dict(TASKS, {"rack_info": no_region}):
        result, dummy = run_task("rack_info", params, False, False, factory, lambda msg: None)
    assert result == {"failed": True, "changed": False,
                      "msg": "convox.rack.rack_info failed: no AWS region is set (set region or AWS_REGION)."}
    with mock.patch.dict(TASKS, {"rack_info": bug}), pytest.raises(KeyError):
        run_task("rack_info", params, False, False, factory, lambda msg: None)


@pytest.mark.usefixtures("aws")
def test_controller_side_runs_the_same_task():
    boto3 = __import__("boto3")
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="prod", TemplateBody=json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}),
                     Tags=[{"Key": "System", "Value": "convox"}, {"Key": "Type", "Value": "rack"},
                           {"Key": "Rack", "Value": "prod"}])
    out = run(action(RackInfoAction, {"region": "us-east-1"}))
    assert out["changed"] is False and [r["name"] for r in out["racks"]] == ["prod"]


@pytest.mark.usefixtures("aws")
def test_controller_side_refuses_bad_arguments_before_any_call():
    out = run(action(RackAction, {"name": "prod", "bogus": 1, "region": "us-east-1"}))
    assert out["failed"] is True
    assert out["msg"].startswith("Unsupported parameters for (convox.rack.rack) module: bogus.")
    out = run(action(RackAction, {"name": "prod", "wait_timeout": "soon", "region": "us-east-1"}))
    assert out["failed"] is True and "wait_timeout" in out["msg"]


@pytest.mark.usefixtures("aws")
def test_controller_side_reports_a_deprecated_option_as_the_module_does(tmp_path):
    """rack_details is deprecated: set, the task says so (the module path's words, version and collection); the rack
    it names is still used."""
    channel = make_channel(str(tmp_path / "c"))
    rack = {"name": "prod", "status": "UPDATE_COMPLETE", "version": "1"}
    out = run(action(RackAppAction, {"name": "web1", "rack": "prod", "channel": channel, "rack_details": rack,
                                     "region": "us-east-1"}, check_mode=True))
    assert out["deprecations"] == [{"msg": "Param 'rack_details' is deprecated. See the module docs for more "
                                           "information", "version": "2.0.0", "collection_name": "convox.rack"}]
    assert not out.get("failed") and out["plan"]["action"] == "create", out
    without = run(action(RackAppAction, {"name": "web1", "rack": "prod", "channel": channel, "region": "us-east-1"},
                         check_mode=True))
    assert "deprecations" not in without and without["failed"]        # no rack prod: read afresh, refused
    assert without["msg"].startswith("rack prod does not exist in region us-east-1."), without["msg"]


@pytest.mark.usefixtures("aws")
def test_controller_side_masks_aws_secrets_given_as_arguments(tmp_path):
    out = run(action(RackAction, {"name": "prod", "channel": make_channel(str(tmp_path / "c")), "version": "9",
                                  "region": "us-east-1", "secret_key": "SECRETSECRET", "access_key": "AKIA"}))
    assert out["failed"] is True
    assert "SECRETSECRET" not in json.dumps(out)


def test_rack_release_looks_up_a_relative_src_under_files(tmp_path):
    (tmp_path / "files" / "release-1").mkdir(parents=True)
    plugin = action(ReleaseAction, {}, basedir=str(tmp_path))
    params = plugin.prepare({"src": "release-1"})
    assert params["src"] == str(tmp_path / "files" / "release-1")
    assert plugin.prepare({"src": "elsewhere"})["src"] == "elsewhere"       # not found: as given
