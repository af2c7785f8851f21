# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM action AWS checks for each API operation, as the Service Authorization Reference names it.

moto authorizes a request under whatever name it gives the operation: moto 5.2.5 used names of its own for S3
(``ListBucketVersions``, ``GetPublicAccessBlock``, ``HeadBucket``), moto 5.2.6 the API operation names
(``ListObjectVersions``, ``ListObjectsV2``, ``GetBucketEncryption``), neither of which is always the IAM action
(``s3:ListBucketVersions``, ``s3:ListBucket``, ``s3:GetEncryptionConfiguration``).  Some of moto 5.2.5's names were
plainly wrong (GetBucketEncryption was authorized as ``s3:ListBucket``).  So ``iam_action`` routes an S3 request
itself, from its method, bucket / object level and sub-resource, as S3's REST API does, and maps the operation to
the action AWS checks: a policy is judged here as on AWS whatever the installed moto calls the operation.

Pure: importing this module loads nothing of moto (``python -m localaws actions`` prints the tables)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

# the signing name of a service -> its IAM prefix, where they differ
SERVICE_PREFIXES = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "tagging": "tag",
}

# S3 operation (the API's name, or the name moto gave it) -> the IAM action AWS checks.  An operation not listed is
# authorized under its own name (GetObject, PutObject, DeleteObject, CreateBucket, DeleteBucket, GetBucketPolicy,
# PutBucketVersioning, GetBucketTagging, ...: the same word in the API and in IAM).
S3_ACTIONS = {
    # listing
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    # objects
    "HeadObject": "GetObject",
    "SelectObject": "GetObject",                       # moto 5.2.5's name
    "SelectObjectContent": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "CopyObject": "PutObject",                         # (and s3:GetObject on the source, not modelled)
    "DeleteObjects": "DeleteObject",
    # bucket configuration: the API says Bucket..., IAM says ...Configuration (or the reverse)
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}

# with ?versionId= (or, for DeleteObjects, a <VersionId> in the body) AWS checks the version's own action
S3_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAttributes": "GetObjectVersionAttributes",
}

# The S3 operation of a request, from its method, its level (the account, a bucket, an object) and its sub-resource
# (the query parameter that names it), as S3's REST API routes it: (level, method) -> [(sub-resource, operation)],
# the first that the query holds, else the operation of the last entry (sub-resource None).
_BUCKET_CONFIG = [
    ("versioning", "BucketVersioning"), ("encryption", "BucketEncryption"),
    ("publicAccessBlock", "PublicAccessBlock"), ("lifecycle", "BucketLifecycleConfiguration"),
    ("tagging", "BucketTagging"), ("policyStatus", "BucketPolicyStatus"), ("policy", "BucketPolicy"),
    ("acl", "BucketAcl"), ("cors", "BucketCors"), ("website", "BucketWebsite"), ("logging", "BucketLogging"),
    ("notification", "BucketNotificationConfiguration"), ("accelerate", "BucketAccelerateConfiguration"),
    ("replication", "BucketReplication"), ("ownershipControls", "BucketOwnershipControls"),
    ("object-lock", "ObjectLockConfiguration"), ("requestPayment", "BucketRequestPayment"),
    ("inventory", "BucketInventoryConfiguration"), ("analytics", "BucketAnalyticsConfiguration"),
    ("metrics", "BucketMetricsConfiguration"), ("intelligent-tiering", "BucketIntelligentTieringConfiguration"),
]
_ROUTES: dict[tuple[str, str], list[tuple[str | None, str]]] = {
    ("account", "GET"): [(None, "ListBuckets")],
    ("bucket", "GET"): ([("location", "GetBucketLocation"), ("uploads", "ListMultipartUploads"),
                         ("versions", "ListObjectVersions")] + [(q, "Get" + op) for q, op in _BUCKET_CONFIG]
                        + [("list-type", "ListObjectsV2"), (None, "ListObjects")]),
    ("bucket", "HEAD"): [(None, "HeadBucket")],
    ("bucket", "PUT"): [(q, "Put" + op) for q, op in _BUCKET_CONFIG] + [(None, "CreateBucket")],
    ("bucket", "DELETE"): ([(q, "Delete" + op) for q, op in _BUCKET_CONFIG
                            if q not in ("versioning", "acl", "logging", "notification", "accelerate", "object-lock",
                                         "requestPayment", "policyStatus")]
                           + [(None, "DeleteBucket")]),
    ("bucket", "POST"): [("delete", "DeleteObjects"), (None, "PostObject")],
    ("object", "GET"): [("uploadId", "ListParts"), ("acl", "GetObjectAcl"), ("tagging", "GetObjectTagging"),
                        ("attributes", "GetObjectAttributes"), ("legal-hold", "GetObjectLegalHold"),
                        ("retention", "GetObjectRetention"), (None, "GetObject")],
    ("object", "HEAD"): [(None, "HeadObject")],
    ("object", "PUT"): [("partNumber", "UploadPart"), ("acl", "PutObjectAcl"), ("tagging", "PutObjectTagging"),
                        ("legal-hold", "PutObjectLegalHold"), ("retention", "PutObjectRetention"),
                        (None, "PutObject")],
    ("object", "DELETE"): [("uploadId", "AbortMultipartUpload"), ("tagging", "DeleteObjectTagging"),
                           (None, "DeleteObject")],
    ("object", "POST"): [("uploads", "CreateMultipartUpload"), ("uploadId", "CompleteMultipartUpload"),
                         ("restore", "RestoreObject"), ("select", "SelectObjectContent"), (None, "PostObject")],
}
S3_ACTIONS["PostObject"] = "PutObject"                     # a browser-form upload
_S3_HOST = re.compile(r"^(?P<bucket>.+?)\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?(:\d+)?$")


def _level(path: str, headers: dict[str, str]) -> str:
    """"account", "bucket" or "object": what the request names (virtual-hosted or path-style)."""
    host = {k.lower(): v for k, v in headers.items()}.get("host", "")
    parts = [p for p in urlparse(path).path.split("/", 2)[1:] if p] if path.startswith("/") else []
    if _S3_HOST.match(host):
        return "object" if urlparse(path).path.strip("/") else "bucket"
    if not parts:
        return "account"
    return "object" if len(parts) > 1 else "bucket"


def s3_operation(method: str, path: str, headers: dict[str, str]) -> str:
    """The S3 API operation of a request (as S3 routes it), whatever name the emulator gives it."""
    query = parse_qs(urlparse(path).query, keep_blank_values=True)
    lowered = {k.lower() for k in headers}
    routes = _ROUTES.get((_level(path, headers), method.upper()), [])
    for sub, operation in routes:
        if sub is None or sub in query:
            if operation == "UploadPart" and "x-amz-copy-source" in lowered:
                return "UploadPartCopy"
            if operation == "PutObject" and "x-amz-copy-source" in lowered:
                return "CopyObject"
            if operation.startswith("GetBucket") and operation.endswith("Configuration") and "id" not in query \
                    and sub in ("inventory", "analytics", "metrics", "intelligent-tiering"):
                return "List" + operation[3:] + "s"
            return operation
    return ""


def _versioned(path: str, body: bytes | str | None) -> bool:
    query = parse_qs(urlparse(path).query, keep_blank_values=True)
    if "delete" in query:                   # a multi-object delete: the body says
        raw = body.encode() if isinstance(body, str) else (body or b"")
        return b"<VersionId>" in raw
    return "versionId" in query


def s3_action(operation: str, path: str = "", body: bytes | str | None = None) -> str:
    """The IAM action (without ``s3:``) AWS checks for the S3 ``operation`` on the request ``path`` / ``body``."""
    base = S3_ACTIONS.get(operation, operation)
    if base in S3_VERSIONED and _versioned(path, body):
        return S3_VERSIONED[base]
    return base


def iam_action(service: str, operation: str, path: str = "", body: bytes | str | None = None,
               method: str = "", headers: dict[str, str] | None = None) -> str:
    """``prefix:Action`` AWS checks for the request: for S3 the operation routed from the request itself when the
    method is given (moto's name for it is not to be trusted), else ``operation`` of the service signing as
    ``service``."""
    prefix = SERVICE_PREFIXES.get(service, service)
    if service == "s3":
        routed = s3_operation(method, path, headers or {}) if method else ""
        return "s3:" + s3_action(routed or operation, path, body)
    return "%s:%s" % (prefix, operation)


def table() -> list[tuple[str, str]]:
    """(operation, IAM action) for every operation whose action is not its own name."""
    rows = [("s3:" + op, "s3:" + action) for op, action in sorted(S3_ACTIONS.items())]
    rows += [("s3:%s ?versionId" % op, "s3:" + action) for op, action in sorted(S3_VERSIONED.items())]
    rows += [("%s:*" % service, "%s:*" % prefix) for service, prefix in sorted(SERVICE_PREFIXES.items())]
    return rows
