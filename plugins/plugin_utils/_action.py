# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet engine (``convox.rack.rack_batch``, the one task that runs in the controller) needs of its
action plugin: arguments validated against the modules' own specs (``module_utils/model/_specs.py``), worded as a module
words them, and the task's ``environment:`` and ``timeout``.  Every other module of the collection is an ordinary
module run by Ansible; sessions and credentials (AWS options resolved by amazon.aws, roles) are ``_sessions.py``'s.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator, ValidationResult
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.convox.rack.plugins.module_utils.aws._channel import CHANNEL_TIMEOUT
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._specs import SPEC_OPTIONS, SPECS


def validation_message(validated: ValidationResult, module: str) -> str:
    """The argument-spec errors of ``validated`` as the module would word them, in one message."""
    messages: list[str] = []
    for error in validated.errors:
        if isinstance(error, UnsupportedError):
            messages.append("Unsupported parameters for (%s) module: %s" % (module, error.msg))
        else:
            messages.append(error.msg)
    # an element's conversion error is repeated inside the option's own message: keep the latter
    return "; ".join(m for m in messages if not any(m in other and m != other for other in messages))


def validate(name: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(validated params, values to keep out of the result) of module ``name`` (its short name, with the standard
    AWS options); ConvoxError with the module's own wording when they are invalid."""
    spec = aws_argument_spec()
    spec.update(SPECS[name]())
    # a module gets its arguments as JSON: validating what JSON gives makes the values plain Python (not
    # the controller's tagged strings) and the messages the module's own ("is of type str")
    args = json.loads(json.dumps(dict(args), default=str))
    validated = ArgumentSpecValidator(spec, **SPEC_OPTIONS.get(name, {})).validate(args)
    if validated.error_messages:
        raise ConvoxError(validation_message(validated, "convox.rack.%s" % name))
    return validated.validated_parameters, validated._no_log_values


class ConvoxAction(ActionBase):
    """The fleet engine's action plugin base: the task runs here, with no module and no connection."""

    NAME: str = ""
    TRANSFERS_FILES = False
    _requires_connection = False
    supports_diff = True

    def channel_timeout(self) -> float | None:
        """How long a release channel object may take to arrive in this task: within half the task's ``timeout``
        (so that a slow channel fails the task with its own message, not Ansible's), at most CHANNEL_TIMEOUT."""
        timeout = int(getattr(self._task, "timeout", 0) or 0)
        return min(CHANNEL_TIMEOUT, max(timeout / 2.0, 1.0)) if timeout > 0 else None

    def _task_environment(self) -> dict[str, Any]:
        """The task's ``environment:`` (AWS_* fallbacks of the options, the SDK's variables), as a module would get
        it."""
        env: dict[str, Any] = {}
        for item in self._task.environment or []:
            item = self._templar.template(item)
            if isinstance(item, dict):
                env.update(item)
        return env

    def validate(self, name: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        return validate(name, args)
