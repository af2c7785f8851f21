# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parameter validation as CloudFormation does it, synchronously, at CreateStack, UpdateStack and CreateChangeSet
(moto takes any value): every value a stack would get - given, kept with UsePreviousValue, or its default - against
its declaration, before anything happens, with AWS's ValidationError sentences:

* ``AllowedValues``: "Parameter 'X' must be one of AllowedValues";
* ``AllowedPattern``: "Parameter 'X' must match pattern <pattern>";
* ``MinLength`` / ``MaxLength``: "Parameter 'X' must contain at least / at most N characters";
* ``Number``: "Parameter 'X' must be a number", ``MinValue`` / ``MaxValue``: "... must be a number not less than /
  not greater than N";
* AWS-specific types (``AWS::EC2::Image::Id``, ``AWS::EC2::Subnet::Id``, ``AWS::EC2::KeyPair::KeyName``,
  ``AWS::EC2::VPC::Id``, ``AWS::EC2::SecurityGroup::Id`` and their ``List<...>``): "Parameter validation failed:
  parameter value V for parameter name X does not exist".

Lists (``CommaDelimitedList``, ``List<...>``) are checked item by item.  An SSM-typed parameter's value is an SSM path
(CloudFormation resolves it; see cfn.py); it is not checked here."""

from __future__ import annotations

import re
from typing import Any, Callable

from .common import template_dict
from .patching import Patches

PATCHES = Patches("params", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html")
BACKEND = "moto.cloudformation.models:CloudFormationBackend"


def _error(message: str) -> Exception:
    from moto.cloudformation.exceptions import ValidationError
    return ValidationError(message=message)


def _exists(account: str, region: str) -> dict[str, Callable[[str], bool]]:
    """AWS-specific parameter type -> whether a value names something that exists (in the stack's account/region),
    asked through the EC2 backend's own describe calls (an unknown id raises there)."""
    from moto.ec2.models import ec2_backends
    ec2 = ec2_backends[account][region]

    def found(describe: Callable[[], Any]) -> bool:
        try:
            return bool(describe())
        except Exception:  # pylint: disable=broad-except  # moto raises for an unknown id
            return False

    return {
        "AWS::EC2::Image::Id": lambda v: found(lambda: ec2.describe_images(ami_ids=[v])),
        "AWS::EC2::Subnet::Id": lambda v: found(lambda: ec2.describe_subnets(subnet_ids=[v])),
        "AWS::EC2::KeyPair::KeyName": lambda v: found(lambda: ec2.describe_key_pairs(key_names=[v])),
        "AWS::EC2::VPC::Id": lambda v: found(lambda: ec2.describe_vpcs(vpc_ids=[v])),
        "AWS::EC2::SecurityGroup::Id": lambda v: found(lambda: ec2.describe_security_groups(group_ids=[v])),
    }


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check(template: Any, values: dict[str, Any], account: str, region: str) -> None:
    """Raise AWS's ValidationError for the first value of ``values`` (the stack's effective parameters; a key not in
    it takes its default) that its declaration in ``template`` refuses."""
    declared = (template_dict(template) or {}).get("Parameters") or {}
    exists: dict[str, Callable[[str], bool]] | None = None
    for key, decl in declared.items():
        decl = decl if isinstance(decl, dict) else {}
        value = values.get(key, decl.get("Default"))
        if value is None:
            continue            # no value at all: moto's own MissingParameter
        kind = str(decl.get("Type") or "String")
        if kind.startswith("AWS::SSM::Parameter::"):
            continue
        listed = kind == "CommaDelimitedList" or kind.startswith("List<")
        items = [i.strip() for i in str(value).split(",")] if listed else [str(value)]
        for item in items:
            _check_one(key, kind, decl, item)
        base = kind[len("List<"):-1] if kind.startswith("List<") else kind
        if base.startswith("AWS::EC2::"):
            if exists is None:
                exists = _exists(account, region)
            test = exists.get(base)
            for item in items:
                if test is not None and not test(item):
                    raise _error("Parameter validation failed: parameter value %s for parameter name %s does not exist"
                                 % (item, key))


def _check_one(key: str, kind: str, decl: dict[str, Any], item: str) -> None:
    allowed = decl.get("AllowedValues")
    if allowed is not None and item not in [str(a) for a in allowed]:
        raise _error("Parameter '%s' must be one of AllowedValues" % key)
    pattern = decl.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), item) is None:
        raise _error("Parameter '%s' must match pattern %s" % (key, pattern))
    if "MinLength" in decl and len(item) < int(decl["MinLength"]):
        raise _error("Parameter '%s' must contain at least %s characters" % (key, decl["MinLength"]))
    if "MaxLength" in decl and len(item) > int(decl["MaxLength"]):
        raise _error("Parameter '%s' must contain at most %s characters" % (key, decl["MaxLength"]))
    if kind in ("Number", "List<Number>"):
        number = _number(item)
        if number is None:
            raise _error("Parameter '%s' must be a number" % key)
        if "MinValue" in decl and number < float(decl["MinValue"]):
            raise _error("Parameter '%s' must be a number not less than %s" % (key, decl["MinValue"]))
        if "MaxValue" in decl and number > float(decl["MaxValue"]):
            raise _error("Parameter '%s' must be a number not greater than %s" % (key, decl["MaxValue"]))


@PATCHES.wrap(BACKEND + ".create_stack",
              "CreateStack validates every parameter value against its declaration (AllowedValues, AllowedPattern, "
              "MinLength, MaxLength, Number, MinValue, MaxValue, AWS-specific types that must exist) before anything "
              "happens: a synchronous ValidationError")
def _create_stack(original):
    def create_stack(self, name, template, parameters, *args, **kwargs):
        check(template, dict(parameters or {}), self.account_id, self.region_name)
        return original(self, name, template, parameters, *args, **kwargs)
    return create_stack


@PATCHES.wrap(BACKEND + ".update_stack",
              "UpdateStack validates every value the stack would have (given, UsePreviousValue, default) against the "
              "new template's declarations, before anything happens")
def _update_stack(original):
    def update_stack(self, name, template, role_arn, parameters, tags):
        stack = self.get_stack(name)
        values = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        check(template if template else stack.template, values, self.account_id, self.region_name)
        return original(self, name, template, role_arn, parameters, tags)
    return update_stack


@PATCHES.wrap(BACKEND + ".create_change_set",
              "CreateChangeSet validates the parameter values as the operation it plans would")
def _create_change_set(original):
    def create_change_set(self, stack_name, change_set_name, template, parameters, *args, **kwargs):
        # moto's response already put the stack's values in for UsePreviousValue; a key left out takes its default
        check(template, dict(parameters or {}), self.account_id, self.region_name)
        return original(self, stack_name, change_set_name, template, parameters, *args, **kwargs)
    return create_change_set


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests."""
