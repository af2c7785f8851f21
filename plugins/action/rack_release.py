# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""convox.rack.rack_release: a relative ``src`` is looked up as other controller file arguments are (the role's or
play's ``files/`` directory, then beside the playbook), then the module runs as any module runs (check mode, diff,
``async``, ``no_log`` are Ansible's own).  On a connection other than ``local`` the path is passed on as given: it
names a directory of the host the module runs on."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def resolved_src(self, src: Any) -> Any:
        """``src`` found on the controller (files/, then beside the playbook), or as given."""
        if not src or not isinstance(src, str) or src.startswith("/") \
                or getattr(self._connection, "transport", "local") not in LOCAL_CONNECTIONS:
            return src
        try:
            return self._find_needle("files", src)
        except AnsibleError:
            return src          # not found: the module says so, naming the path given

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        if "src" in args:
            args["src"] = self.resolved_src(args["src"])
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(module_name="convox.rack.rack_release", module_args=args,
                                                         task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
