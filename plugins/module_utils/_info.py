# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only discovery of racks and their apps in a region (rack_info, the inventory plugin)."""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.convox.rack.plugins.module_utils import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils._common import ClientFactory, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError, no_version_parameter, not_the_rack
from ansible_collections.convox.rack.plugins.module_utils._parameters import NO_ECHO_MASK
from ansible_collections.convox.rack.plugins.module_utils._tags import format_tags, is_app, is_rack, no_echo_keys


def kept_secret(stack: cfn.Stack) -> set[str]:
    """Values of the stack's parameters that stay masked although its template no longer says NoEcho (listed in
    its ``convox:no-echo`` tag): CloudFormation shows them, the collection never does."""
    return {value for key, value in stack.parameters.items()
            if key in no_echo_keys(stack.tags) and value and value != NO_ECHO_MASK}


def masked(stack: cfn.Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameters, outputs) of ``stack`` as results show them: a parameter that was ever NoEcho masked, and its
    value masked in the outputs too."""
    secrets = kept_secret(stack)
    parameters = {k: NO_ECHO_MASK if v in secrets else v for k, v in stack.parameters.items()}
    outputs = {}
    for key, value in stack.outputs.items():
        for secret in secrets:
            value = value.replace(secret, NO_ECHO_MASK) if isinstance(value, str) else value
        outputs[key] = value
    return parameters, outputs


def is_rack_stack(stack: cfn.Stack) -> bool:
    """A rack as discovery sees it: the rack tags, and a ``Rack`` tag equal to the stack's own name (a
    stack tagged ``Rack=prod`` under another name is not the rack prod, and not a rack at all)."""
    return is_rack(stack.tags, stack.name)


def rack_view(stack: cfn.Stack, region: str | None) -> dict[str, Any]:
    """What every module returns about a rack (rack's ``rack``, an element of rack_info's ``racks``)."""
    parameters, outputs = masked(stack)
    return {"name": stack.name, "org": stack.tags.get("Org"), "region": region, "account_id": stack.account_id,
            "status": stack.status, "version": stack.parameters.get("Version"), "stack_id": stack.stack_id,
            "parameters": parameters, "outputs": outputs, "tags": stack.tags,
            "termination_protection": stack.termination_protection}


def app_entry(stack: cfn.Stack) -> dict[str, Any]:
    """One app of a rack, as listed by rack_info and by an uninstall's plan."""
    rack = stack.tags.get("Rack") or ""
    return {"name": stack.tags.get("Name") or stack.name[len(rack) + 1:], "stack_name": stack.name,
            "status": stack.status, "version": stack.parameters.get("Version"), "parameters": masked(stack)[0]}


class RackInfo:
    """Every rack of a region (optionally one name or one org) with its apps, from one
    paginated DescribeStacks listing."""

    def __init__(self, params: Mapping[str, Any], client_factory: ClientFactory) -> None:
        self.params = params
        self.factory = client_factory
        self.stacks = cfn.Stacks(client_factory)

    @wrap_aws("listing racks")
    def racks(self) -> list[dict[str, Any]]:
        name = self.params.get("name")
        org = self.params.get("org")
        stacks = self.stacks.live()
        apps_by_rack: dict[str | None, list[dict[str, Any]]] = {}
        for stack in stacks:
            if is_app(stack.tags):
                apps_by_rack.setdefault(stack.tags.get("Rack"), []).append(app_entry(stack))
        racks = []
        for stack in stacks:
            if not is_rack_stack(stack):
                continue
            rack = rack_view(stack, self.factory.region)
            if (name and rack["name"] != name) or (org and rack["org"] != org):
                continue
            rack["apps"] = sorted(apps_by_rack.get(rack["name"], []), key=lambda a: a["name"])
            racks.append(rack)
        return sorted(racks, key=lambda r: r["name"])


def rack_stack(client_factory: ClientFactory, name: str) -> cfn.Stack:
    """The stack of rack ``name``; fails unless it exists and is the rack (the rack tags with ``Rack=<name>``)."""
    stack = cfn.Stacks(client_factory).describe(name)
    if stack is None:
        raise ConvoxError('rack "%s" does not exist in region %s.' % (name, client_factory.region))
    if not is_rack(stack.tags, name):
        raise not_the_rack(name, name, format_tags(stack.tags), "")
    return stack


class RackReader:
    """What rack_release_info reads of a rack: its release, its template, its drift.  The stack must be the rack
    (the rack tags with ``Rack=<name>``)."""

    def __init__(self, client_factory: ClientFactory, drift_timeout: float = 600) -> None:
        self.factory = client_factory
        self.drift_timeout = drift_timeout
        self._stacks: dict[str, cfn.Stack] = {}

    def stack(self, name: str) -> cfn.Stack:
        if name not in self._stacks:
            self._stacks[name] = rack_stack(self.factory, name)
        return self._stacks[name]

    def version(self, name: str) -> str:
        version = self.stack(name).parameters.get("Version")
        if not version:
            raise no_version_parameter(name, "")
        return version

    def template(self, name: str) -> dict[str, Any]:
        return cfn.Stacks(self.factory).template(self.stack(name).stack_id)

    def drift(self, name: str) -> dict[str, Any]:
        return cfn.Stacks(self.factory).drift(self.stack(name), timeout=self.drift_timeout)
