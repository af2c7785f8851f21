# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load CloudFormation templates written in JSON or YAML (with the short intrinsic tags such
as ``!Ref`` and ``!Sub``) and describe their parameters."""

from __future__ import annotations

import json
import os

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError


if HAS_YAML:
    class _CfnLoader(yaml.SafeLoader):
        pass

    def _construct_intrinsic(loader, tag_suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if tag_suffix == "Ref":
            return {"Ref": value}
        if tag_suffix == "Condition":
            return {"Condition": value}
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {"Fn::%s" % tag_suffix: value}

    _CfnLoader.add_multi_constructor("!", _construct_intrinsic)
    # CloudFormation keeps "Yes"/"No"/"On"/"Off" as strings: use YAML 1.2-like booleans only.
    _CfnLoader.yaml_implicit_resolvers = dict(
        (k, [(tag, regexp) for tag, regexp in v if tag != "tag:yaml.org,2002:bool"])
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items())
    _CfnLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))


def parse_template(text, where):
    """Parse a JSON or YAML template into a dict; ``where`` names it in errors."""
    text = text.strip()
    if not text:
        raise ConvoxError("template %s is empty." % where)
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConvoxError("template %s is not valid JSON (%s)." % (where, exc))
    else:
        if not HAS_YAML:
            raise ConvoxError("template %s is YAML and PyYAML is not installed." % where)
        try:
            data = yaml.load(text, Loader=_CfnLoader)  # nosec - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise ConvoxError("template %s is not valid YAML (%s)." % (where, str(exc).replace("\n", " ")))
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ConvoxError("template %s is not a CloudFormation template (no Resources section)." % where)
    return data


def load_template_file(directory, kind):
    """Find ``<kind>.json``/``.yml``/``.yaml`` in ``directory`` and return the parsed dict."""
    for ext in ("json", "yml", "yaml"):
        path = os.path.join(directory, "%s.%s" % (kind, ext))
        if os.path.isfile(path):
            try:
                with open(path, "r") as f:
                    text = f.read()
            except (IOError, OSError) as exc:
                raise ConvoxError("cannot read %s (%s)." % (path, exc.strerror or exc))
            return parse_template(text, path)
    raise ConvoxError("src %s has no %s.json or %s.yml." % (directory, kind, kind))


def canonical(template):
    """The bytes published to a channel for a template dict (stable for idempotence)."""
    return (json.dumps(template, indent=2) + "\n").encode("utf-8")


def declared_parameters(template):
    """Map parameter name -> its declaration dict."""
    params = template.get("Parameters") or {}
    if not isinstance(params, dict):
        return {}
    return params


def no_echo_parameters(template):
    return set(k for k, v in declared_parameters(template).items()
               if isinstance(v, dict) and str(v.get("NoEcho", "false")).lower() == "true")
