# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack (see plugins/plugin_utils/_action.py)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    NAME = "rack"
