# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack (see plugins/plugin_utils/_action.py)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils._rack import RackManager
from ansible_collections.convox.rack.plugins.modules import rack
from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    MODULE = "convox.rack.rack"
    MODULE_CODE = rack
    MANAGER = RackManager
