# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Speed: the same answers as moto, faster (the local endpoint serves CloudFormation one request at a time, so its
per-request costs that AWS does not have add up over a fleet).  A DescribeStacks listing is built from each stack's
serialized member, kept until the stack changes (same bytes as moto's serializer,
tests/unit/tools/test_localaws_listing.py); a stack's exports are resolved once per call, not once per output, and
kept until it changes; a template text is parsed once and copies handed out; one KMS private key per key spec; an
instance's AMI found by comparing exact ids, not by fnmatch over every AMI."""

from __future__ import annotations

import copy
import threading
from typing import Any

from .patching import Patches

PATCHES = Patches("speed")
STACK = "moto.cloudformation.models:Stack"
LISTING_CACHE = {"enabled": True}
_PARSE_LOCK = threading.Lock()


@PATCHES.wrap(STACK + ".outputs", "(speed) a stack's exports resolved once per DescribeStacks, not once per output")
def _outputs(dummy):
    def outputs(self):
        exports = {e.value: e.name for e in reversed(self.exports)}
        listed = [{"OutputKey": o.key, "OutputValue": o.value, "Description": o.description,
                   "ExportName": exports.get(o.value)} for o in self.output_map.values() if o]
        return listed or None
    return property(outputs)


@PATCHES.wrap(STACK + ".parse_template", "(speed) a template text parsed once, copies handed out")
def _parse_template(original):
    parsed: dict[str, Any] = {}

    def parse_template(template):
        key = template if isinstance(template, str) else None
        if key is None:
            return original(template)
        with _PARSE_LOCK:
            hit = parsed.get(key)
        if hit is None:
            hit = original(template)
            with _PARSE_LOCK:
                if len(parsed) >= 64:
                    parsed.clear()
                parsed[key] = hit
        return copy.deepcopy(hit)
    return staticmethod(parse_template)


@PATCHES.wrap(STACK + ".exports", "(speed) a stack's exports kept until its outputs, resources or status change")
def _exports(original):
    def exports(self):
        cached = self.__dict__.get("_convox_exports")
        if cached is None or cached[0] is not self.output_map or cached[1] is not self.resource_map \
                or cached[2] != self.status:
            cached = (self.output_map, self.resource_map, self.status, original.fget(self))
            self.__dict__["_convox_exports"] = cached
        return cached[3]
    return property(exports)


@PATCHES.wrap("moto.kms.models:generate_private_key", "(speed) one RSA key per key spec serves every KMS key")
def _generate_private_key(original):
    private_keys = {}

    def generate_private_key(key_spec):
        if key_spec not in private_keys:
            private_keys[key_spec] = original(key_spec)
        return private_keys[key_spec]
    return generate_private_key


@PATCHES.wrap("moto.ec2.models.amis:AmiBackend.describe_images",
              "(speed) an AMI found by comparing exact ids, not by fnmatch over every AMI (same answer)")
def _describe_images(original):
    def describe_images(self, ami_ids=None, filters=None, exec_users=None, owners=None):
        if not ami_ids and not exec_users and not owners and filters and list(filters) == ["image-id"]:
            wanted = filters["image-id"]
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            if all(isinstance(w, str) and not any(c in w for c in "*?[") for w in wanted):
                return [ami for ami in self.amis.copy().values() if ami.id in wanted]
        return original(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
    return describe_images


@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse.describe_stacks",
              "(speed) a DescribeStacks listing built from each stack's cached member (the same bytes)")
def _describe_stacks(original):
    from moto.core.responses import ActionResult
    return _listing_handler(original, ActionResult)


class _Same:
    """A value compared by identity in a stack's fingerprint (moto's maps define == as a deep compare)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Same) and other.value is self.value

    __hash__ = None  # type: ignore[assignment]   # compared, never hashed


def _fingerprint(stack):
    """Everything a stack's DescribeStacks member is made from: scalars and small containers by value,
    moto's resource and output maps and the parsed template by identity (moto builds new ones on
    each create or update), the events by count (every operation adds some)."""
    key: list[tuple[str, Any]] = []
    for name, value in vars(stack).items():
        if name.startswith("_convox"):
            continue
        if name == "events":
            key.append((name, len(value)))
        elif isinstance(value, dict) and name != "template_dict":
            key.append((name, dict(value)))
        elif isinstance(value, (list, tuple, set)):
            key.append((name, tuple(value)))
        elif value is None or isinstance(value, (str, int, float, bool)):
            key.append((name, value))
        else:
            key.append((name, _Same(value)))
    return key


def _listing_handler(original, action_result):
    """DescribeStacks without a StackName (a paginated listing of the region) from each stack's XML
    member, kept until the stack changes: moto's generic serializer spends ~2 ms per rack stack on
    every listing, and the local endpoint serves CloudFormation one request at a time, so a fleet's
    polls held up its UpdateStacks.  Same answer, byte for byte (tests/unit/tools/test_localaws_listing.py)."""

    def member(context, stack):
        key = _fingerprint(stack)
        cached = stack.__dict__.get("_convox_member")
        if cached is not None and cached[0] == key:
            return cached[1]
        body = action_result({"Stacks": [stack]}).execute_result(context)[2]
        xml = body[body.index("<Stacks>") + len("<Stacks>"):body.rindex("</Stacks>")]
        stack.__dict__["_convox_member"] = (key, xml)
        return xml

    class Listing(action_result):  # type: ignore[misc,valid-type]   # moto's ActionResult, passed in
        def __init__(self, page, next_token):
            super().__init__({"Stacks": page[:1], "NextToken": next_token})
            self.page = page

        def execute_result(self, context):
            status, headers, body = super().execute_result(context)
            start, end = body.index("<Stacks>") + len("<Stacks>"), body.rindex("</Stacks>")
            return status, headers, body[:start] + "".join(member(context, s) for s in self.page) + body[end:]

    def describe_stacks(self):
        if self._get_param("StackName") or not LISTING_CACHE["enabled"]:
            return original(self)
        result = original(self)      # moto's paging (50 a page); the serializing is ours
        page, next_token = result.result["Stacks"], result.result.get("NextToken")
        if not page:
            return result
        return Listing(page, next_token)

    return describe_stacks


def apply():
    PATCHES.apply()


def reset():
    """The caches follow each stack; nothing to reset."""
