# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One source of defaults and of the host-variable map: the role's argument spec, defaults and converge task, the
fleet engine (rack_batch) and the rack module's argument spec say the same thing about every option, as
module_utils/model/_specs.py's HOST_VARIABLES maps them."""

from __future__ import annotations

import os

import yaml
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.convox.rack.plugins.module_utils.model import _specs
from ansible_collections.convox.rack.plugins.module_utils.model._specs import HOST_VARIABLES, host_rack_args, rack_spec
from ansible_collections.convox.rack.plugins.plugin_utils._fleet_engine import HOST_VARS

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles", "rack")
with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as f:
    SPEC = yaml.safe_load(f)["argument_specs"]["main"]["options"]
with open(os.path.join(ROLE, "defaults", "main.yml")) as f:
    DEFAULTS = yaml.safe_load(f)
MODULE = dict(aws_argument_spec(), **rack_spec())      # as AnsibleAWSModule merges them
# an empty role value means "not given" (the task omits it, or, for rack_apps, [] manages no app as
# the module's None does): the module's None
OMITTED_WHEN_EMPTY = {var for option, var in HOST_VARIABLES if option in _specs.OMITTED_WHEN_EMPTY} | {"rack_apps"}
ROLE_ONLY_DEFAULT = {"rack_name"}          # the inventory host name
VAR_OF = {var: option for option, var in HOST_VARIABLES}
with open(os.path.join(ROLE, "tasks", "converge.yml")) as f:
    CONVERGE = yaml.safe_load(f)[0]["convox.rack.rack"]


def same_shape(role, module, where):
    assert role.get("type", "str") == module.get("type", "str"), where
    assert role.get("choices") == module.get("choices"), where
    assert role.get("elements") == module.get("elements"), where
    if where not in ROLE_ONLY_DEFAULT:
        assert bool(role.get("required")) == bool(module.get("required")), where


def test_every_role_variable_is_a_module_option_of_the_same_shape():
    assert set(SPEC) == {v for v in VAR_OF if v.startswith("rack_")}, "role spec vs rack_batch HOST_VARS"
    for var, spec in SPEC.items():
        same_shape(spec, MODULE[VAR_OF[var]], var)


def test_fleet_variables_are_module_options():
    assert HOST_VARS is HOST_VARIABLES                   # rack_batch reads the one map
    for option, var in HOST_VARIABLES:
        assert option in MODULE, var


def test_the_role_passes_every_option_from_its_host_variable():
    """The role's converge task and rack_batch agree: each option from the variable the map names, nothing else."""
    assert set(CONVERGE) == {option for option, dummy in HOST_VARIABLES}
    for option, var in HOST_VARIABLES:
        given = CONVERGE[option]
        assert given.startswith("{{ %s" % var) or "else %s }}" % var in given, (option, given)


def test_role_defaults_are_the_specs_and_the_modules():
    assert set(DEFAULTS) == set(SPEC)
    for var, spec in SPEC.items():
        if var in ROLE_ONLY_DEFAULT:
            continue
        assert DEFAULTS[var] == spec.get("default"), var
        module_default = MODULE[VAR_OF[var]].get("default")
        if var in OMITTED_WHEN_EMPTY:
            assert DEFAULTS[var] in ("", []) and module_default is None, var
        else:
            assert DEFAULTS[var] == module_default, var


def test_app_suboptions_are_the_modules():
    role, module = SPEC["rack_apps"]["options"], MODULE["apps"]["options"]
    assert set(role) == set(module)
    for name in role:
        same_shape(role[name], module[name], "rack_apps[].%s" % name)
        assert role[name].get("default") == module[name].get("default"), name


def test_one_emptiness_rule_for_the_role_and_rack_batch():
    """The role's converge task omits exactly the options _specs.OMITTED_WHEN_EMPTY names when empty, and rack_batch
    reads a host's variables by the same rule: an empty rack_notification_arns keeps the stack's topics on both paths
    (rack_batch once sent [], which removed them)."""
    omitted = {option for option, given in CONVERGE.items() if "default(omit, true)" in str(given)}
    assert omitted == set(_specs.OMITTED_WHEN_EMPTY)
    variables = {var: ([] if isinstance(DEFAULTS.get(var), list) else "") for option, var in HOST_VARIABLES
                 if option in _specs.OMITTED_WHEN_EMPTY}
    variables.update(rack_name="prod", rack_state="present")
    assert host_rack_args(variables) == {"name": "prod", "state": "present"}
    assert host_rack_args({"rack_notification_arns": ["arn:aws:sns:us-east-1:1:t"]}) == {
        "notification_arns": ["arn:aws:sns:us-east-1:1:t"]}


def _batch_description():
    import ast
    with open(os.path.join(os.path.dirname(ROLE), "..", "plugins", "modules", "rack_batch.py")) as f:
        tree = ast.parse(f.read())
    doc, = [yaml.safe_load(node.value.value) for node in tree.body
            if isinstance(node, ast.Assign) and node.targets[0].id == "DOCUMENTATION"]
    return doc["description"]


def test_rack_batch_documents_the_host_variables_and_the_emptiness_rule_it_reads():
    """rack_batch's documentation lists exactly HOST_VARIABLES, and as empty-list-means-unset exactly
    OMITTED_WHEN_EMPTY (the rule the role and rack_batch share)."""
    import re
    mapping, = [d for d in _batch_description() if d.startswith("Each host variable maps")]
    assert sorted(re.findall(r"C\((\w+)\)", mapping)) == sorted(var for dummy, var in HOST_VARIABLES)
    rule, = [d for d in _batch_description() if "an empty" in d and "list means not set" in d]
    named = set(re.findall(r"C\((rack_\w+)\)", rule))
    named |= {var for option, var in HOST_VARIABLES if option.startswith("assume_role_")} if "C(rack_assume_role_*)" \
        in rule else set()
    assert named == {var for option, var in HOST_VARIABLES if option in _specs.OMITTED_WHEN_EMPTY}
