# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: the rules for rack and app names (a rack's name is its stack name, an app's stack is
``<rack>-<app>``), and how a user-given value is quoted in a message."""

from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

# Matched whole (re.fullmatch): "$" alone would accept a name ending in a newline.
NAME_RE = r"[a-zA-Z][-a-zA-Z0-9]{0,63}"
APP_NAME_RE = r"[a-zA-Z][-a-zA-Z0-9]{3,29}"


def quote(value: Any) -> str:
    """A user-given value in a message: JSON-quoted, so a newline or a quote inside shows as such."""
    return json.dumps(value) if isinstance(value, str) else json.dumps(str(value))


def validate_rack_name(name: Any) -> str:
    """A rack name is its stack name: a letter, then letters, digits and hyphens, at most 64."""
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        raise ConvoxError('rack name %s is invalid: it must start with a letter and contain only letters, digits '
                          'and hyphens (at most 64 characters).' % quote(name))
    return name


def validate_app_name(name: Any, rack: str) -> str:
    """An app name: a letter, then letters, digits and hyphens, 4 to 30 characters, not its rack's name."""
    if not isinstance(name, str) or not re.fullmatch(APP_NAME_RE, name):
        raise ConvoxError('app name %s is invalid: it must start with a letter, contain only letters, digits and '
                          'hyphens, and be 4 to 30 characters long.' % quote(name))
    if name == rack:
        raise ConvoxError('app name "%s" must differ from its rack\'s name.' % name)
    return name
