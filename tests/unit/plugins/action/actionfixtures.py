# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action plugin as the controller builds it, with only what ours read."""

from __future__ import annotations

from unittest import mock


def action(cls, args, check_mode=False, diff=False, basedir="/nowhere"):
    """An action plugin as the controller builds it, with only what ours reads."""
    task = mock.MagicMock()
    task.args = args
    task.environment = []
    task.async_val = 0
    task.diff = diff
    task.check_mode = check_mode
    connection = mock.MagicMock()
    connection.transport = "local"
    play_context = mock.MagicMock()
    play_context.check_mode = check_mode
    loader = mock.MagicMock()
    loader.get_basedir.return_value = basedir
    templar = mock.MagicMock()
    templar.template.side_effect = lambda value: value
    plugin = cls(task, connection, play_context, loader, templar, mock.MagicMock())
    return plugin


def run(plugin, task_vars=None):
    with mock.patch("ansible.plugins.action.ActionBase.run", return_value={}):
        return plugin.run(task_vars=task_vars or {})
