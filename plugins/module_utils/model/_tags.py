# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tag schema: which tags make a stack a rack or an app, and the ownership rule.

A stack is the rack ``<rack>`` only if it carries ``System=convox``, ``Type=rack`` and
``Rack=<rack>`` - or, installed by the Convox CLI, is named ``<rack>`` and carries ``System=convox``, ``Type=rack``
and no ``Rack`` tag; it is the app ``<app>`` of ``<rack>`` only if it carries ``System=convox``,
``Type=app``, ``Rack=<rack>`` and ``Name=<app>``.  Every manager checks this before any call that
changes a stack (and, in check mode, before planning).  Pure: imports only the error type.
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

SYSTEM = "convox"
# the parameters of a stack whose values stay masked although its template no longer declares them NoEcho (a
# release dropped NoEcho): the collection's memory that they were secret, kept on the stack itself
NO_ECHO_TAG = "convox:no-echo"
# the outputs of a stack whose values refer to a NoEcho parameter (Convox's ``Password`` output): CloudFormation shows
# outputs unmasked, the collection masks these; "-" for none.  Set with every change the collection makes, so that
# reading the stack later needs no template
NO_ECHO_OUTPUTS_TAG = "convox:no-echo-outputs"


def rack_tags(rack: str, org: str | None = None) -> dict[str, str]:
    """The system tags of the rack ``rack``."""
    tags = {"System": SYSTEM, "Type": "rack", "Rack": rack}
    if org:
        tags["Org"] = org
    return tags


def app_tags(rack: str, app: str) -> dict[str, str]:
    """The system tags of the app ``app`` of ``rack``."""
    return {"System": SYSTEM, "Type": "app", "Rack": rack, "Name": app}


def installed_by_cli(tags: Mapping[str, str]) -> bool:
    """Whether ``tags`` are those the Convox CLI's installer gives a rack (since release 20180923002725):
    ``System=convox``, ``Type=rack`` and no ``Rack`` tag.  A stack whose name is the rack's name and carries them
    *is* that rack."""
    return tags.get("System") == SYSTEM and tags.get("Type") == "rack" and "Rack" not in tags


def is_rack(tags: Mapping[str, str], rack: str | None = None) -> bool:
    """Whether ``tags`` mark a rack (the rack ``rack``, when given: callers pass the name of the stack the tags are
    read from, so a stack the Convox CLI installed - no ``Rack`` tag - is the rack of its own name)."""
    return tags.get("System") == SYSTEM and tags.get("Type") == "rack" and \
        (rack is None or tags.get("Rack") == rack or "Rack" not in tags)


def is_convox_app(tags: Mapping[str, str], parameters: Mapping[str, Any] | None = None) -> bool:
    """Whether an app stack was made by Convox itself - the rack renders it per app from its own Go template: a
    ``Generation`` tag, or no ``Version`` parameter - rather than from a channel's app.json by this collection."""
    return "Generation" in tags or (parameters is not None and "Version" not in parameters)


def rack_dependent(tags: Mapping[str, str], rack: str) -> bool:
    """A stack an uninstall of ``rack`` with ``force`` deletes before the rack: ``System=convox`` and ``Rack=<rack>``
    (apps of either kind, Convox's ``Type=service`` / ``Type=resource`` stacks), never a rack."""
    return tags.get("System") == SYSTEM and tags.get("Rack") == rack and tags.get("Type") not in ("rack", None)


def is_app(tags: Mapping[str, str], rack: str | None = None, app: str | None = None) -> bool:
    """Whether ``tags`` mark an app (of ``rack``; named ``app``; when given)."""
    return tags.get("System") == SYSTEM and tags.get("Type") == "app" and \
        (rack is None or tags.get("Rack") == rack) and (app is None or tags.get("Name") == app)


def no_echo_keys(tags: Mapping[str, str] | None) -> set[str]:
    """The parameter keys ``NO_ECHO_TAG`` lists."""
    return {key.strip() for key in str((tags or {}).get(NO_ECHO_TAG) or "").split(",") if key.strip()}


def no_echo_output_keys(tags: Mapping[str, str] | None) -> set[str] | None:
    """The output keys ``NO_ECHO_OUTPUTS_TAG`` lists, or None when the stack does not carry it (unknown)."""
    value = (tags or {}).get(NO_ECHO_OUTPUTS_TAG)
    if value is None:
        return None
    return {key.strip() for key in str(value).split(",") if key.strip() and key.strip() != "-"}


def format_tags(tags: Mapping[str, Any] | None) -> str:
    """``K=V, K=V`` in key order, or ``none``; values are shortened so a message stays one line."""
    if not tags:
        return "none"
    out = []
    for key in sorted(tags):
        value = str(tags[key]).replace("\n", " ")
        out.append("%s=%s" % (key, value if len(value) <= 64 else value[:61] + "..."))
    return ", ".join(out)


def missing_tags(tags: Mapping[str, str], expected: Mapping[str, str]) -> dict[str, str]:
    """The expected tags that ``tags`` does not carry with the expected value."""
    return {k: v for k, v in expected.items() if tags.get(k) != v}


def owner(tags: Mapping[str, str]) -> str | None:
    """What a stack carrying the collection's ownership (``System=convox``) belongs to, as its tags say ("rack
    prod", "app web of rack prod"); None for a stack without it."""
    if tags.get("System") != SYSTEM:
        return None
    if tags.get("Type") == "rack":
        return "rack %s" % (tags.get("Rack") or "(no Rack tag)")
    if tags.get("Type") == "app":
        return "app %s of rack %s" % (tags.get("Name") or "(no Name tag)", tags.get("Rack") or "(no Rack tag)")
    return "a convox stack of type %s" % (tags.get("Type") or "(no Type tag)")


def check_owned(kind_label: str, stack_name: str, tags: Mapping[str, str], expected: Mapping[str, str],
                adopt: bool) -> dict[str, str]:
    """Raise unless a stack whose ``tags`` are given is the thing described by ``expected``.

    ``kind_label`` names what was expected ("rack prod", "app web on rack prod").  With ``adopt`` a stack
    lacking the tags is taken over, and the tags it gains are returned ({} when it is already ours).  A stack
    that another rack or app owns (it carries ``System=convox``) is refused whatever ``adopt`` says: adopting
    takes over only stacks with no convox ownership, so one rack's stack is never re-tagged or deleted through
    another name (racks ``prod`` + app ``web-apis`` and rack ``prod-web`` + app ``apis`` share a stack name)."""
    missing = missing_tags(tags, expected)
    if not missing:
        return {}
    if expected.get("Type") == "rack" and installed_by_cli(tags) and stack_name == expected.get("Rack") \
            and set(missing) == {"Rack"}:
        return missing      # a rack the Convox CLI installed is this rack: it gains its Rack tag on the first change
    belongs = owner(tags)
    if belongs is not None:
        raise ConvoxError("stack %s belongs to %s (its tags: %s), not to %s; a stack owned by another rack or app is "
                          "never adopted, re-tagged or deleted through another name, so nothing was changed."
                          % (stack_name, belongs, format_tags(tags), kind_label), stack_tags=dict(tags))
    if adopt:
        return missing
    raise ConvoxError("stack %s is not %s: it lacks the tags %s (its tags: %s), so nothing was changed; set adopt: "
                      "true to take it over." % (stack_name, kind_label, format_tags(missing), format_tags(tags)),
                      stack_tags=dict(tags))


def desired_tags(system: Mapping[str, str], user: Mapping[str, Any] | None, current: Mapping[str, str] | None,
                 purge: bool) -> dict[str, str]:
    """The tags a stack should carry: the system tags over the user's, over (unless ``purge``) the current ones."""
    tags: dict[str, str] = {}
    if not purge:
        tags.update({k: v for k, v in (current or {}).items() if k not in system})
    tags.update({str(k): str(v) for k, v in (user or {}).items()})
    tags.update(system)
    return tags
