# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and Step records become the ``plan`` and ``steps`` of a task result (DESIGN's keys)."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils.model._plan import Plan, Step, added_resources


def test_rack_plan_has_a_path_and_what_only_some_plans_have_in_a_fixed_order():
    plan = Plan("update", "1", "3", ["2", "3"], {"Version": {"before": "1", "after": "3"}})
    plan.note = "adopted"
    plan.remaining_path = ["4"]
    plan.exports_in_use = []            # set, even empty: in the result
    out = plan.to_dict()
    assert list(out) == ["action", "from_version", "to_version", "path", "parameter_changes", "resource_changes",
                         "remaining_path", "exports_in_use", "note"]
    assert out["path"] == ["2", "3"] and out["resource_changes"] == []
    # the lists a plan gathers (security changes, warnings) appear once they hold something
    plan.warnings.append("careful")
    assert plan.to_dict()["warnings"] == ["careful"] and "security_changes" not in plan.to_dict()


def test_every_optional_field_is_in_the_result_order():
    import dataclasses
    fields = [f.name for f in dataclasses.fields(Plan)]
    assert list(Plan.OPTIONAL) == fields[fields.index("resource_changes") + 1:]


def test_app_plan_has_no_path():
    out = Plan("delete", "2").to_dict()
    assert out == {"action": "delete", "from_version": "2", "to_version": None, "parameter_changes": {},
                   "resource_changes": []}
    assert Plan("none").to_dict()["parameter_changes"] is not Plan("none").to_dict()["parameter_changes"]


def test_step_uses_from_and_to():
    expected = {"from": "1", "to": "2", "status": "UPDATE_COMPLETE", "seconds": 20.1}
    assert Step("1", "2", "UPDATE_COMPLETE", 20.1).to_dict() == expected


def test_added_resources_sorted_by_logical_id():
    tpl = {"Resources": {"B": {"Type": "AWS::S3::Bucket"}, "A": {"Type": "AWS::Logs::LogGroup"}}}
    assert [c["logical_id"] for c in added_resources(tpl)] == ["A", "B"]
    assert {c["action"] for c in added_resources(tpl)} == {"Add"}
