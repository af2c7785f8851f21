# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure model of a release channel's ``versions.json`` and the required-release path rule.

No AWS, no I/O: only parsing, resolution and path computation, exactly as DESIGN.md states.
The only import is the package's error type (itself import-free).
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

ALIASES_LATEST = ("latest", "stable")
ALIAS_EDGE = "edge"
FIELDS = (("version", str), ("description", str), ("published", bool), ("required", bool))
# A version names a directory of the channel: no "/", no "..", no whitespace (publishing and reading
# apply the same rule, so a hostile versions.json cannot point a rack at a template elsewhere).
VERSION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
RESERVED = ALIASES_LATEST + (ALIAS_EDGE,)     # the aliases a version may not be named (the one alias table)
MAX_VERSION_LENGTH = 128


def version_name_problem(version: Any) -> str | None:
    """Why ``version`` is not a valid release name, or None."""
    if not isinstance(version, str) or not version:
        return "it is empty"
    if len(version) > MAX_VERSION_LENGTH:
        return "it is longer than %d characters" % MAX_VERSION_LENGTH
    if not set(version) <= VERSION_CHARS:
        return 'only letters, digits, ".", "_", "-" and "+" are allowed'
    if version in (".", ".."):
        return "it names a directory"
    if version in RESERVED:
        return "latest, stable and edge are reserved"
    return None


def validate_version_name(version: Any) -> None:
    problem = version_name_problem(version)
    if problem:
        raise ConvoxError('version %s is not a valid release name (%s).' % (json.dumps(version), problem))


class Release:
    """One entry of versions.json.  ``republished`` (optional, an ISO time) is the trace a forced republish leaves:
    racks on that version may run an earlier template than the channel now holds."""

    __slots__ = ("version", "description", "published", "required", "republished")

    def __init__(self, version: str, description: str = "", published: bool = True, required: bool = False,
                 republished: str | None = None) -> None:
        self.version = version
        self.description = description
        self.published = published
        self.required = required
        self.republished = republished

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "description": self.description,
                               "published": self.published, "required": self.required}
        if self.republished:
            out["republished"] = self.republished
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Release) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return "Release(%r)" % (self.to_dict(),)


def _entry_to_release(index: int, entry: Any) -> Release:
    if not isinstance(entry, dict):
        raise ConvoxError("versions.json entry %d is not an object." % index)
    for name, kind in FIELDS:
        if name not in entry:
            raise ConvoxError('versions.json entry %d is missing the field "%s".' % (index, name))
        value = entry[name]
        if not isinstance(value, kind):
            raise ConvoxError('versions.json entry %d field "%s" must be a %s, not %s.'
                              % (index, name, "boolean" if kind is bool else "string", type(value).__name__))
    problem = version_name_problem(entry["version"])
    if problem:
        raise ConvoxError("versions.json entry %d has the invalid version %s (%s)."
                          % (index, json.dumps(entry["version"]), problem))
    republished = entry.get("republished")
    if republished is not None and not isinstance(republished, str):
        raise ConvoxError('versions.json entry %d field "republished" must be a string, not %s.'
                          % (index, type(republished).__name__))
    return Release(entry["version"], entry["description"], entry["published"], entry["required"], republished)


class Releases:
    """The ordered list of releases of one channel (file order is authoritative)."""

    def __init__(self, releases: Iterable[Release]) -> None:
        self.releases = list(releases)
        seen: set[str] = set()
        for rel in self.releases:
            if rel.version in seen:
                raise ConvoxError('versions.json lists version "%s" more than once.' % rel.version)
            seen.add(rel.version)
        self._index = {rel.version: i for i, rel in enumerate(self.releases)}

    # ---- parsing / serializing -------------------------------------------------------
    @classmethod
    def parse(cls, text: str | bytes) -> Releases:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ConvoxError("versions.json is not valid UTF-8.") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConvoxError("versions.json is not valid JSON (%s)." % exc) from exc
        except RecursionError:
            raise ConvoxError("versions.json is nested too deeply to be a list of releases.") from None
        return cls.from_list(data)

    @classmethod
    def from_list(cls, data: Any) -> Releases:
        if not isinstance(data, list):
            raise ConvoxError("versions.json must be a JSON array of release entries.")
        return cls(_entry_to_release(i, entry) for i, entry in enumerate(data))

    def to_list(self) -> list[dict[str, Any]]:
        return [rel.to_dict() for rel in self.releases]

    def dumps(self) -> str:
        return json.dumps(self.to_list(), indent=2) + "\n"

    # ---- queries ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.releases)

    def __contains__(self, version: object) -> bool:
        return version in self._index

    def get(self, version: str) -> Release | None:
        i = self._index.get(version)
        return None if i is None else self.releases[i]

    def position(self, version: str) -> int:
        """Where ``version`` is in the channel's order."""
        if version not in self._index:
            raise ConvoxError('version "%s" not found.' % version)
        return self._index[version]

    @property
    def latest(self) -> Release | None:
        """The last published entry, or None."""
        for rel in reversed(self.releases):
            if rel.published:
                return rel
        return None

    @property
    def edge(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def resolve(self, target: str | None) -> str:
        """Resolve ``latest``/``stable``/``edge``/an explicit version to a version string."""
        if target is None or target in ALIASES_LATEST:
            rel = self.latest
            if rel is None:
                raise ConvoxError("the channel has no published release.")
            return rel.version
        if target == ALIAS_EDGE:
            rel = self.edge
            if rel is None:
                raise ConvoxError("the channel has no release.")
            return rel.version
        if target not in self._index:
            raise ConvoxError('version "%s" not found.' % target)
        return target

    def path(self, current: str, target: str, allow_downgrade: bool = False) -> list[str]:
        """The update path from ``current`` to the resolved ``target``.

        Every entry strictly between them that is published and required, in file order,
        then the target.  Equal: [].  Target before current: refused unless allowed, then a
        single direct step.
        """
        if current not in self._index:
            raise ConvoxError('current version "%s" not found.' % current)
        if target not in self._index:
            raise ConvoxError('version "%s" not found.' % target)
        ci, ti = self._index[current], self._index[target]
        if ci == ti:
            return []
        if ti < ci:
            if not allow_downgrade:
                raise ConvoxError('version "%s" is older than the current version "%s"; set allow_downgrade to '
                                  'downgrade.' % (target, current))
            return [target]
        between = [rel.version for rel in self.releases[ci + 1:ti] if rel.published and rel.required]
        return between + [target]

    def required_on(self, path: Iterable[str]) -> list[str]:
        return [v for v in path if (rel := self.get(v)) is not None and rel.required]

    # ---- editing (publishing) ---------------------------------------------------------
    def upsert(self, release: Release) -> tuple[Releases, bool]:
        """Return (new Releases, changed) with ``release`` added at the end or updated in place."""
        items = list(self.releases)
        i = self._index.get(release.version)
        if i is None:
            items.append(release)
        elif items[i] == release:
            return self, False
        else:
            items[i] = release
        return Releases(items), True

    def remove(self, version: str) -> tuple[Releases, bool]:
        if version not in self._index:
            return self, False
        return Releases(r for r in self.releases if r.version != version), True


def summary(releases: Releases, current: str | None = None, target: str = "latest") -> dict[str, Any]:
    """What rack_release_info returns: resolved target, path, next, up_to_date, required.

    A rack already past the target (for example on ``edge``) is not behind: its path is empty,
    ``up_to_date`` is true and ``ahead`` says so.
    """
    resolved = releases.resolve(target)
    latest = releases.latest
    result: dict[str, Any] = {
        "releases": releases.to_list(),
        "latest": latest.version if latest else None,
        "current": current,
        "target": resolved,
        "path": [],
        "next": None,
        "up_to_date": None,
        "ahead": None,
        "required": [],
    }
    if current is not None:
        if current not in releases:
            raise ConvoxError('current version "%s" not found.' % current)
        ahead = releases.position(current) > releases.position(resolved)
        path = [] if ahead else releases.path(current, resolved)
        result.update(path=path, next=path[0] if path else None, up_to_date=not path, ahead=ahead,
                      required=releases.required_on(path))
    return result
