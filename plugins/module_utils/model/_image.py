# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image of a rack's instances, and what replaces them.  Pure: no AWS.

A rack template names where its image comes from in its Metadata::

    Metadata:
      Convox::Image: {Parameter: Ami, Ssm: /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id}

and declares that parameter as a plain ``AWS::EC2::Image::Id``: the collection resolves the SSM parameter once (at
install, or when a release names another source) and passes the image id, so an image AWS publishes later never
reaches the instances unannounced.  An older template that declares the parameter SSM-typed lets CloudFormation
resolve it again on every stack update - a new image replaces the instances of any update - so the plan compares
the value the stack runs with the one CloudFormation would resolve now.

Instances are replaced when a parameter their launch template (or launch configuration, or Auto Scaling group)
references changes, or when that resource itself changes."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Mapping

IMAGE_METADATA = "Convox::Image"
INSTANCE_TYPES = ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration", "AWS::AutoScaling::AutoScalingGroup")
SSM_IMAGE_TYPE = "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """Where a template's image comes from: its ``parameter``, the SSM ``path`` and who resolves it (``collection``:
    a plain parameter the collection fills; ``cloudformation``: an SSM-typed parameter)."""

    parameter: str
    path: str
    by: str


def image_source(template: Mapping[str, Any] | None) -> ImageSource | None:
    meta = ((template or {}).get("Metadata") or {}).get(IMAGE_METADATA)
    if isinstance(meta, dict) and meta.get("Parameter") and meta.get("Ssm"):
        return ImageSource(str(meta["Parameter"]), str(meta["Ssm"]), "collection")
    for name, decl in ((template or {}).get("Parameters") or {}).items():
        if isinstance(decl, dict) and str(decl.get("Type", "")) == SSM_IMAGE_TYPE and decl.get("Default"):
            return ImageSource(str(name), str(decl["Default"]), "cloudformation")
    return None


def _references(value: Any, conditions: Mapping[str, Any]) -> set[str]:
    """The names ``value`` references: Ref, ${...} of Fn::Sub, and through Fn::If the names its condition uses."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                if isinstance(text, str):
                    found |= set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
                if isinstance(item, list) and len(item) > 1:
                    found |= _references(item[1], conditions)
            elif key in ("Fn::If", "Condition"):
                name = item[0] if key == "Fn::If" and isinstance(item, list) else item
                if isinstance(name, str) and name in conditions:
                    found |= _references(conditions[name], conditions)
                found |= _references(item[1:] if key == "Fn::If" and isinstance(item, list) else None, conditions)
            else:
                found |= _references(item, conditions)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item, conditions)
    return found


def _instance_properties(res: Mapping[str, Any]) -> Any:
    """What of an instance resource replaces the instances when it changes: all of a launch template or launch
    configuration; of an Auto Scaling group, its subnets and its launch template or configuration (its size does
    not)."""
    props = res.get("Properties") or {}
    if res.get("Type") == "AWS::AutoScaling::AutoScalingGroup" and isinstance(props, dict):
        return {k: props.get(k) for k in ("VPCZoneIdentifier", "LaunchTemplate", "LaunchConfigurationName",
                                          "MixedInstancesPolicy", "AvailabilityZones")}
    return props


def _instance_resources(template: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    return {k: v for k, v in ((template or {}).get("Resources") or {}).items()
            if isinstance(v, dict) and v.get("Type") in INSTANCE_TYPES}


def instance_parameters(template: Mapping[str, Any] | None) -> set[str]:
    """The parameters whose change replaces the instances: those the instance resources use."""
    params = set((template or {}).get("Parameters") or {})
    conditions = (template or {}).get("Conditions") or {}
    found: set[str] = set()
    for res in _instance_resources(template).values():
        found |= _references(_instance_properties(res), conditions)
    return found & params


def replacement_reasons(before: Mapping[str, Any], after: Mapping[str, Any], old_template: Mapping[str, Any] | None,
                        new_template: Mapping[str, Any] | None, image: ImageSource | None = None) -> list[str]:
    """Why a step replaces the instances, one phrase each (empty: it does not): a parameter they use changes (the
    image, the instance type, the subnets by Private, ...), or an instance resource itself changes (when the
    step's old template is known)."""
    reasons = []
    for name in sorted(instance_parameters(new_template)):
        if name in after and after[name] is not None and str(before.get(name)) != str(after[name]):
            what = "image" if image is not None and name == image.parameter else "parameter %s" % name
            reasons.append("%s %s -> %s" % (what, before.get(name) or "(none)", after[name]))
    if old_template is not None:
        old, new = _instance_resources(old_template), _instance_resources(new_template)
        for logical_id in sorted(set(old) | set(new)):
            was = json.dumps(_instance_properties(old[logical_id]), sort_keys=True) if logical_id in old else None
            now = json.dumps(_instance_properties(new[logical_id]), sort_keys=True) if logical_id in new else None
            if was != now:
                rtype = (new.get(logical_id) or old.get(logical_id) or {}).get("Type")
                reasons.append("%s %s %s" % (rtype, logical_id, "changes" if was and now else "is added" if now
                                             else "is removed"))
    return reasons
