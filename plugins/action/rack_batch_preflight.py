# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""convox.rack.rack_batch_preflight (controller-side): check the fleet and resolve the run's releases before any change
(plugins/plugin_utils/_fleet_engine.py)."""

from __future__ import annotations

from typing import Any

from ansible_collections.convox.rack.plugins.plugin_utils._fleet_engine import FleetEngine


class ActionModule(FleetEngine):
    NAME = "rack_batch_preflight"

    def entry(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        return self.preflight(params, task_vars)
