# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only discovery of racks and their apps in a region (rack_info, the inventory plugin)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils._common import wrap_aws


def is_rack(stack):
    return stack.tags.get("System") == "convox" and stack.tags.get("Type") == "rack"


def is_app(stack):
    return stack.tags.get("System") == "convox" and stack.tags.get("Type") == "app"


class RackInfo(object):
    """Every rack of a region (optionally one name or one org) with its apps, from one
    paginated DescribeStacks listing."""

    def __init__(self, params, client_factory):
        self.params = params
        self.factory = client_factory
        self.stacks = cfn.Stacks(client_factory)

    @wrap_aws("listing racks")
    def racks(self):
        name = self.params.get("name")
        org = self.params.get("org")
        stacks = self.stacks.list()
        apps_by_rack = {}
        for stack in stacks:
            if is_app(stack):
                apps_by_rack.setdefault(stack.tags.get("Rack"), []).append(dict(
                    name=stack.tags.get("Name") or stack.name, stack_name=stack.name, status=stack.status,
                    version=stack.parameters.get("Version"), parameters=stack.parameters))
        racks = []
        for stack in stacks:
            if not is_rack(stack):
                continue
            rack_name = stack.tags.get("Rack") or stack.name
            if name and rack_name != name:
                continue
            if org and stack.tags.get("Org") != org:
                continue
            racks.append(dict(
                name=rack_name, org=stack.tags.get("Org"), region=self.factory.region, status=stack.status,
                version=stack.parameters.get("Version"), stack_id=stack.stack_id, parameters=stack.parameters,
                outputs=stack.outputs, tags=stack.tags, termination_protection=stack.termination_protection,
                apps=sorted(apps_by_rack.get(rack_name, []), key=lambda a: a["name"])))
        return sorted(racks, key=lambda r: r["name"])
