# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ownership rule: which tags make a stack a rack or an app, and what adopting adds."""

from __future__ import annotations

import pytest

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._tags import app_tags, check_owned, format_tags, is_app, is_rack, owner, rack_tags


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


def test_adopting_returns_the_tags_gained_but_never_takes_a_stack_another_rack_or_app_owns():
    assert check_owned("rack prod", "prod", {"Rack": "prod"}, rack_tags("prod"), True) == {
        "System": "convox", "Type": "rack"}
    # a rack under rack_app, and an app of another rack under both modules: refused, adopt or not
    for adopt in (False, True):
        with pytest.raises(ConvoxError) as err:
            check_owned("app blue on rack t", "t-blue", rack_tags("t-blue"), app_tags("t", "blue"), adopt)
        assert err.value.msg == ("stack t-blue belongs to rack t-blue (its tags: Rack=t-blue, System=convox, Type=rack), "
                                 "not to app blue on rack t; a stack owned by another rack or app is never adopted, "
                                 "re-tagged or deleted through another name, so nothing was changed.")
        with pytest.raises(ConvoxError, match="^stack prod-web-apis belongs to app apis of rack prod-web "):
            check_owned("app web-apis on rack prod", "prod-web-apis", app_tags("prod-web", "apis"),
                        app_tags("prod", "web-apis"), adopt)
        with pytest.raises(ConvoxError, match="^stack prod-web-apis belongs to app apis of rack prod-web "):
            check_owned("rack prod-web-apis", "prod-web-apis", app_tags("prod-web", "apis"),
                        rack_tags("prod-web-apis"), adopt)
        # any System=convox ownership, however partial, is another owner's
        with pytest.raises(ConvoxError, match="belongs to a convox stack of type"):
            check_owned("rack x", "x", {"System": "convox"}, rack_tags("x"), adopt)


def test_owner_reads_what_the_tags_say():
    assert owner({"owner": "dba"}) is None
    assert owner(rack_tags("prod", "acme")) == "rack prod"
    assert owner(app_tags("prod-web", "apis")) == "app apis of rack prod-web"
    assert owner({"System": "convox", "Type": "rack"}) == "rack (no Rack tag)"


def test_format_tags_stays_on_one_line():
    assert format_tags({}) == "none"
    assert format_tags({"b": "x\ny", "a": "z" * 100}) == "a=%s..., b=x y" % ("z" * 61)
