# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module glue: run a manager from a module's main() (the one place that talks to the module object).

Managers themselves never see it; the action plugins run the same managers from the controller."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils._common import module_client_factory
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError


def _hide_secrets(module, manager):
    """Values given for NoEcho parameters never appear in the task's output or invocation."""
    if manager is not None:
        module.no_log_values.update(getattr(manager, "secret_values", ()))


def run_state_manager(module, manager_class):
    """Build ``manager_class`` from the module's params, run present()/absent() by ``state``, exit."""
    manager = None
    try:
        manager = manager_class(module.params, check_mode=module.check_mode,
                                client_factory=module_client_factory(module), warn=module.warn)
        result = manager.present() if module.params["state"] == "present" else manager.absent()
    except ConvoxError as exc:
        _hide_secrets(module, manager)
        module.fail_json(msg=exc.msg, **exc.details)
    _hide_secrets(module, manager)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)
