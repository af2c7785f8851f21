# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of every module, in one place: each module validates against it, and the fleet engine
(``rack_batch``) validates every rack's host variables against the rack module's (amazon.aws's AWS options are
added by each).  The shared options match the doc fragments of the same name."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, Mapping

# option name -> its argument spec entry (type, default, choices, options, ...)
Spec = Dict[str, Dict[str, Any]]


def with_defaults(spec: Spec, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with each option of ``spec`` that it lacks (or gives as None) set to the spec's default
    (None without one), suboptions too: what validation gives, so that a manager built from a plain dict
    (a rack's apps, a fleet row, a unit test) reads the one default the argument spec states."""
    out = dict(params)
    for key, option in spec.items():
        if out.get(key) is None:
            out[key] = copy.deepcopy(option.get("default"))
        if "options" in option and out[key] is not None:
            if option.get("type") == "list":
                out[key] = [with_defaults(option["options"], entry) for entry in out[key]]
            else:
                out[key] = with_defaults(option["options"], out[key])
    return out


def channel_argument_spec(required: bool = False) -> Spec:
    """Matches doc fragment ``convox.rack.channel``."""
    return {"channel": {"type": "str", "required": required}}


def wait_argument_spec() -> Spec:
    """Matches doc fragment ``convox.rack.wait``."""
    return {
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 3600},
    }


def tags_argument_spec() -> Spec:
    """Matches doc fragment ``convox.rack.tags``."""
    return {
        "tags": {"type": "dict", "default": {}},
        "purge_tags": {"type": "bool", "default": True},
    }


def stack_options_argument_spec() -> Spec:
    """Matches doc fragment ``convox.rack.stack_options``."""
    return {
        "notification_arns": {"type": "list", "elements": "str"},
        "role_arn": {"type": "str"},
        "template_bucket": {"type": "str"},
        "resources_to_skip": {"type": "list", "elements": "str", "default": []},
        "retain_resources": {"type": "list", "elements": "str", "default": []},
        "cancel_on_timeout": {"type": "bool", "default": False},
        "protect_stateful": {"type": "bool", "default": True},
        "allow_replace": {"type": "list", "elements": "str", "default": []},
        "rollback_alarms": {"type": "list", "elements": "str", "default": []},
        "rollback_monitoring_minutes": {"type": "int", "default": 0},
    }


def account_argument_spec() -> Spec:
    """Matches doc fragment ``convox.rack.account``."""
    return {
        "assume_role_arn": {"type": "str"},
        "assume_role_external_id": {"type": "str", "no_log": False},
        "assume_role_session_name": {"type": "str"},
        "account_id": {"type": "str"},
    }


# The host variable of each rack option a fleet sets per rack, in one place: rack_batch reads them from each host,
# the role convox.rack.rack passes them to the rack module (roles/rack: its argument spec, defaults and converge task
# are checked against this by tests/unit/plugins/roles/test_role_spec.py).  ``drift`` is the run's
# ``convox_detect_drift`` (-e), not a per-rack variable.
HOST_VARIABLES: tuple[tuple[str, str], ...] = (
    ("name", "rack_name"), ("state", "rack_state"), ("org", "rack_org"), ("region", "rack_region"),
    ("channel", "rack_channel"), ("version", "rack_version"), ("parameters", "rack_parameters"),
    ("tags", "rack_tags"), ("purge_tags", "rack_purge_tags"),
    ("termination_protection", "rack_termination_protection"), ("max_steps", "rack_max_steps"),
    ("allow_downgrade", "rack_allow_downgrade"), ("force", "rack_force"), ("recover", "rack_recover"),
    ("adopt", "rack_adopt"), ("wait_timeout", "rack_wait_timeout"), ("releases", "rack_releases"),
    ("apps", "rack_apps"), ("drift", "convox_detect_drift"),
    ("account_id", "rack_account_id"), ("assume_role_arn", "rack_assume_role_arn"),
    ("assume_role_external_id", "rack_assume_role_external_id"),
    ("assume_role_session_name", "rack_assume_role_session_name"),
    ("notification_arns", "rack_notification_arns"), ("role_arn", "rack_role_arn"),
    ("template_bucket", "rack_template_bucket"),
    ("resources_to_skip", "rack_resources_to_skip"), ("retain_resources", "rack_retain_resources"),
    ("cancel_on_timeout", "rack_cancel_on_timeout"), ("rollback_alarms", "rack_rollback_alarms"),
    ("rollback_monitoring_minutes", "rack_rollback_monitoring_minutes"),
    ("protect_stateful", "rack_protect_stateful"), ("allow_replace", "rack_allow_replace"),
)


# The emptiness rule of the fleet, stated once: a host variable of these options left empty ("" or []) means "not
# given" - the rack keeps what it has (its region and channel, its SNS topics, its service role, ...) - so it is not
# passed at all (the role's converge task omits them; rack_batch drops them; tests/unit/plugins/roles/
# test_role_spec.py holds the two equal).  A host variable of any other option that is None or "" is not passed.
OMITTED_WHEN_EMPTY: frozenset[str] = frozenset((
    "org", "region", "channel", "version", "releases", "account_id", "assume_role_arn", "assume_role_external_id",
    "assume_role_session_name", "notification_arns", "role_arn", "template_bucket"))


def host_rack_args(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The rack module's arguments a host's variables give (HOST_VARIABLES, the emptiness rule above)."""
    args: dict[str, Any] = {}
    for option, var in HOST_VARIABLES:
        value = variables.get(var)
        if value is None or (isinstance(value, str) and value == ""):
            continue
        if option in OMITTED_WHEN_EMPTY and not value:
            continue
        args[option] = value
    return args


def rack_spec() -> Spec:
    spec: Spec = {
        "name": {"type": "str", "required": True, "aliases": ["rack"]},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "org": {"type": "str"},
        "version": {"type": "str"},
        "parameters": {"type": "dict", "default": {}},
        "termination_protection": {"type": "bool"},
        "adopt": {"type": "bool", "default": False},
        "max_steps": {"type": "int", "default": 0},
        "allow_downgrade": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
        "recover": {"type": "bool", "default": False},
        "releases": {"type": "list", "elements": "dict"},
        "drift": {"type": "bool", "default": False},
        "expect_fingerprint": {"type": "str", "no_log": False},
        "apps": {"type": "list", "elements": "dict", "options": {
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "parameters": {"type": "dict", "default": {}},
            "tags": {"type": "dict", "default": {}},
            "purge_tags": {"type": "bool", "default": True},
        }},
    }
    spec.update(channel_argument_spec())
    spec.update(tags_argument_spec())
    spec.update(wait_argument_spec())
    spec.update(stack_options_argument_spec())
    spec.update(account_argument_spec())
    return spec


def rack_app_spec() -> Spec:
    spec: Spec = {
        "name": {"type": "str", "required": True, "aliases": ["app"]},
        "rack": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "parameters": {"type": "dict", "default": {}},
        "recover": {"type": "bool", "default": False},
        "adopt": {"type": "bool", "default": False},
        # deprecated: RackManager hands its apps the rack itself; nothing else has a use for it
        "rack_details": {"type": "dict", "removed_in_version": "2.0.0", "removed_from_collection": "convox.rack"},
    }
    spec.update(channel_argument_spec())
    spec.update(tags_argument_spec())
    spec.update(wait_argument_spec())
    spec.update(stack_options_argument_spec())
    spec.update(account_argument_spec())
    return spec


def rack_release_spec() -> Spec:
    spec = channel_argument_spec(required=True)
    spec.update(
        version={"type": "str", "required": True},
        src={"type": "path"},
        description={"type": "str", "default": ""},
        published={"type": "bool", "default": True},
        required={"type": "bool", "default": False},
        force={"type": "bool", "default": False},
        state={"type": "str", "default": "present", "choices": ["present", "absent"]},
    )
    spec.update(account_argument_spec())
    return spec


def rack_info_spec() -> Spec:
    spec: Spec = {
        "name": {"type": "str", "aliases": ["rack"]},
        "org": {"type": "str"},
    }
    spec.update(account_argument_spec())
    return spec


def rack_release_info_spec() -> Spec:
    spec = channel_argument_spec(required=True)
    spec.update(
        rack={"type": "str"},
        current={"type": "str"},
        version={"type": "str", "default": "latest"},
        drift={"type": "bool", "default": False},
    )
    spec.update(account_argument_spec())
    return spec


def rack_batch_spec() -> Spec:
    return {
        "hosts": {"type": "list", "elements": "str", "required": True},
        "versions": {"type": "dict", "default": {}},
        "releases": {"type": "dict", "default": {}},
        "pins": {"type": "dict", "default": {}},
        "halted": {"type": "str", "default": ""},
        "max_concurrent": {"type": "int", "default": 0},
        "poll_interval": {"type": "float", "default": 30},
        "label": {"type": "str", "default": ""},
        "plan": {"type": "dict"},
    }


def rack_batch_preflight_spec() -> Spec:
    return {
        "hosts": {"type": "list", "elements": "str", "required": True},
        "report_dir": {"type": "path"},
        "report_room": {"type": "bool", "default": False},
        "state": {"type": "str", "choices": ["present", "absent"]},
        "plan_file": {"type": "path"},
        "bake_alarms": {"type": "list", "elements": "str", "default": []},
    }


def rack_batch_bake_spec() -> Spec:
    return {
        "hosts": {"type": "list", "elements": "str", "required": True},
        "bake_minutes": {"type": "float", "default": 0},
        "bake_alarms": {"type": "list", "elements": "str", "default": []},
    }


def rack_batch_result_spec() -> Spec:
    return {
        "result": {"type": "dict", "required": True},
    }


SPECS: dict[str, Callable[[], Spec]] = {
    "rack": rack_spec,
    "rack_app": rack_app_spec,
    "rack_release": rack_release_spec,
    "rack_info": rack_info_spec,
    "rack_release_info": rack_release_info_spec,
    # the fleet engine's four entry points (controller-side: plugins/action/rack_batch*.py)
    "rack_batch": rack_batch_spec,
    "rack_batch_preflight": rack_batch_preflight_spec,
    "rack_batch_bake": rack_batch_bake_spec,
    "rack_batch_result": rack_batch_result_spec,
}

# the validator keywords of each module (mutually_exclusive, required_if, ...)
SPEC_OPTIONS: dict[str, dict[str, Any]] = {
    "rack_release": {"required_if": [("state", "present", ["src"])]},
    "rack_release_info": {"mutually_exclusive": [("rack", "current")]},
}
