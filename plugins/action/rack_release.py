# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack_release (see plugins/plugin_utils/_action.py).

A relative ``src`` is looked up like other controller-side file arguments: under the play's
``files/`` directory, then relative to the playbook."""

from __future__ import annotations

import os

from ansible_collections.convox.rack.plugins.module_utils._release import ReleaseManager
from ansible_collections.convox.rack.plugins.modules.rack_release import argument_spec
from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    MODULE = "convox.rack.rack_release"

    def argument_spec(self):
        return argument_spec()

    def options(self):
        return dict(required_if=[("state", "present", ["src"])])

    def prepare(self, params):
        src = params.get("src")
        if src and not os.path.isabs(src):
            base = self._loader.get_basedir()
            for candidate in (os.path.join(base, "files", src), os.path.join(base, src)):
                if os.path.isdir(candidate):
                    params["src"] = candidate
                    break
        return params

    def execute(self, params, check_mode, factory, warn):
        manager = ReleaseManager(params, check_mode=check_mode, client_factory=factory, warn=warn)
        return manager.present() if params["state"] == "present" else manager.absent()
