# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load CloudFormation templates written in JSON or YAML (with the short intrinsic tags such
as ``!Ref`` and ``!Sub``) and describe their parameters."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, Mapping

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError

# CloudFormation takes at most this many bytes of template in the request itself (TemplateBody);
# a larger one must be read by CloudFormation from S3 (TemplateURL).
MAX_TEMPLATE_BODY = 51200


class Template(Dict[str, Any]):
    """A parsed template that remembers where it came from (``where``, for messages) and, when
    CloudFormation can read the very same bytes itself, where (``url``: an S3 channel's object, with ``region()``
    and ``url()``, looked up only when needed)."""

    def __init__(self, data: Mapping[str, Any], where: str, url: Any = None) -> None:
        super().__init__(data)
        self.where = where
        self.url = url

    def body(self) -> str:
        """The template as sent in a request: compact JSON."""
        return json.dumps(self, separators=(",", ":"))

    def request_source(self, region: str | None = None) -> dict[str, str]:
        """``{"TemplateBody": ...}`` or, for a template over CloudFormation's request limit that an
        S3 channel holds in ``region`` (the stack's), ``{"TemplateURL": ...}``; otherwise a ConvoxError naming the
        limit, or the bucket's region."""
        body = self.body()
        size = len(body.encode("utf-8"))
        if size <= MAX_TEMPLATE_BODY:
            return {"TemplateBody": body}
        if not self.url:
            raise ConvoxError("template %s is %d bytes, over CloudFormation's limit of %d bytes for a template sent "
                              "in the request; publish it to an s3:// channel, from which CloudFormation reads it by "
                              "URL." % (self.where, size, MAX_TEMPLATE_BODY))
        bucket_region = self.url.region()
        if region and bucket_region != region:
            raise ConvoxError("template %s is %d bytes, over CloudFormation's limit of %d bytes for a template sent "
                              "in the request, and CloudFormation reads a larger one only from a bucket in the stack's "
                              "region: bucket %s is in %s, the stack in %s; publish the release to a channel whose "
                              "bucket is in %s." % (self.where, size, MAX_TEMPLATE_BODY, self.url.bucket,
                                                    bucket_region, region, region))
        return {"TemplateURL": self.url.url()}


def template_source(template: Mapping[str, Any], region: str | None = None) -> dict[str, str]:
    """Request keywords that carry ``template`` (a Template or a plain dict) to a stack in ``region``."""
    if isinstance(template, Template):
        return template.request_source(region)
    return {"TemplateBody": json.dumps(template, separators=(",", ":"))}


if HAS_YAML:
    class _CfnLoader(yaml.SafeLoader):
        """SafeLoader with CloudFormation's short tags, YAML 1.2 booleans and no aliases: an alias
        (``*name``) is refused where it appears, so nested aliases cannot expand exponentially."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.events.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "YAML aliases (*%s) are not allowed in templates"
                                                  % event.anchor, event.start_mark)
            return super().compose_node(parent, index)

    def _construct_intrinsic(loader: Any, tag_suffix: str, node: Any) -> dict[str, Any]:
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
    _CfnLoader.yaml_implicit_resolvers = {
        k: [(tag, regexp) for tag, regexp in v if tag != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    _CfnLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))


def parse_template(text: str, where: str, url: Any = None) -> Template:
    """Parse a JSON or YAML template into a Template; ``where`` names it in errors.  Untrusted text
    is fine: YAML aliases are refused and nesting too deep to parse is an error, not a crash."""
    text = text.strip()
    if not text:
        raise ConvoxError("template %s is empty." % where)
    try:
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ConvoxError("template %s is not valid JSON (%s)." % (where, exc)) from exc
        else:
            if not HAS_YAML:
                raise ConvoxError("template %s is YAML and PyYAML is not installed." % where)
            try:
                data = yaml.load(text, Loader=_CfnLoader)  # nosec - a SafeLoader subclass
            except yaml.YAMLError as exc:
                raise ConvoxError("template %s is not valid YAML (%s)." % (where, " ".join(str(exc).split()))) from exc
    except RecursionError:
        raise ConvoxError("template %s is nested too deeply to be a CloudFormation template." % where) from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ConvoxError("template %s is not a CloudFormation template (no Resources section)." % where)
    return Template(data, where, url)


def load_template_file(directory: str, kind: str) -> Template:
    """Find ``<kind>.json``/``.yml``/``.yaml`` in ``directory`` and return the parsed dict."""
    for ext in ("json", "yml", "yaml"):
        path = os.path.join(directory, "%s.%s" % (kind, ext))
        if os.path.isfile(path):
            try:
                with open(path) as f:
                    text = f.read()
            except OSError as exc:
                raise ConvoxError("cannot read %s (%s)." % (path, exc.strerror or exc)) from exc
            return parse_template(text, path)
    raise ConvoxError("src %s has no %s.json or %s.yml." % (directory, kind, kind))


def template_digest(template: Mapping[str, Any]) -> str:
    """A digest of a template's content (keys sorted, no whitespace): equal for the same template however it was
    written (JSON or YAML, key order), different for any change."""
    import hashlib
    return hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def canonical(template: Mapping[str, Any]) -> bytes:
    """The bytes published to a channel for a template dict (stable for idempotence)."""
    return (json.dumps(template, indent=2) + "\n").encode("utf-8")


def declared_parameters(template: Mapping[str, Any]) -> dict[str, Any]:
    """Map parameter name -> its declaration dict."""
    params = template.get("Parameters") or {}
    if not isinstance(params, dict):
        return {}
    return params


def no_echo_parameters(template: Mapping[str, Any]) -> set[str]:
    return {k for k, v in declared_parameters(template).items()
            if isinstance(v, dict) and str(v.get("NoEcho", "false")).lower() == "true"}
