# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack_release_info (see plugins/plugin_utils/_action.py)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils._info import rack_drift_reader, rack_version_reader
from ansible_collections.convox.rack.plugins.module_utils._release import ReleaseInfo
from ansible_collections.convox.rack.plugins.modules import rack_release_info
from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    MODULE = "convox.rack.rack_release_info"
    MODULE_CODE = rack_release_info

    def execute(self, params, check_mode, factory, warn):
        return ReleaseInfo(params, client_factory=factory, rack_version_reader=rack_version_reader(factory),
                           rack_drift_reader=rack_drift_reader(factory)).run()
