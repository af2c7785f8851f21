# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load CloudFormation templates written in JSON or YAML (with the short intrinsic tags such
as ``!Ref`` and ``!Sub``) and describe their parameters."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Dict, Mapping

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.convox.rack.plugins.module_utils.aws._common import partition_of
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

# CloudFormation takes at most this many bytes of template in the request itself (TemplateBody);
# a larger one must be read by CloudFormation from S3 (TemplateURL).
MAX_TEMPLATE_BODY = 51200


class NeedsStaging(ConvoxError):
    """A template too large for the request that no URL CloudFormation may read serves: it must be staged into
    ``template_bucket`` first (which a dry run does not do)."""


class Template(Dict[str, Any]):
    """A parsed template that remembers where it came from (``where``, for messages) and, when
    CloudFormation can read the very same bytes itself, where (``url``: an S3 object, with ``region()``,
    ``partition()`` and ``url()``, looked up only when needed).  ``stager``, when set, puts a template no such URL
    serves into the task's ``template_bucket`` and answers its URL."""

    def __init__(self, data: Mapping[str, Any], where: str, url: Any = None) -> None:
        super().__init__(data)
        self.where = where
        self.url = url
        self.stager: Callable[[bytes, str | None], str] | None = None

    def body(self) -> str:
        """The template as sent in a request: compact JSON."""
        return json.dumps(self, separators=(",", ":"))

    def url_serves(self, region: str | None) -> bool:
        """Whether CloudFormation in ``region`` may read the template from ``url``: in the aws partition from a
        bucket of any region of it; in aws-cn and aws-us-gov only from a bucket in the stack's own region."""
        if not self.url:
            return False
        stack_partition = partition_of(region)
        if self.url.partition() != stack_partition:
            return False
        return stack_partition == "aws" or self.url.region() == region

    def source_kind(self, region: str | None = None) -> str:
        """How the template reaches CloudFormation in ``region``: "body", "url" or "staged"; a ConvoxError (naming
        template_bucket) when none can carry it.  Reads nothing but the URL's region, stages nothing."""
        size = len(self.body().encode("utf-8"))
        if size <= MAX_TEMPLATE_BODY:
            return "body"
        if self.url_serves(region):
            return "url"
        if self.stager is not None:
            return "staged"
        why = ("no S3 object of its channel can be read by CloudFormation" if not self.url else
               "CloudFormation in %s (partition %s) reads a template only from a bucket in the stack's own region, "
               "and its channel's bucket is in %s" % (region, partition_of(region), self.url.region()))
        raise NeedsStaging("template %s is %d bytes, over CloudFormation's limit of %d bytes for a template sent in the "
                           "request, and %s; set template_bucket (host variable rack_template_bucket) to an S3 bucket in "
                           "%s, where the collection stages it (keyed by its digest)."
                           % (self.where, size, MAX_TEMPLATE_BODY, why, region or "the stack's region"))

    def request_source(self, region: str | None = None) -> dict[str, str]:
        """``{"TemplateBody": ...}``, or ``{"TemplateURL": ...}`` for a template over CloudFormation's request limit:
        the channel object's own URL where the partition allows it, else the template staged into
        ``template_bucket``; otherwise a ConvoxError naming that option."""
        kind = self.source_kind(region)
        if kind == "body":
            return {"TemplateBody": self.body()}
        if kind == "url":
            return {"TemplateURL": self.url.url()}
        stager = self.stager
        if stager is None:     # pragma: no cover - source_kind said "staged" only with a stager
            raise NeedsStaging("template %s needs template_bucket." % self.where)
        return {"TemplateURL": stager(self.body().encode("utf-8"), region)}


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


def _refers_to(value: Any, names: set[str]) -> bool:
    """Whether ``value`` (a part of a template) refers to one of ``names``: Ref, Fn::Sub's ${name}, anywhere in it."""
    if isinstance(value, dict):
        if value.get("Ref") in names:
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str) and any("${%s}" % n in text for n in names):
            return True
        return any(_refers_to(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, names) for v in value)
    return False


def no_echo_outputs(template: Mapping[str, Any]) -> set[str]:
    """The outputs of ``template`` whose value refers to a NoEcho parameter (CloudFormation shows them unmasked)."""
    secret = no_echo_parameters(template)
    outputs = template.get("Outputs") or {}
    if not secret or not isinstance(outputs, dict):
        return set()
    return {k for k, v in outputs.items() if isinstance(v, dict) and _refers_to(v.get("Value"), secret)}


def no_echo_parameters(template: Mapping[str, Any]) -> set[str]:
    return {k for k, v in declared_parameters(template).items()
            if isinstance(v, dict) and str(v.get("NoEcho", "false")).lower() == "true"}
