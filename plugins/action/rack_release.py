# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side convox.rack.rack_release (see plugins/plugin_utils/_action.py).

A relative ``src`` is looked up like other controller-side file arguments: under the play's
``files/`` directory, then relative to the playbook."""

from __future__ import annotations

import os

from ansible_collections.convox.rack.plugins.plugin_utils._action import ConvoxAction


class ActionModule(ConvoxAction):
    NAME = "rack_release"

    def prepare(self, params):
        src = params.get("src")
        if src and not os.path.isabs(src):
            base = self._loader.get_basedir()
            for candidate in (os.path.join(base, "files", src), os.path.join(base, src)):
                if os.path.isdir(candidate):
                    params["src"] = candidate
                    break
        return params
