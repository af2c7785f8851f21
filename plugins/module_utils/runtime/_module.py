# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's ``main()`` on a host: ``AnsibleAWSModule`` with the module's spec (``_specs``), the task
run (``_tasks``), the result handed to exit_json / fail_json.  The one place that talks to the module
object."""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import role_factory
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, client_kwargs, connection_factory
from ansible_collections.convox.rack.plugins.module_utils.model._specs import SPEC_OPTIONS, SPECS
from ansible_collections.convox.rack.plugins.module_utils.runtime._tasks import run_task


def module_client_factory(module: Any) -> ClientFactory:
    """A ClientFactory over an ``AnsibleAWSModule``'s connection, resolved by amazon.aws (standard AWS options and env
    vars), every client from one session (``_common.connection_factory``; the fleet engine's is built the same way);
    with ``assume_role_arn``, acting as that role (its credentials renewing themselves)."""
    region, endpoint, connect = get_aws_connection_info(module)
    factory = connection_factory(region, endpoint, connect)
    if not module.params.get("assume_role_arn"):
        return factory
    return role_factory(factory, module.params, endpoint, client_kwargs(connect))


def aws_module(name: str) -> Any:
    """The ``AnsibleAWSModule`` of module ``name``: its spec and validator keywords (``_specs``), check mode."""
    return AnsibleAWSModule(argument_spec=SPECS[name](), supports_check_mode=True, **SPEC_OPTIONS.get(name, {}))


def controller_only(name: str) -> None:
    """The ``main()`` of a fleet engine module (``rack_batch*``), whose work its action plugin does in the controller:
    its arguments validated against its spec, then a failure saying where it runs."""
    module = aws_module(name)
    module.fail_json(msg="convox.rack.%s runs in the controller process only; do not delegate it to a host reached "
                         "over a remote connection." % name)


def main(name: str) -> None:
    """Run module ``name`` (its short name, e.g. ``rack``) and exit."""
    module = aws_module(name)
    result, secrets = run_task(name, module.params, module.check_mode, module._diff, module_client_factory(module),
                               module.warn)
    # the AnsibleModule itself: amazon.aws before 10 passes no other attribute through its wrapper
    getattr(module, "_module", module).no_log_values.update(secrets)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
