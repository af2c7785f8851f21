# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the local endpoint changes moto.  Each part (``cfn``, ``iam``, ``timing``, ...) lists its patches in a
``Patches`` table: every patch names the moto attribute it replaces (or the class it adds a method to) and the AWS
rule it stands for.  ``Patches.apply()`` first checks that every attribute the part patches still exists in the
installed moto - a moto release that renamed one fails the start-up, naming it, instead of silently dropping the
rule - and only then installs them.  ``rules()`` lists every patch of every part: which AWS rule each models."""

from __future__ import annotations

import importlib
from typing import Any, Callable

MOTO_SERIES = "5.2"           # the moto minor version these patches are written against (requirements-dev.txt pins it)
_TABLES: list[Patches] = []


class MotoChanged(RuntimeError):
    """The installed moto lacks an attribute the local endpoint patches."""


def resolve(target: str) -> tuple[Any, str]:
    """(owner object, attribute name) of ``target`` ("module:Attr.path")."""
    module, dummy, path = target.partition(":")
    owner: Any = importlib.import_module(module)
    names = path.split(".")
    for name in names[:-1]:
        owner = getattr(owner, name)
    return owner, names[-1]


class Patches:
    """The patches of one part of the local endpoint."""

    def __init__(self, part: str, listed: bool = True, doc: str = "") -> None:
        self.part = part
        self.doc = doc          # the AWS documentation its rules follow ("" for test hooks and speed-ups)
        self.entries: list[tuple[str, str, Callable[[Any], Any], bool]] = []   # target, rule, make(original), adds
        self.applied = False
        if listed:
            _TABLES.append(self)

    def wrap(self, target: str, rule: str, adds: bool = False) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Decorator of ``make(original) -> replacement`` for the moto attribute ``target``; ``adds``: moto has no
        such attribute (the patch adds an API moto lacks), only its owner must exist."""
        def decorator(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
            self.entries.append((target, rule, make, adds))
            return make
        return decorator

    def missing(self) -> list[str]:
        out = []
        for target, rule, dummy, adds in self.entries:
            try:
                owner, name = resolve(target)
                if not adds and not hasattr(owner, name):
                    raise AttributeError("no attribute %s" % name)
            except (ImportError, AttributeError) as exc:
                out.append("%s (%s: %s; %s)" % (target, self.part, rule, exc))
        return out

    def apply(self) -> None:
        """Check every target, then install every patch (once per process)."""
        if self.applied:
            return
        missing = self.missing()
        if missing:
            import moto
            raise MotoChanged("moto %s lacks what the local endpoint patches (written against moto %s.x): %s"
                              % (getattr(moto, "__version__", "?"), MOTO_SERIES, "; ".join(missing)))
        for target, dummy, make, adds in self.entries:
            owner, name = resolve(target)
            setattr(owner, name, make(None if adds else getattr(owner, name)))
        self.applied = True


def docs() -> dict[str, str]:
    """Each part's AWS documentation page (what its rules follow)."""
    return {table.part: table.doc for table in _TABLES}


def rules() -> list[tuple[str, str, str]]:
    """Every patch of every part: (part, moto attribute, the AWS rule it stands for)."""
    return [(table.part, target, rule) for table in _TABLES for target, rule, dummy, dummy2 in table.entries]
