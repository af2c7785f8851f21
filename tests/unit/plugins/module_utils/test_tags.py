# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ownership rule: which tags make a stack a rack or an app, and what adopting adds."""

from __future__ import annotations

import pytest

from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._tags import app_tags, check_owned, format_tags, is_app, is_rack, rack_tags


def test_rack_and_app_predicates():
    assert is_rack(rack_tags("prod", "acme"), "prod")
    assert not is_rack(rack_tags("prod"), "prod2")
    assert not is_rack(dict(rack_tags("prod"), System="other"))
    assert is_app(app_tags("prod", "web"), "prod", "web")
    assert not is_app(app_tags("prod", "web"), "prod", "api")
    assert not is_app(rack_tags("prod-web"), "prod")


def test_owned_stacks_pass_and_foreign_ones_are_refused_naming_their_tags():
    assert check_owned("rack prod", "prod", dict(rack_tags("prod"), owner="x"), rack_tags("prod"), False) == {}
    with pytest.raises(ConvoxError) as err:
        check_owned("rack prod", "prod", {"owner": "dba"}, rack_tags("prod"), False)
    assert err.value.msg == ("stack prod is not rack prod: it lacks the tags Rack=prod, System=convox, Type=rack (its "
                             "tags: owner=dba), so nothing was changed; set adopt: true to take it over.")
    assert err.value.details["stack_tags"] == {"owner": "dba"}


def test_adopting_returns_the_tags_gained_but_never_a_forbidden_stack():
    assert check_owned("rack prod", "prod", {"Rack": "prod"}, rack_tags("prod"), True) == {
        "System": "convox", "Type": "rack"}
    never = (lambda tags: tags.get("Type") == "rack", "a rack", "rack_app never changes a rack, adopt or not")
    with pytest.raises(ConvoxError, match=r"^stack t-blue is a rack \(its tags: Rack=t-blue, System=convox, "
                                          r"Type=rack\), not app blue on rack t, and rack_app never changes a rack"):
        check_owned("app blue on rack t", "t-blue", rack_tags("t-blue"), app_tags("t", "blue"), True, never)


def test_format_tags_stays_on_one_line():
    assert format_tags({}) == "none"
    assert format_tags({"b": "x\ny", "a": "z" * 100}) == "a=%s..., b=x y" % ("z" * 61)
