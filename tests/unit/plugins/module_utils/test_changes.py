# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource changes of a dry run: change-set entries flagged when they lose stateful data, and the
static diff of two consecutive templates for later steps."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils._changes import annotate, describe, is_stateful, stateful_changes, template_diff

OLD = {"Resources": {
    "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
    "Builds": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "b"}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
    "Cache": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain"},
    "Note": {"Type": "AWS::SSM::Parameter", "Metadata": {"a": 1}, "Properties": {"Value": "x"}},
}}
NEW = {"Resources": {
    "Builds": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "b2"}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/convox/"}},
    "Cache": {"Type": "AWS::SQS::Queue"},
    "Note": {"Type": "AWS::SSM::Parameter", "Metadata": {"a": 2}, "Properties": {"Value": "x"}},
    "Audit": {"Type": "AWS::Logs::LogGroup"},
}}


def test_stateful_by_type_or_retention():
    assert is_stateful("AWS::S3::Bucket") and is_stateful("AWS::SNS::Topic", {"DeletionPolicy": "Retain"})
    assert not is_stateful("AWS::IAM::Role", {"DeletionPolicy": "Delete"})


def test_template_diff():
    changes = {c["logical_id"]: c for c in template_diff(OLD, NEW)}
    assert (changes["Data"]["action"], changes["Data"]["stateful"]) == ("Remove", True)
    assert (changes["Builds"]["action"], changes["Builds"]["replacement"], changes["Builds"]["stateful"]) == (
        "Modify", "Conditional", True)
    assert (changes["Role"]["replacement"], changes["Role"]["stateful"]) == ("Conditional", False)
    assert (changes["Cache"]["replacement"], changes["Cache"]["stateful"]) == ("True", True)     # type changed
    assert (changes["Note"]["replacement"], changes["Note"]["stateful"]) == ("False", False)     # metadata only
    assert (changes["Audit"]["action"], changes["Audit"]["stateful"]) == ("Add", False)
    assert {c["source"] for c in changes.values()} == {"template diff"}


def test_change_set_entries_are_flagged_from_the_live_template():
    changes = annotate([{"action": "Remove", "logical_id": "Data", "type": "AWS::S3::Bucket", "replacement": None},
                        {"action": "Modify", "logical_id": "Builds", "type": "AWS::DynamoDB::Table", "replacement": "True"},
                        {"action": "Modify", "logical_id": "Role", "type": "AWS::IAM::Role", "replacement": "True"},
                        {"action": "Modify", "logical_id": "Cache", "type": "AWS::SNS::Topic", "replacement": "False"}], OLD)
    assert [c["stateful"] for c in changes] == [True, True, False, False]
    risky = stateful_changes([{"label": "1 -> 2", "resource_changes": changes}])
    assert [(label, describe(c)) for label, c in risky] == [
        ("1 -> 2", "Remove AWS::S3::Bucket Data"),
        ("1 -> 2", "Modify AWS::DynamoDB::Table Builds (replacement: True)")]
