# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint's patches: each names the moto attribute it replaces and the AWS rule it stands for; a moto
that lacks one fails the start-up naming it, before anything is patched."""

from __future__ import annotations

import pytest
from localaws import parts
from localaws.patching import MotoChanged, Patches, rules


def test_every_part_patches_what_the_installed_moto_has():
    assert [m for part in parts.PARTS for m in part.PATCHES.missing()] == []
    listed = rules()
    assert {part for part, dummy, dummy2 in listed} == {p.PATCHES.part for p in parts.PARTS}
    assert all(rule and target.count(":") == 1 for dummy, target, rule in listed)
    # every part that models AWS names the AWS documentation its rules follow (test hooks and speed-ups do not)
    documented = {part: doc for part, doc in parts.docs().items() if part in {p.PATCHES.part for p in parts.PARTS}}
    assert {part for part, doc in documented.items() if not doc} == {"hooks", "speed"}
    assert all(doc.startswith("https://docs.aws.amazon.com/") for doc in documented.values() if doc)


def test_a_renamed_moto_attribute_fails_naming_it_and_nothing_is_patched():
    table = Patches("probe", listed=False)
    from moto.cloudformation import responses
    before = responses.CloudFormationResponse.describe_stacks

    @table.wrap("moto.cloudformation.responses:CloudFormationResponse.describe_stacks", "kept as it is")
    def keep(original):
        return lambda self: "patched"

    @table.wrap("moto.cloudformation.responses:CloudFormationResponse.no_such_method", "a rule that lost its hook")
    def gone(original):
        return original

    with pytest.raises(MotoChanged) as err:
        table.apply()
    assert "moto.cloudformation.responses:CloudFormationResponse.no_such_method (probe: a rule that lost its hook; " \
           "no attribute no_such_method)" in str(err.value)
    assert responses.CloudFormationResponse.describe_stacks is before         # nothing was patched
