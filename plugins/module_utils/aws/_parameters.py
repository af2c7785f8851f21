# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Template parameters, pure: Ansible values to CloudFormation strings, the checks a user's
parameters must pass before any call, the Parameters list of a create or update, and what an
update would change."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws._templates import declared_parameters
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

NO_ECHO_MASK = "****"


def to_parameter_value(name: str, value: Any, declaration: Mapping[str, Any] | None = None) -> str:
    """Ansible values -> CloudFormation strings (booleans become Yes/No where the template says so)."""
    if value is None:
        raise ConvoxError("parameter %s has no value." % name)
    if isinstance(value, bool):
        allowed = [str(v) for v in (declaration or {}).get("AllowedValues", [])]
        if "Yes" in allowed and "No" in allowed:
            return "Yes" if value else "No"
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        raise ConvoxError("parameter %s must be a string, number, boolean or list, not a dictionary." % name)
    return str(value)


def normalize_parameters(params: Mapping[str, Any] | None, template: Mapping[str, Any] | None = None) -> dict[str, str]:
    decls = declared_parameters(template) if template else {}
    return {k: to_parameter_value(k, v, decls.get(k)) for k, v in (params or {}).items()}


def check_parameters(kind: str, name: str, user: Mapping[str, str], template: Mapping[str, Any], fixed: Iterable[str],
                     where: str) -> None:
    """Fail early on keys the template does not declare, collection-owned keys and AllowedValues."""
    decls = declared_parameters(template)
    for key in sorted(user):
        if key in fixed:
            raise ConvoxError("parameter %s of %s %s is set by the collection and cannot be given." % (key, kind, name))
        if key not in decls:
            raise ConvoxError('parameter "%s" is not declared by the %s template of %s; declared: %s.'
                              % (key, kind, where, ", ".join(sorted(k for k in decls if k not in fixed)) or "none"))
        allowed = decls[key].get("AllowedValues") if isinstance(decls[key], dict) else None
        if allowed and user[key] not in [str(a) for a in allowed]:
            raise ConvoxError('parameter %s of %s %s must be one of %s, not "%s".'
                              % (key, kind, name, ", ".join(str(a) for a in allowed), user[key]))


def missing_values(template: Mapping[str, Any], user: Mapping[str, str], fixed: Mapping[str, str],
                   current: Mapping[str, str] | None = None) -> list[str]:
    """The parameters ``template`` declares with no ``Default`` that would get no value: not the user's, not the
    collection's, not the stack's own (an update keeps those)."""
    return sorted(key for key, decl in declared_parameters(template).items()
                  if not (isinstance(decl, dict) and "Default" in decl)
                  and key not in user and key not in fixed and key not in (current or {}))


def require_values(kind: str, name: str, template: Mapping[str, Any], user: Mapping[str, str],
                   fixed: Mapping[str, str], where: str, current: Mapping[str, str] | None = None) -> None:
    """Refuse, before any call (a dry run too), parameters with no default that would get no value, naming all."""
    missing = missing_values(template, user, fixed, current)
    if not missing:
        return
    decls = declared_parameters(template)
    secret = [k for k in missing if isinstance(decls.get(k), dict) and str(decls[k].get("NoEcho", "")).lower() == "true"]
    hint = (" (%s NoEcho: generate %s, e.g. \"{{ lookup('ansible.builtin.password', '/dev/null', length=30, "
            "chars=['ascii_letters', 'digits']) }}\")" % (", ".join(secret), "it" if len(secret) == 1 else "them")
            if secret else "")
    raise ConvoxError("%s %s: the %s template of %s declares %s with no default and no value: %s; give %s in "
                      "parameters%s; nothing was changed."
                      % (kind, name, kind, where, "a parameter" if len(missing) == 1 else "parameters",
                         ", ".join(missing), "it" if len(missing) == 1 else "them", hint))


def build_parameters(template: Mapping[str, Any], current: Mapping[str, str] | None, user: Mapping[str, str],
                     fixed: Mapping[str, str]) -> list[dict[str, Any]]:
    """The Parameters list for a create/update with ``template``.

    Declared keys only: ``fixed`` (collection-owned) first, then the user's value, else - for a key the stack
    already has - ``UsePreviousValue``: CloudFormation keeps the value the stack has when it updates, so a value
    someone changed since the stack was read is never overwritten with the one read (nor is a NoEcho value, which
    reads masked); else nothing (the template default).  Keys the template no longer declares are dropped."""
    out: list[dict[str, Any]] = []
    for key in declared_parameters(template):
        if key in fixed:
            out.append({"ParameterKey": key, "ParameterValue": fixed[key]})
        elif key in user:
            out.append({"ParameterKey": key, "ParameterValue": user[key]})
        elif current is not None and key in current:
            out.append({"ParameterKey": key, "UsePreviousValue": True})
    return out


def parameters_from_current(current: Mapping[str, str], user: Mapping[str, str], fixed: Mapping[str, str]) -> list[dict[str, Any]]:
    """The Parameters list for an in-place update (previous template): what the user or the collection sets, and
    ``UsePreviousValue`` for every other key."""
    out: list[dict[str, Any]] = []
    for key in sorted(current):
        if key in fixed:
            out.append({"ParameterKey": key, "ParameterValue": fixed[key]})
        elif key in user:
            out.append({"ParameterKey": key, "ParameterValue": user[key]})
        else:
            out.append({"ParameterKey": key, "UsePreviousValue": True})
    return out


def parameter_changes(current: Mapping[str, str] | None, user: Mapping[str, str],
                      fixed: Mapping[str, str] | None = None) -> dict[str, dict[str, str | None]]:
    """{key: {before, after}} of what an update would change (NoEcho values cannot be compared)."""
    changes: dict[str, dict[str, str | None]] = {}
    for key, value in sorted(dict(user, **(fixed or {})).items()):
        before = (current or {}).get(key)
        if before != value:
            changes[key] = {"before": before, "after": value}
    return changes
