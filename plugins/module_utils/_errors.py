# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one domain error type raised by every convox.rack manager.

This file imports nothing, so that the pure release model can use it too.
"""

from __future__ import annotations

from typing import Any


class ConvoxError(Exception):
    """A failure the operator must read: ``msg`` is one sentence naming the cause."""

    def __init__(self, msg: str, **details: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.details = details
