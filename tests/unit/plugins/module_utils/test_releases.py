# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release model: parsing, resolution and the required-release path rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Release, Releases, summary


def rels(*spec):
    """rels("a", "b:r", "c:u", "d:ru") -> published unless 'u', required when 'r'."""
    out = []
    for item in spec:
        name, dummy, flags = item.partition(":")
        out.append(Release(name, "", "u" not in flags, "r" in flags))
    return Releases(out)


# -- parsing -----------------------------------------------------------------------------
def entry(version, published=True, required=False, description=""):
    return {"version": version, "description": description, "published": published, "required": required}


def test_parse_round_trip():
    data = [entry("1"), entry("2", required=True), entry("3", published=False)]
    parsed = Releases.parse(json.dumps(data))
    assert parsed.to_list() == data
    assert Releases.parse(parsed.dumps()).to_list() == data


@pytest.mark.parametrize("text, message", [
    ("{not json", "versions.json is not valid JSON"),
    ('{"version": "1"}', "versions.json must be a JSON array of release entries."),
    ('["1"]', "versions.json entry 0 is not an object."),
    ('[{"version": "1", "description": "", "published": true}]',
     'versions.json entry 0 is missing the field "required".'),
    ('[{"version": 1, "description": "", "published": true, "required": false}]',
     'versions.json entry 0 field "version" must be a string, not int.'),
    ('[{"version": "1", "description": "", "published": "yes", "required": false}]',
     'versions.json entry 0 field "published" must be a boolean, not str.'),
    ('[{"version": "", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version "" (it is empty).'),
    ('[{"version": "../outside", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version "../outside" (only letters'),
    ('[{"version": " 1", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version " 1"'),
    ('[{"version": "v/2", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version "v/2"'),
    ('[{"version": "1\\n", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version "1\\n"'),
    ('[{"version": "edge", "description": "", "published": true, "required": false}]',
     'versions.json entry 0 has the invalid version "edge" (latest, stable and edge are reserved).'),
    (json.dumps([entry("1"), entry("2"), entry("1")]), 'versions.json lists version "1" more than once.'),
    (b"\xff\xfe", "versions.json is not valid UTF-8."),
])
def test_parse_rejects(text, message):
    with pytest.raises(ConvoxError) as err:
        Releases.parse(text)
    assert err.value.msg.startswith(message)
    assert err.value.msg.endswith(".") and err.value.msg.count(". ") == 0


# -- resolution ---------------------------------------------------------------------------
def test_resolve_aliases():
    r = rels("a", "b", "c:u")
    assert r.resolve("latest") == "b"
    assert r.resolve("stable") == "b"
    assert r.resolve(None) == "b"
    assert r.resolve("edge") == "c"
    assert r.resolve("c") == "c"        # explicit: published or not
    with pytest.raises(ConvoxError, match='^version "zz" not found.$'):
        r.resolve("zz")


def test_resolve_empty_and_unpublished():
    with pytest.raises(ConvoxError, match="no published release"):
        rels("a:u").resolve("latest")
    with pytest.raises(ConvoxError, match="no release"):
        Releases([]).resolve("edge")


# -- named path cases ---------------------------------------------------------------------
def test_path_through_required():
    r = rels("1", "2:r", "3", "4:r", "5")
    assert r.path("1", "5") == ["2", "4", "5"]
    assert r.path("2", "5") == ["4", "5"]
    assert r.path("1", "3") == ["2", "3"]
    assert r.path("1", "2") == ["2"]


def test_unpublished_required_release_is_skipped():
    r = rels("1", "2:ru", "3")
    assert r.path("1", "3") == ["3"]


def test_current_not_published():
    r = rels("1:u", "2:r", "3")
    assert r.path("1", "3") == ["2", "3"]


def test_current_unknown():
    with pytest.raises(ConvoxError, match='^current version "9" not found.$'):
        rels("1", "2").path("9", "2")


def test_target_equals_current():
    assert rels("1", "2:r", "3").path("2", "2") == []


def test_downgrade_refused_and_allowed_as_one_step():
    r = rels("1", "2:r", "3")
    with pytest.raises(ConvoxError, match="older than the current version"):
        r.path("3", "1")
    assert r.path("3", "1", allow_downgrade=True) == ["1"]


def test_edge_unpublished_target():
    r = rels("1", "2:r", "3:u")
    assert r.path("1", r.resolve("edge")) == ["2", "3"]


def test_target_unpublished_required_still_the_target():
    r = rels("1", "2:ru")
    assert r.path("1", "2") == ["2"]


def test_summary_for_a_rack_ahead_and_behind():
    r = rels("1", "2:r", "3", "4:u")
    s = summary(r, current="1")
    assert (s["target"], s["path"], s["next"], s["up_to_date"], s["required"]) == ("3", ["2", "3"], "2", False, ["2"])
    s = summary(r, current="4")
    assert (s["path"], s["up_to_date"], s["ahead"]) == ([], True, True)
    s = summary(r)
    assert (s["path"], s["up_to_date"], s["latest"]) == ([], None, "3")


def test_upsert_and_remove():
    r = rels("1", "2")
    r2, changed = r.upsert(Release("3"))
    assert changed and [x.version for x in r2.releases] == ["1", "2", "3"]
    r3, changed = r2.upsert(Release("3"))
    assert not changed and r3 is r2
    r4, changed = r2.upsert(Release("1", required=True))
    assert changed and r4.get("1").required and r4.position("1") == 0
    r5, changed = r4.remove("2")
    assert changed and [x.version for x in r5.releases] == ["1", "3"]
    assert r5.remove("nope") == (r5, False)


# -- property tests against a straightforward reference ---------------------------------------
def reference_path(entries, current, target, allow_downgrade=False):
    """The rule as DESIGN.md words it, written as plainly as possible."""
    names = [e[0] for e in entries]
    i, j = names.index(current), names.index(target)
    if i == j:
        return []
    if j < i:
        return [target] if allow_downgrade else "refused"
    steps = []
    for name, published, required in entries[i + 1:j]:
        if published and required:
            steps.append(name)
    steps.append(target)
    return steps


channels = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30).map(
    lambda flags: [("v%03d" % i, p, r) for i, (p, r) in enumerate(flags)])


@settings(max_examples=400, deadline=None)
@given(channels, st.data())
def test_path_matches_reference(entries, data):
    r = Releases(Release(n, "", p, q) for n, p, q in entries)
    current = data.draw(st.sampled_from([e[0] for e in entries]))
    target = data.draw(st.sampled_from([e[0] for e in entries]))
    allow = data.draw(st.booleans())
    expected = reference_path(entries, current, target, allow)
    if expected == "refused":
        with pytest.raises(ConvoxError):
            r.path(current, target, allow_downgrade=allow)
    else:
        assert r.path(current, target, allow_downgrade=allow) == expected


@settings(max_examples=300, deadline=None)
@given(channels, st.data())
def test_path_never_skips_a_published_required_release(entries, data):
    r = Releases(Release(n, "", p, q) for n, p, q in entries)
    names = [e[0] for e in entries]
    i = data.draw(st.integers(0, len(names) - 1))
    j = data.draw(st.integers(i, len(names) - 1))
    path = r.path(names[i], names[j])
    # walking the path step by step passes every published+required release in between, in order
    for name, published, required in entries[i + 1:j]:
        if published and required:
            assert name in path
    assert path == sorted(path, key=names.index)
    assert (path[-1] == names[j]) if i != j else path == []
    # and each step, taken from where the previous left off, is itself a one-step path
    position = names[i]
    for step in path:
        assert r.path(position, step)[0] == step
        position = step


@settings(max_examples=200, deadline=None)
@given(channels)
def test_latest_is_last_published(entries):
    r = Releases(Release(n, "", p, q) for n, p, q in entries)
    published = [n for n, p, dummy in entries if p]
    if published:
        assert r.resolve("latest") == published[-1]
    else:
        with pytest.raises(ConvoxError):
            r.resolve("latest")
    assert r.resolve("edge") == entries[-1][0]
