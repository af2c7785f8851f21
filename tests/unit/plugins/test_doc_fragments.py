# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own AWS doc fragment (convox.rack.aws, so the documentation renders without amazon.aws, as Galaxy's
importer needs) states exactly amazon.aws's options: for modules its fragments common.modules + region.modules and
AnsibleAWSModule's argument spec; for plugins common.plugins + region.plugins + assume_role.plugins (the plugin base
reads their environment variables from these very docs)."""

from __future__ import annotations

import yaml
from ansible_collections.amazon.aws.plugins.doc_fragments import assume_role, common, region
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.convox.rack.plugins.doc_fragments.aws import ModuleDocFragment as Ours

SHAPE = ("type", "default", "choices", "elements", "required", "no_log")


def options(*docs):
    out = {}
    for doc in docs:
        out.update(yaml.safe_load(doc).get("options") or {})
    return out


def shape(option):
    return {k: option.get(k) for k in SHAPE if option.get(k) is not None}


def same(ours, theirs):
    """The same options, of the same shape; ours documents the aliases and environment variables amazon.aws 10
    documents - a subset of amazon.aws 9's, which still accepts a few deprecated ones (its floor, galaxy.yml)."""
    assert sorted(ours) == sorted(theirs)
    assert {k: shape(v) for k, v in ours.items()} == {k: shape(v) for k, v in theirs.items()}
    for name, option in ours.items():
        assert set(option.get("aliases") or []) <= set(theirs[name].get("aliases") or []), name
        assert {e["name"] for e in option.get("env") or []} <= {e["name"] for e in theirs[name].get("env") or []}, name


def test_the_module_options_are_amazon_aws_s():
    ours = options(Ours.MODULES)
    theirs = options(common.ModuleDocFragment.MODULES, region.ModuleDocFragment.MODULES)
    same(ours, theirs)
    spec = aws_argument_spec()
    assert sorted(ours) == sorted(spec)
    for name, option in ours.items():
        assert option.get("type", "str") == spec[name].get("type", "str"), name
        assert set(option.get("aliases") or []) <= set(spec[name].get("aliases") or []), name


def test_the_plugin_options_are_amazon_aws_s_with_their_environment_variables():
    ours = options(Ours.PLUGINS)
    theirs = options(common.ModuleDocFragment.PLUGINS, region.ModuleDocFragment.PLUGINS,
                     assume_role.ModuleDocFragment.PLUGINS)
    same(ours, theirs)
    assert {e["name"] for e in ours["access_key"]["env"]} >= {"AWS_ACCESS_KEY_ID"}
