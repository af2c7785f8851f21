# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module does with its validated parameters, apart from the module object (``_module.main`` hands it the
``AnsibleAWSModule``'s params, check mode, diff and client factory), so it is tested without one.

``run_task(name, params, check_mode, diff, factory, warn)`` returns the task result (a failure is a
result with ``failed`` and ``msg``, from the collection's ConvoxError or an AWS error) and the values to keep out of
it (values given for NoEcho template parameters)."""

from __future__ import annotations

from typing import Any, Callable, Dict, Set

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import check_account_params, verify_account
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils.managers._app import AppManager
from ansible_collections.convox.rack.plugins.module_utils.managers._info import RackInfo, RackReader
from ansible_collections.convox.rack.plugins.module_utils.managers._managed import run_manager
from ansible_collections.convox.rack.plugins.module_utils.managers._publish import ReleaseManager
from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager
from ansible_collections.convox.rack.plugins.module_utils.managers._release_info import ReleaseInfo
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

Result = Dict[str, Any]
Warn = Callable[[str], None]
Params = Dict[str, Any]
Run = Callable[[Params, bool, ClientFactory, Warn, Set[str]], Result]


def state_manager(manager_class: Callable[..., Any]) -> Run:
    """A manager's present() or absent(), by the ``state`` option."""
    def run(params: Params, check_mode: bool, factory: ClientFactory, warn: Warn, secrets: set[str]) -> Result:
        return run_manager(manager_class(params, check_mode=check_mode, client_factory=factory, warn=warn), secrets)
    return run


def rack_info(params: Params, check_mode: bool, factory: ClientFactory, warn: Warn, secrets: set[str]) -> Result:
    return {"changed": False, "racks": RackInfo(params, factory).racks()}


def rack_release_info(params: Params, check_mode: bool, factory: ClientFactory, warn: Warn,
                      secrets: set[str]) -> Result:
    return ReleaseInfo(params, client_factory=factory, rack_reader=RackReader(factory)).run()


TASKS: dict[str, Run] = {
    "rack": state_manager(RackManager),
    "rack_app": state_manager(AppManager),
    "rack_release": state_manager(ReleaseManager),
    "rack_info": rack_info,
    "rack_release_info": rack_release_info,
}


def run_task(name: str, params: Params, check_mode: bool, diff: bool, factory: ClientFactory,
             warn: Warn) -> tuple[Result, set[str]]:
    """Run module ``name`` (its short name) with validated ``params``: (task result, secret values)."""
    secrets: set[str] = set()
    try:
        # the account first: options that cannot be right, then (with account_id) the caller's account, before
        # anything is read or planned
        check_account_params(params)
        verify_account(factory, params)
        # an SDK error a manager did not word (creating a client) is worded naming the module
        result = wrap_aws("convox.rack.%s" % name)(TASKS[name])(params, check_mode, factory, warn, secrets)
    except ConvoxError as exc:
        result = dict(failed=True, msg=exc.msg, **exc.details)
    if not diff:
        result.pop("diff", None)
    result.setdefault("changed", False)
    return result, secrets
