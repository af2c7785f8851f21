# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet
short_description: The linear strategy, with the collection's AWS code loaded before workers fork
version_added: 1.0.0
description:
  - Runs a play exactly as the P(ansible.builtin.linear#strategy) strategy does (task by task, in lockstep per batch
    of hosts).
  - Before the first task it imports boto3 and the collection's AWS code and parses the AWS service models they
    use, in the controller process that forks a worker per host and task, so every worker starts with them
    loaded instead of importing them again (about 0.3 s of CPU per worker). The fleet playbooks (C(site.yml),
    C(update.yml)) set it as their plays' strategy; nothing else changes.
  - Makes no network call and reads no credentials.
author:
  - Convox Rack Maintainers (@convox-rack)
"""

from ansible.plugins.strategy.linear import StrategyModule as LinearStrategy

from ansible_collections.convox.rack.plugins.plugin_utils._sessions import warm


class StrategyModule(LinearStrategy):
    def run(self, iterator, play_context):
        try:
            warm()
        except Exception:  # pylint: disable=broad-except  # a warm-up never breaks a play
            pass
        return super().run(iterator, play_context)
