# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emptying and deleting the buckets a stack retained (DeletionPolicy Retain), for uninstall."""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError


def empty_bucket(s3: Any, bucket: str) -> bool:
    """Delete every object version and delete marker; a missing bucket is fine."""
    try:
        result = s3.paginate("list_object_versions", Bucket=bucket)
    except is_boto3_error_code("NoSuchBucket"):
        return False
    objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in result.get("Versions", [])]
    objects += [{"Key": m["Key"], "VersionId": m["VersionId"]} for m in result.get("DeleteMarkers", [])]
    for i in range(0, len(objects), 1000):
        resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[i:i + 1000], "Quiet": True})
        errors = resp.get("Errors") or []
        if errors:   # DeleteObjects answers 200 and lists per-object failures (e.g. AccessDenied)
            first = errors[0]
            raise ConvoxError("emptying bucket %s failed: %d object version(s) could not be deleted (this needs "
                              "s3:DeleteObjectVersion), the first (%s) with %s: %s."
                              % (bucket, len(errors), first.get("Key"), first.get("Code"),
                                 (first.get("Message") or "no message").rstrip(".")), bucket=bucket)
    return True


def delete_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.delete_bucket(Bucket=bucket)
    except is_boto3_error_code("NoSuchBucket"):
        pass
