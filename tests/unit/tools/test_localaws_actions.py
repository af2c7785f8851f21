# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local endpoint authorizes each operation under the IAM action AWS's Service Authorization Reference names for
it (tools/localaws/actions.py), whatever name the installed moto gives the operation: for every call below, a user
holding every action of the service but that one is refused naming it, and a user holding only that one (and what
the set-up needs) is served."""

from __future__ import annotations

import json
import os

import boto3
import botocore.exceptions
import pytest
from localaws import actions

pytestmark = pytest.mark.usefixtures("aws")

BUCKET = "actions-bucket"
KEY = "versions.json"

# (what the call is, the IAM action AWS checks, the call: client -> response)
S3_CALLS = [
    ("ListObjectVersions", "s3:ListBucketVersions", lambda s3, v: s3.list_object_versions(Bucket=BUCKET)),
    ("ListObjectsV2", "s3:ListBucket", lambda s3, v: s3.list_objects_v2(Bucket=BUCKET)),
    ("ListObjects", "s3:ListBucket", lambda s3, v: s3.list_objects(Bucket=BUCKET)),
    ("HeadBucket", "s3:ListBucket", lambda s3, v: s3.head_bucket(Bucket=BUCKET)),
    ("ListBuckets", "s3:ListAllMyBuckets", lambda s3, v: s3.list_buckets()),
    ("GetBucketEncryption", "s3:GetEncryptionConfiguration", lambda s3, v: s3.get_bucket_encryption(Bucket=BUCKET)),
    ("PutBucketEncryption", "s3:PutEncryptionConfiguration", lambda s3, v: s3.put_bucket_encryption(
        Bucket=BUCKET, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})),
    ("GetBucketVersioning", "s3:GetBucketVersioning", lambda s3, v: s3.get_bucket_versioning(Bucket=BUCKET)),
    ("PutBucketVersioning", "s3:PutBucketVersioning", lambda s3, v: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})),
    ("GetBucketLocation", "s3:GetBucketLocation", lambda s3, v: s3.get_bucket_location(Bucket=BUCKET)),
    ("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
     lambda s3, v: s3.get_public_access_block(Bucket=BUCKET)),
    ("PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", lambda s3, v: s3.put_public_access_block(
        Bucket=BUCKET, PublicAccessBlockConfiguration={"BlockPublicAcls": True})),
    ("GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration",
     lambda s3, v: s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)),
    ("GetBucketTagging", "s3:GetBucketTagging", lambda s3, v: s3.get_bucket_tagging(Bucket=BUCKET)),
    ("GetObject", "s3:GetObject", lambda s3, v: s3.get_object(Bucket=BUCKET, Key=KEY)),
    ("GetObject with VersionId", "s3:GetObjectVersion",
     lambda s3, v: s3.get_object(Bucket=BUCKET, Key=KEY, VersionId=v)),
    ("HeadObject", "s3:GetObject", lambda s3, v: s3.head_object(Bucket=BUCKET, Key=KEY)),
    ("PutObject", "s3:PutObject", lambda s3, v: s3.put_object(Bucket=BUCKET, Key="other", Body=b"x")),
    ("DeleteObject", "s3:DeleteObject", lambda s3, v: s3.delete_object(Bucket=BUCKET, Key=KEY)),
    ("DeleteObject with VersionId", "s3:DeleteObjectVersion",
     lambda s3, v: s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=v)),
    ("DeleteObjects", "s3:DeleteObject",
     lambda s3, v: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": KEY}]})),
    ("DeleteObjects of versions", "s3:DeleteObjectVersion",
     lambda s3, v: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": KEY, "VersionId": v}]})),
]


def admin(service):
    return boto3.client(service, region_name="us-east-1")


def as_user(allowed, denied=()):
    """A client factory for an IAM user allowed ``allowed`` but ``denied`` (made before IAM is enforced)."""
    iam = admin("iam")
    iam.create_user(UserName="someone")
    statements = [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]
    if denied:
        statements.append({"Effect": "Deny", "Action": list(denied), "Resource": "*"})
    iam.put_user_policy(UserName="someone", PolicyName="p",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName="someone")["AccessKey"]
    return boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                 region_name="us-east-1").client


@pytest.fixture
def enforce():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    before = settings.INITIAL_NO_AUTH_ACTION_COUNT

    def on():
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
    yield on
    settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def versioned_bucket():
    s3 = admin("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "System", "Value": "convox"}]})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {
            "NoncurrentDays": 30}}]})
    return s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"[]")["VersionId"]


def refusal(make, s3, version):
    """The error of the refused call (DeleteObjects answers 200 and refuses each key, as AWS does)."""
    try:
        response = make(s3, version)
    except botocore.exceptions.ClientError as exc:
        return exc.response["Error"]
    errors = response.get("Errors") or []
    assert errors and not response.get("Deleted"), "served: %s" % response
    return errors[0]


@pytest.mark.parametrize("call", S3_CALLS, ids=[c[0] for c in S3_CALLS])
def test_every_s3_call_is_refused_without_its_iam_action_and_names_it(call, enforce):
    dummy, action, make = call
    version = versioned_bucket()
    s3 = as_user(["s3:*"], denied=[action])("s3")
    enforce()
    error = refusal(make, s3, version)
    assert error["Code"] in ("AccessDenied", "403"), error
    if "Key" in error:                     # a key DeleteObjects refused: AWS's per-key words
        assert error["Message"] == "Access Denied"
    elif "Message" in error:               # a HEAD request's error has no body, so no message
        assert "not authorized to perform: %s " % action in error["Message"], error


@pytest.mark.parametrize("call", S3_CALLS, ids=[c[0] for c in S3_CALLS])
def test_every_s3_call_is_served_with_only_its_iam_action(call, enforce):
    dummy, action, make = call
    version = versioned_bucket()
    s3 = as_user([action])("s3")
    enforce()
    response = make(s3, version)           # no AccessDenied
    assert not response.get("Errors"), response


def test_a_refused_multi_object_delete_deletes_nothing(enforce):
    version = versioned_bucket()
    s3 = as_user(["s3:DeleteObject"])("s3")
    enforce()
    response = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": KEY, "VersionId": version}]})
    assert [e["Code"] for e in response["Errors"]] == ["AccessDenied"]
    from moto import settings
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    versions = admin("s3").list_object_versions(Bucket=BUCKET)["Versions"]
    assert [v["VersionId"] for v in versions] == [version]


def test_cloudwatch_is_authorized_under_its_iam_prefix_not_its_signing_name(enforce):
    cloudwatch = as_user(["cloudwatch:DescribeAlarms"])("cloudwatch")
    enforce()
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_cloudwatch_without_its_action_is_refused_naming_it(enforce):
    cloudwatch = as_user(["monitoring:DescribeAlarms"])("cloudwatch")       # the signing name grants nothing
    enforce()
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        cloudwatch.describe_alarms()
    assert "cloudwatch:DescribeAlarms" in refused.value.response["Error"]["Message"]


def test_the_table_maps_the_names_of_both_moto_series_and_of_the_api():
    # moto 5.2.5's names, moto 5.2.6's (the API's), and the IAM action AWS checks
    assert actions.iam_action("s3", "ListBucketVersions") == "s3:ListBucketVersions"
    assert actions.iam_action("s3", "ListObjectVersions") == "s3:ListBucketVersions"
    assert actions.iam_action("s3", "ListBucket") == "s3:ListBucket"
    assert actions.iam_action("s3", "ListObjectsV2") == "s3:ListBucket"
    assert actions.iam_action("s3", "GetObjectVersion") == "s3:GetObjectVersion"
    assert actions.iam_action("s3", "GetObject", "/b/k?versionId=3") == "s3:GetObjectVersion"
    assert actions.iam_action("s3", "GetObject", "/b/k") == "s3:GetObject"
    assert actions.iam_action("s3", "DeleteObjects", "/b?delete", b"<Delete><Object><Key>k</Key>"
                              b"<VersionId>1</VersionId></Object></Delete>") == "s3:DeleteObjectVersion"
    assert actions.iam_action("s3", "DeleteObjects", "/b?delete", b"<Delete><Object><Key>k</Key></Object>"
                              b"</Delete>") == "s3:DeleteObject"
    assert actions.iam_action("s3", "DeleteObject", "/b?delete", b"<Delete><Object><Key>k</Key>"
                              b"<VersionId>1</VersionId></Object></Delete>") == "s3:DeleteObjectVersion"
    assert actions.iam_action("s3", "GetBucketEncryption") == "s3:GetEncryptionConfiguration"
    assert actions.iam_action("s3", "PutBucketVersioning") == "s3:PutBucketVersioning"
    assert actions.iam_action("monitoring", "DescribeAlarms") == "cloudwatch:DescribeAlarms"
    assert actions.iam_action("cloudformation", "UpdateStack") == "cloudformation:UpdateStack"
    assert ("s3:ListObjectVersions", "s3:ListBucketVersions") in actions.table()


@pytest.mark.parametrize("method, path, host, operation", [
    ("GET", "/?versions", "channel.s3.amazonaws.com", "ListObjectVersions"),
    ("GET", "/channel?versions", "127.0.0.1:5000", "ListObjectVersions"),
    ("GET", "/?list-type=2&prefix=x", "channel.s3.us-west-2.amazonaws.com", "ListObjectsV2"),
    ("GET", "/channel", "127.0.0.1:5000", "ListObjects"),
    ("GET", "/", "s3.amazonaws.com", "ListBuckets"),
    ("GET", "/channel?encryption", "127.0.0.1:5000", "GetBucketEncryption"),
    ("PUT", "/?publicAccessBlock", "channel.s3.amazonaws.com", "PutPublicAccessBlock"),
    ("DELETE", "/?publicAccessBlock", "channel.s3.amazonaws.com", "DeletePublicAccessBlock"),
    ("POST", "/channel?delete", "127.0.0.1:5000", "DeleteObjects"),
    ("GET", "/channel/20260421/rack.json?versionId=3", "127.0.0.1:5000", "GetObject"),
    ("HEAD", "/20260421/rack.json", "channel.s3.amazonaws.com", "HeadObject"),
    ("GET", "/channel?inventory", "127.0.0.1:5000", "ListBucketInventoryConfigurations"),
    ("GET", "/channel?inventory&id=a", "127.0.0.1:5000", "GetBucketInventoryConfiguration"),
])
def test_an_s3_request_is_routed_to_its_operation_as_s3_routes_it(method, path, host, operation):
    assert actions.s3_operation(method, path, {"Host": host}) == operation


def test_the_cli_lists_the_mapping():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "localaws", "actions"], check=True, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(actions.__file__))).stdout
    assert any(line.split() == ["s3:ListObjectVersions", "s3:ListBucketVersions"] for line in out.splitlines()), out
