# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only discovery of racks and their apps in a region (rack_info, the inventory plugin)."""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils.aws._parameters import NO_ECHO_MASK
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import no_echo_outputs
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError, no_version_parameter, not_the_rack
from ansible_collections.convox.rack.plugins.module_utils.model._tags import (
    format_tags,
    is_app,
    is_convox_app,
    is_rack,
    no_echo_keys,
    no_echo_output_keys,
)


def kept_secret(stack: cfn.Stack) -> set[str]:
    """Values of the stack's parameters that stay masked although its template no longer says NoEcho (listed in
    its ``convox:no-echo`` tag): CloudFormation shows them, the collection never does."""
    return {value for key, value in stack.parameters.items()
            if key in no_echo_keys(stack.tags) and value and value != NO_ECHO_MASK}


def needs_template(stack: cfn.Stack) -> bool:
    """Whether masking ``stack``'s outputs needs its template: it has NoEcho parameters, and no tag of the
    collection says which outputs refer to them (a stack the collection never changed, such as a Convox rack)."""
    return any(v == NO_ECHO_MASK for v in stack.parameters.values()) and no_echo_output_keys(stack.tags) is None


def masked(stack: cfn.Stack, template: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameters, outputs) of ``stack`` as results show them: a parameter that was ever NoEcho masked, its value
    masked in the outputs too, and every output that refers to a NoEcho parameter masked (as the stack's tag lists
    them, else as ``template`` declares them)."""
    secrets = kept_secret(stack)
    parameters = {k: NO_ECHO_MASK if v in secrets else v for k, v in stack.parameters.items()}
    hidden = no_echo_output_keys(stack.tags)
    if hidden is None:
        hidden = no_echo_outputs(template) if template is not None else set()
    outputs = {}
    for key, value in stack.outputs.items():
        if key in hidden:
            outputs[key] = NO_ECHO_MASK
            continue
        for secret in secrets:
            value = value.replace(secret, NO_ECHO_MASK) if isinstance(value, str) else value
        outputs[key] = value
    return parameters, outputs


def is_rack_stack(stack: cfn.Stack) -> bool:
    """A rack as discovery sees it: the rack tags, and a ``Rack`` tag equal to the stack's own name (a
    stack tagged ``Rack=prod`` under another name is not the rack prod, and not a rack at all)."""
    return is_rack(stack.tags, stack.name) and stack.tags.get("Rack", stack.name) == stack.name


def rack_view(stack: cfn.Stack, region: str | None, template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every module returns about a rack (rack's ``rack``, an element of rack_info's ``racks``); ``template``:
    the stack's, when ``needs_template`` says its outputs cannot be masked without it."""
    parameters, outputs = masked(stack, template)
    return {"name": stack.name, "org": stack.tags.get("Org"), "region": region, "account_id": stack.account_id,
            "status": stack.status, "version": stack.parameters.get("Version"), "stack_id": stack.stack_id,
            "parameters": parameters, "outputs": outputs, "tags": stack.tags,
            "termination_protection": stack.termination_protection}


def app_entry(stack: cfn.Stack) -> dict[str, Any]:
    """One app of a rack, as listed by rack_info and by an uninstall's plan."""
    rack = stack.tags.get("Rack") or ""
    convox = is_convox_app(stack.tags, stack.parameters)
    # an app Convox rendered has no Version parameter: its release is its Version tag
    version = stack.tags.get("Version") if convox else stack.parameters.get("Version")
    return {"name": stack.tags.get("Name") or stack.name[len(rack) + 1:], "stack_name": stack.name,
            "status": stack.status, "version": version, "parameters": masked(stack)[0],
            "made_by": "convox" if convox else "collection"}


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
            if (name and stack.name != name) or (org and stack.tags.get("Org") != org):
                continue
            rack = rack_view(stack, self.factory.region,
                             self.stacks.template(stack.stack_id) if needs_template(stack) else None)
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
        return str(version)

    def template(self, name: str) -> dict[str, Any]:
        return cfn.Stacks(self.factory).template(self.stack(name).stack_id)

    def drift(self, name: str) -> dict[str, Any]:
        return cfn.Stacks(self.factory).drift(self.stack(name), timeout=self.drift_timeout)
