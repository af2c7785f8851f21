# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack_info (see plugins/plugin_utils/_action.py)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils._info import RackInfo
from ansible_collections.convox.rack.plugins.modules import rack_info
from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    MODULE = "convox.rack.rack_info"
    MODULE_CODE = rack_info

    def execute(self, params, check_mode, factory, warn):
        return {"changed": False, "racks": RackInfo(params, factory).racks()}
