# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unit tests take from ansible-core, on every release meta/runtime.yml admits (the oldest environment runs
them on 2.17): the test helpers 2.19 added, done the older way where they are missing."""

from __future__ import annotations

import contextlib
import json

try:
    from ansible.template import trust_as_template
except ImportError:         # before 2.19 every string given to a plugin's options may be templated
    def trust_as_template(value):
        return value

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:
    @contextlib.contextmanager
    def patch_module_args(args):
        """A module's arguments as ansible-core before 2.19 passes them (basic._ANSIBLE_ARGS)."""
        from ansible.module_utils import basic
        before = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = before

__all__ = ["patch_module_args", "trust_as_template"]
