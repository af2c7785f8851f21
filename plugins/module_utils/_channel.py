# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and write release channels: ``s3://bucket[/prefix]``, ``https://...`` (read-only) and
``file:///abs/path`` or a bare local path.  Knows nothing of stacks.

Layout under the channel root::

    versions.json
    <version>/rack.json
    <version>/app.json

Writers update ``versions.json`` with optimistic concurrency (S3 conditional writes with
``If-Match`` / ``If-None-Match``; an exclusive lock plus atomic rename on a filesystem) so that
two publishers never lose each other's entry.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from typing import Any, Callable, NoReturn

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not on POSIX
    HAS_FCNTL = False

from urllib.parse import quote, urlparse

from ansible.module_utils.urls import open_url

from ansible_collections.convox.rack.plugins.module_utils._common import ClientFactory, aws_error_code, aws_error_message
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._releases import Releases, validate_version_name

VERSIONS = "versions.json"
TEMPLATE_KINDS = ("rack", "app")
MAX_CONFLICTS = 25
# Channel contents are untrusted: nothing larger than this is read (CloudFormation itself takes at
# most 1 MB from S3 for a template; versions.json of thousands of releases stays far below 4 MiB).
MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_VERSIONS_BYTES = 4 * 1024 * 1024


def _client_error_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class Channel:
    """Base: ``get``/``put`` raw objects by relative key, plus the release-level helpers."""

    writable = True

    def __init__(self, url: str) -> None:
        self.url = url

    # -- raw access implemented by subclasses ------------------------------------------
    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:  # pragma: no cover - abstract
        """Return (bytes, token) or (None, None) when the object does not exist; with ``limit``, an
        object larger than ``limit`` bytes is refused before more than ``limit + 1`` bytes are read."""
        raise NotImplementedError

    def template_url(self, key: str, token: str | None) -> str | None:
        """A URL CloudFormation can read the object ``key`` (as read with ``token``) from, or None."""
        return None

    def too_large(self, key: str, limit: int) -> ConvoxError:
        return ConvoxError("%s is larger than %d bytes; a channel object that large is refused unread."
                           % (self.describe(key), limit))

    def put(self, key: str, body: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def put_if(self, key: str, body: bytes, token: str | None) -> bool:  # pragma: no cover - abstract
        """Write only if the object still has ``token`` (None: only if it does not exist).
        Return True on success, False on a conflict."""
        raise NotImplementedError

    def delete(self, key: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_only(self) -> ConvoxError:
        """The error for a write to a channel that is not ``writable``."""
        return ConvoxError("channel %s is read-only; publish to an s3:// or file:// channel." % self.url)

    # -- releases -------------------------------------------------------------------------
    def describe(self, key: str) -> str:
        return "%s/%s" % (self.url.rstrip("/"), key)

    def read_releases(self) -> Releases:
        body, dummy = self.get(VERSIONS, MAX_VERSIONS_BYTES)
        if body is None:
            raise ConvoxError("channel %s has no %s." % (self.url, VERSIONS))
        return Releases.parse(body)

    def read_releases_or_empty(self) -> tuple[Releases, str | None]:
        body, token = self.get(VERSIONS, MAX_VERSIONS_BYTES)
        if body is None:
            return Releases([]), None
        return Releases.parse(body), token

    def read_template(self, version: str, kind: str) -> tuple[str, str | None]:
        """(text, url) of the ``kind`` template of ``version``: ``url`` is where CloudFormation can
        read exactly these bytes (S3 channels), else None."""
        validate_version_name(version)
        key = "%s/%s.json" % (version, kind)
        body, token = self.get(key, MAX_TEMPLATE_BYTES)
        if body is None:
            raise ConvoxError("channel %s has no %s template for version \"%s\" (%s is missing)."
                              % (self.url, kind, version, key))
        try:
            return body.decode("utf-8"), self.template_url(key, token)
        except UnicodeDecodeError:
            raise ConvoxError("template %s is not valid UTF-8." % self.describe(key)) from None

    def update_releases(self, edit: Callable[[Releases], tuple[Releases, bool]]) -> tuple[Releases, Releases, bool]:
        """Apply ``edit(Releases) -> (Releases, changed)`` to versions.json, retrying on a
        concurrent writer's change.  Returns (before, after, changed)."""
        if not self.writable:
            raise self.read_only()
        for dummy in range(MAX_CONFLICTS):
            before, token = self.read_releases_or_empty()
            after, changed = edit(before)
            if not changed:
                return before, after, False
            if self.put_if(VERSIONS, after.dumps().encode("utf-8"), token):
                return before, after, True
        raise ConvoxError("versions.json in channel %s kept changing under %d concurrent writes; try again."
                          % (self.url, MAX_CONFLICTS))


class FileChannel(Channel):
    def __init__(self, url: str, root: str) -> None:
        super().__init__(url)
        self.root = root

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                body = f.read() if limit is None else f.read(limit + 1)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None, None
            raise ConvoxError("cannot read %s (%s)." % (path, exc.strerror or exc)) from exc
        if limit is not None and len(body) > limit:
            raise self.too_large(key, limit)
        # The token is the content itself: (mtime, size, inode) can repeat within one coarse
        # filesystem clock tick, and equal content is exactly what makes an edit safe to write.
        return body, hashlib.sha256(body).hexdigest()

    def _write_atomic(self, key: str, body: bytes) -> None:
        path = self._path(key)
        directory = os.path.dirname(path)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
        except OSError as exc:
            raise ConvoxError("cannot write %s (%s)." % (path, exc.strerror or exc)) from exc

    def put(self, key: str, body: bytes) -> None:
        self._write_atomic(key, body)

    def put_if(self, key: str, body: bytes, token: str | None) -> bool:
        # An exclusive lock serializes writers on this host (and on NFS with lockd); the token
        # check inside the lock catches a writer that slipped in since we read.
        try:
            os.makedirs(self.root, exist_ok=True)
            lock = open(os.path.join(self.root, ".versions.lock"), "a+")
        except OSError as exc:
            raise ConvoxError("cannot write channel %s (%s)." % (self.url, exc.strerror or exc)) from exc
        with lock:
            if HAS_FCNTL:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            dummy, current = self.get(key)
            if current != token:
                return False
            self._write_atomic(key, body)
            return True

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise ConvoxError("cannot delete %s (%s)." % (self._path(key), exc.strerror or exc)) from exc
        try:
            os.rmdir(os.path.dirname(self._path(key)))
        except OSError:
            pass


class S3Channel(Channel):
    def __init__(self, url: str, bucket: str, prefix: str, client_factory: ClientFactory | None) -> None:
        super().__init__(url)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._factory = client_factory
        self._client: Any = None
        self._versions: dict[str | None, str | None] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._factory is None:
                raise ConvoxError("channel %s needs AWS credentials to be read." % self.url)
            self._client = self._factory("s3")
        return self._client

    def _key(self, key: str) -> str:
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def template_url(self, key: str, token: str | None) -> str | None:
        """The object's virtual-hosted URL in the client's region, pinned to the version read (on a
        versioned bucket), so CloudFormation reads exactly the bytes that were checked."""
        region = getattr(getattr(self.client, "meta", None), "region_name", None) or "us-east-1"
        url = "https://%s.s3.%s.amazonaws.com/%s" % (self.bucket, region, quote(self._key(key)))
        version_id = self._versions.get(token)
        if version_id and version_id != "null":
            url += "?versionId=%s" % quote(version_id, safe="")
        return url

    def _fail(self, action: str, key: str, exc: Exception) -> NoReturn:
        code = aws_error_code(exc) or type(exc).__name__
        message = aws_error_message(exc)
        where = "s3://%s/%s" % (self.bucket, self._key(key))
        raise ConvoxError("cannot %s %s (%s: %s)." % (action, where, code, message.rstrip(".")))

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            if limit is not None and int(resp.get("ContentLength") or 0) > limit:
                resp["Body"].close()
                raise self.too_large(key, limit)
            body = resp["Body"].read() if limit is None else resp["Body"].read(limit + 1)
            if limit is not None and len(body) > limit:
                raise self.too_large(key, limit)
            self._versions[resp.get("ETag")] = resp.get("VersionId")
            return body, resp.get("ETag")
        except ConvoxError:
            raise
        except Exception as exc:  # botocore is optional at import time
            if aws_error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None, None
            if aws_error_code(exc) == "NoSuchBucket":
                raise ConvoxError("channel %s is unreachable: bucket %s does not exist." % (self.url, self.bucket)) from exc
            self._fail("read", key, exc)

    def put(self, key: str, body: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body,
                                   ContentType="application/json")
        except Exception as exc:
            self._fail("write", key, exc)

    def put_if(self, key: str, body: bytes, token: str | None) -> bool:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": body, "ContentType": "application/json"}
        if token is None:
            kwargs["IfNoneMatch"] = "*"
        else:
            kwargs["IfMatch"] = token
        try:
            self.client.put_object(**kwargs)
            return True
        except Exception as exc:
            if aws_error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict") or \
                    _client_error_status(exc) in (409, 412):
                return False
            self._fail("write", key, exc)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            self._fail("delete", key, exc)


class HttpsChannel(Channel):
    writable = False

    def __init__(self, url: str, validate_certs: bool = True, timeout: int = 30) -> None:
        super().__init__(url)
        self.validate_certs = validate_certs
        self.timeout = timeout

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        url = self.describe(key)
        try:
            resp = open_url(url, validate_certs=self.validate_certs, timeout=self.timeout)
            body = resp.read() if limit is None else resp.read(limit + 1)
        except Exception as exc:
            if getattr(exc, "code", None) in (403, 404):
                return None, None
            raise ConvoxError("channel %s is unreachable (%s)." % (self.url, getattr(exc, "reason", None) or exc)) from exc
        if limit is not None and len(body) > limit:
            raise self.too_large(key, limit)
        return body, None

    def put(self, key: str, body: bytes) -> None:
        raise self.read_only()

    def put_if(self, key: str, body: bytes, token: str | None) -> bool:
        raise self.read_only()

    def delete(self, key: str) -> None:
        raise self.read_only()


def open_channel(url: Any, client_factory: ClientFactory | None = None, validate_certs: bool = True) -> Channel:
    """Return the Channel for ``url`` or raise ConvoxError for a malformed one."""
    if not isinstance(url, str) or not url.strip():
        raise ConvoxError("channel must be a non-empty URL (s3://bucket[/prefix], https://host/path or file:///path).")
    url = url.strip()
    if "://" not in url:
        root = os.path.abspath(os.path.expanduser(url))
        return FileChannel("file://" + root, root)
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ConvoxError('channel "%s" must be file:///absolute/path.' % url)
        if not parsed.path.startswith("/"):
            raise ConvoxError('channel "%s" must be file:///absolute/path.' % url)
        return FileChannel(url.rstrip("/"), parsed.path.rstrip("/") or "/")
    if scheme == "s3":
        if not parsed.netloc:
            raise ConvoxError('channel "%s" has no bucket name.' % url)
        return S3Channel(url.rstrip("/"), parsed.netloc, parsed.path, client_factory)
    if scheme == "http":
        raise ConvoxError('channel "%s" uses plain http://, which anyone on the network path can rewrite; use '
                          'https://, s3:// or file://.' % url)
    if scheme == "https":
        if not parsed.netloc:
            raise ConvoxError('channel "%s" has no host.' % url)
        return HttpsChannel(url.rstrip("/"), validate_certs=validate_certs)
    raise ConvoxError('channel "%s" has an unsupported scheme "%s" (use s3://, https:// or file://).' % (url, scheme))
