# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module's ``main()`` runs (``_tasks``, in-process moto), and rack_release's action plugin: a relative
``src`` found on the controller, then the module run as any module."""

from __future__ import annotations

import os
import sys
from unittest import mock

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader

from ansible_collections.convox.rack.plugins.action.rack_release import ActionModule as ReleaseAction
from ansible_collections.convox.rack.plugins.module_utils.model._specs import SPEC_OPTIONS, SPECS
from ansible_collections.convox.rack.plugins.module_utils.runtime._tasks import TASKS, run_task

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
from rackfixtures import make_channel  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from actionfixtures import action, run  # noqa: E402


def validated(name, args):
    result = ArgumentSpecValidator(SPECS[name](), **SPEC_OPTIONS.get(name, {})).validate(args)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_every_module_has_a_spec_and_a_task():
    engine = {"rack_batch", "rack_batch_preflight", "rack_batch_bake", "rack_batch_result"}
    assert set(TASKS) | engine == set(SPECS)
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")
    for name in ("rack", "rack_app", "rack_release", "rack_info", "rack_release_info"):
        with open(os.path.join(root, "modules", name + ".py")) as f:
            assert 'run_module("%s")' % name in f.read()        # the module's main() runs its task
    # one way to run a module: only the fleet engine's entry points, and rack_release's path lookup, have an action
    # plugin; each entry point has its module (the documentation, and a main() refusing a remote host)
    assert sorted(f for f in os.listdir(os.path.join(root, "action")) if f.endswith(".py")) == sorted(
        ["%s.py" % name for name in engine] + ["rack_release.py"])
    for name in engine:
        with open(os.path.join(root, "modules", name + ".py")) as f:
            assert 'controller_only("%s")' % name in f.read()       # its spec, and a refusal of a remote host


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


def test_rack_release_looks_up_a_relative_src_under_files_then_beside_the_playbook(tmp_path):
    (tmp_path / "files" / "release-1").mkdir(parents=True)
    (tmp_path / "release-2").mkdir()
    plugin = action(ReleaseAction, {})
    plugin._task.get_search_path.return_value = [str(tmp_path)]
    plugin._loader = DataLoader()
    assert plugin.resolved_src("release-1") == str(tmp_path / "files" / "release-1")
    assert plugin.resolved_src("release-2") == str(tmp_path / "release-2")
    assert plugin.resolved_src("elsewhere") == "elsewhere"          # not found: as given (the module names it)
    assert plugin.resolved_src("/abs/release") == "/abs/release"
    plugin._connection.transport = "ssh"                            # a directory of the host the module runs on
    assert plugin.resolved_src("release-1") == "release-1"


def test_rack_release_runs_its_module_as_ansible_runs_any_module(tmp_path):
    (tmp_path / "files" / "release-1").mkdir(parents=True)
    plugin = action(ReleaseAction, {"name": "1", "src": "release-1", "channel": "file:///c"})
    plugin._task.get_search_path.return_value = [str(tmp_path)]
    plugin._loader = DataLoader()
    plugin._connection.has_native_async = False
    plugin._task.async_val = 30
    with mock.patch.object(ReleaseAction, "_execute_module", return_value={"changed": True}) as execute:
        out = run(plugin)
    assert out == {"changed": True}
    execute.assert_called_once_with(module_name="convox.rack.rack_release", task_vars={}, wrap_async=True,
                                    module_args={"name": "1", "src": str(tmp_path / "files" / "release-1"),
                                                 "channel": "file:///c"})
