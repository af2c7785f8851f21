# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource changes of a dry run: change-set entries flagged when they lose stateful data, and the
static diff of two consecutive templates for later steps."""

from __future__ import annotations

from ansible_collections.convox.rack.plugins.module_utils.model._changes import (
    annotate,
    describe,
    is_stateful,
    security_findings,
    stateful_changes,
    stateful_warning,
    template_diff,
)

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
        ("1 -> 2", "Remove AWS::S3::Bucket Data (retained: left behind, orphaned)"),
        ("1 -> 2", "Modify AWS::DynamoDB::Table Builds (replacement: True)")]


def test_retained_and_snapshot_resources_are_left_behind_or_snapshotted_not_lost():
    old = {"Resources": {"Kept": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
                         "Snap": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot"},
                         "Gone": {"Type": "AWS::EC2::Volume"},
                         "Swap": {"Type": "AWS::Kinesis::Stream", "UpdateReplacePolicy": "Retain", "DeletionPolicy": "Delete",
                                  "Properties": {"Name": "a"}}}}
    new = {"Resources": {"Swap": {"Type": "AWS::Kinesis::Stream", "UpdateReplacePolicy": "Retain",
                                  "DeletionPolicy": "Delete", "Properties": {"Name": "b"}}}}
    warnings = {c["logical_id"]: stateful_warning(c) for c in template_diff(old, new) if c["stateful"]}
    assert warnings == {
        "Kept": "Remove AWS::S3::Bucket Kept (retained: left behind, orphaned) would leave a stateful resource behind, "
                "orphaned: CloudFormation keeps it (DeletionPolicy or UpdateReplacePolicy Retain) but no longer manages "
                "it, and nothing deletes it later",
        "Snap": "Remove AWS::RDS::DBInstance Snap (deleted after a final snapshot) would delete a stateful resource "
                "after a final snapshot: its live data goes, the snapshot stays",
        "Gone": "Remove AWS::EC2::Volume Gone would lose a stateful resource's data",
        "Swap": "Modify AWS::Kinesis::Stream Swap (replacement: Conditional) (retained: left behind, orphaned) would "
                "leave a stateful resource behind, orphaned: CloudFormation keeps it (DeletionPolicy or "
                "UpdateReplacePolicy Retain) but no longer manages it, and nothing deletes it later"}


def test_the_stateful_set_covers_the_data_stores():
    for rtype in ("AWS::EC2::Volume", "AWS::Kinesis::Stream", "AWS::OpenSearchService::Domain", "AWS::Neptune::DBCluster",
                  "AWS::DocDB::DBCluster", "AWS::Redshift::Cluster", "AWS::FSx::FileSystem", "AWS::Backup::BackupVault",
                  "AWS::ElastiCache::ReplicationGroup", "AWS::MSK::Cluster"):
        assert is_stateful(rtype), rtype


def test_the_stateful_set_covers_identities_that_cannot_be_recreated_as_they_were():
    # data, and identities others hold on to: a user pool's users, a zone's name servers, a certificate, a key pair,
    # an address, a parameter's value; every type named exists in AWS's resource schemas (cfn-lint's copy)
    import json
    import os

    import cfnlint
    schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas", "providers", "us-east-1.json")
    with open(schemas) as f:
        known = set(json.load(f))
    for rtype in ("AWS::Cognito::UserPool", "AWS::Route53::HostedZone", "AWS::SSM::Parameter", "AWS::EC2::KeyPair",
                  "AWS::CertificateManager::Certificate", "AWS::EFS::FileSystem", "AWS::RDS::DBCluster",
                  "AWS::RDS::DBInstance", "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ServerlessCache",
                  "AWS::EC2::EIP", "AWS::RDS::GlobalCluster"):
        assert is_stateful(rtype), rtype
    from ansible_collections.convox.rack.plugins.module_utils.model._changes import STATEFUL_TYPES
    assert sorted(STATEFUL_TYPES - known) == []
    changes = template_diff({"Resources": {"Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "a."}}}},
                            {"Resources": {"Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "b."}}}})
    assert [(c["logical_id"], c["stateful"]) for c in changes] == [("Zone", True)]


def policy(*actions, resource="*"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}


def test_security_sensitive_changes_are_found():
    old = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": policy("s3:GetObject")}]}},
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}]}},
        "Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
        "Same": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": policy("s3:GetObject")}]}}}}
    new = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "Policies": [{"PolicyName": "p", "PolicyDocument": policy("s3:GetObject", "s3:*")}],
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}},
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}]}},
        "Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": "sg-1", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
            "CidrIp": {"Fn::If": ["Public", "0.0.0.0/0", "10.0.0.0/8"]}}},
        "Data": {"Type": "AWS::S3::Bucket", "UpdateReplacePolicy": "Retain"},
        "Same": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": policy("s3:GetObject")}]}},
        "Robot": {"Type": "AWS::IAM::User"},
        "RobotKey": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "Robot"}}}},
        "Outputs": {"Secret": {"Value": {"Fn::GetAtt": ["RobotKey", "SecretAccessKey"]}},
                    "Id": {"Value": {"Ref": "RobotKey"}}}}
    assert security_findings(old, new) == [
        "weakens the DeletionPolicy of AWS::S3::Bucket Data from Retain to Delete (the default): its data would be "
        "deleted with it",
        "opens AWS::EC2::SecurityGroup Group to ingress from ::/0",
        "opens AWS::EC2::SecurityGroupIngress Open to ingress from 0.0.0.0/0",
        "adds AWS::IAM::User Robot (IAM: it grants access)",
        "adds AWS::IAM::AccessKey RobotKey (IAM: it grants access)",
        "widens AWS::IAM::Role Role (IAM: 1 more allowed action/resource pair; managed policies added: "
        "arn:aws:iam::aws:policy/AdministratorAccess)",
        "adds output Secret, which exposes an access key's secret to anyone allowed to describe the stack"]
    assert security_findings(new, new) == []
    assert security_findings(new, old) == []         # narrowing, closing and strengthening are not findings
