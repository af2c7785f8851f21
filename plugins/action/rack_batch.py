# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""convox.rack.rack_batch (controller-side): converge a batch of racks at once, waiting shared per region
(plugins/plugin_utils/_fleet_engine.py)."""

from __future__ import annotations

from typing import Any

from ansible_collections.convox.rack.plugins.plugin_utils._fleet_engine import FleetEngine


class ActionModule(FleetEngine):
    NAME = "rack_batch"

    def entry(self, params: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        return self.batch(params, task_vars)
