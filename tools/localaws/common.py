# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the parts of the local endpoint share: finding a stack in a backend, adding a stack event as AWS writes
it, a template's dictionary, and the request being served (its caller and ClientRequestToken)."""

from __future__ import annotations

import json
import os
import threading

DEFAULT_ACCOUNT = "123456789012"
UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE")
# the CloudFormation request being served in this thread: authorization header, account, ClientRequestToken
CALLER = threading.local()


def cfnlint_schemas():
    """The directory of AWS's CloudFormation resource schemas cfn-lint ships, found without importing cfn-lint (its
    package imports sympy and networkx: a second in every process that only reads its data)."""
    import importlib.util
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("localaws: cfn-lint is not installed (the endpoint reads its copy of AWS's resource schemas)")
    return os.path.join(list(spec.submodule_search_locations)[0], "data", "schemas")


def find_stack(backend, name):
    """The stack of ``backend`` with that id or name (moto keys its stacks by id), or None."""
    return backend.stacks.get(name) or next((s for s in backend.stacks.values() if s.name == name), None)


def add_event(stack, event):
    """Append a stack event (``status``, ``logical_id``, ``type``, ``reason``, ``physical_id``) as AWS writes one."""
    stack._add_stack_event(event["status"], resource_status_reason=event.get("reason"))
    last = stack.events[-1]
    last.logical_resource_id = event.get("logical_id", stack.name)
    last.physical_resource_id = event.get("physical_id", "")
    last.resource_type = event.get("type", "AWS::CloudFormation::Stack")


def template_dict(body):
    """A template (text, JSON or YAML, or a dict) as a dict."""
    if isinstance(body, dict):
        return body
    try:
        return json.loads(body)
    except ValueError:
        import yaml
        return yaml.safe_load(body)


def backend_of(account, region):
    from moto.cloudformation.models import cloudformation_backends
    return cloudformation_backends[account][region]


def listed(value):
    """A policy element as a list (IAM and stack policies allow one string or a list)."""
    return [value] if isinstance(value, str) else list(value or [])


def wildcard(pattern, value, case=True):
    """IAM's wildcard match (``*`` and ``?``); ``case=False`` for what IAM compares without case (actions)."""
    import fnmatch
    return fnmatch.fnmatchcase(value if case else value.lower(), pattern if case else pattern.lower())


def covers(statement, key, value, case=True, absent=False):
    """Whether a policy statement's ``key`` (Action, Resource) - or ``Not<key>``: everything but what it lists -
    covers ``value``; ``absent``: the answer for a statement with neither (a trust policy has no Resource)."""
    if key in statement:
        return any(wildcard(p, value, case) for p in listed(statement[key]))
    if "Not" + key in statement:
        return not any(wildcard(p, value, case) for p in listed(statement["Not" + key]))
    return absent
