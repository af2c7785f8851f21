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


# The sentences more than one place says, written once.

def not_the_rack(stack: str, rack: str, tags_text: str, consequence: str) -> ConvoxError:
    """Stack ``stack`` lacks rack ``rack``'s tags (``tags_text``: its tags, formatted); ``consequence``: what was
    therefore left alone."""
    return ConvoxError("stack %s is not rack %s: it lacks the tags System=convox, Type=rack, Rack=%s (its tags: %s)%s."
                       % (stack, rack, rack, tags_text, consequence))


def no_version_parameter(stack: str, consequence: str) -> ConvoxError:
    """A stack without the Version parameter every rack has."""
    return ConvoxError("stack %s has no Version parameter, so it is not a rack%s." % (stack, consequence))


def template_without_version(version: str, consequence: str) -> ConvoxError:
    """A release whose rack template declares no Version parameter."""
    return ConvoxError("the rack template of version %s declares no Version parameter, so a rack on it could not tell "
                       "its release%s." % (version, consequence))


def still_in_progress(stack: str, status: str, seconds: float) -> str:
    """A wait that ended (wait_timeout) with the stack still busy."""
    return ("stack %s is still %s after %d seconds; raise wait_timeout or check the stack in CloudFormation."
            % (stack, status, seconds))
