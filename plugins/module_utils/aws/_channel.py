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
import re
import socket
import ssl
import stat
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Callable, NoReturn

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not on POSIX
    HAS_FCNTL = False

from urllib.parse import quote, urlparse

from ansible_collections.convox.rack.plugins.module_utils.aws._common import (
    ClientFactory,
    aws_error_code,
    aws_error_message,
    partition_dns_suffix,
    partition_of,
)
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Releases, validate_version_name

VERSIONS = "versions.json"
TEMPLATE_KINDS = ("rack", "app")
MAX_CONFLICTS = 25
# Channel contents are untrusted: nothing larger than this is read (CloudFormation itself takes at
# most 1 MB from S3 for a template; versions.json of thousands of releases stays far below 4 MiB).
MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_VERSIONS_BYTES = 4 * 1024 * 1024
# Every object of a channel must arrive within this many seconds (a task with a shorter ``timeout`` sets a shorter
# bound through its client factory), however slowly its bytes trickle in.
CHANNEL_TIMEOUT = 60.0
CHUNK = 64 * 1024


def read_bounded(stream: Any, limit: int | None, deadline: float, too_large: Callable[[], ConvoxError],
                 too_slow: Callable[[], ConvoxError]) -> bytes:
    """The bytes of ``stream``: refused once more than ``limit`` arrived (``too_large``) or once ``deadline`` (a
    ``time.monotonic`` value) passed (``too_slow``), whichever comes first.  Reads what is available each time
    (``read1``), so a server sending a byte every few seconds cannot hold a read past the deadline."""
    read = getattr(stream, "read1", None) or stream.read
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise too_slow()
        chunk = read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise too_large()


def _client_error_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


class ObjectUrl:
    """Where CloudFormation can read a channel object by itself (S3): the bucket's region and the URL in it,
    looked up only when a template is too large to be sent in the request."""

    def __init__(self, channel: S3Channel, key: str, version_id: str | None) -> None:
        self.channel = channel
        self.key = key
        self.version_id = version_id

    @property
    def bucket(self) -> str:
        return self.channel.bucket

    def region(self) -> str:
        return self.channel.bucket_region()

    def partition(self) -> str:
        return partition_of(self.region())

    def url(self) -> str:
        region = self.region()
        url = "https://%s.s3.%s.%s/%s" % (self.bucket, region, partition_dns_suffix(region), quote(self.key))
        if self.version_id and self.version_id != "null":
            url += "?versionId=%s" % quote(self.version_id, safe="")
        return url


# an HTTPS channel served by S3 itself (Convox's https://convox.s3.amazonaws.com/release): virtual-hosted
# (<bucket>.s3[.<region>].amazonaws.com[.cn]) or path-style (s3[.<region>].amazonaws.com[.cn]/<bucket>)
_S3_HOST = re.compile(r"^(?:(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.)?s3(?:[.-](?P<region>[a-z]{2}(?:-[a-z]+)+-\d))?"
                      r"\.(?P<domain>amazonaws\.com(?:\.cn)?)$", re.ASCII)


class HttpsS3Url:
    """The URL of an HTTPS channel's object when S3 serves the channel: CloudFormation reads it there itself (the
    way Convox's CLI passes TemplateURL=https://convox.s3.amazonaws.com/release/<v>/rack.json from every region).
    Its region is the one the host names; the global endpoint (no region) is us-east-1's."""

    def __init__(self, url: str, bucket: str, region: str | None, domain: str) -> None:
        self._url = url
        self.bucket = bucket
        self._region = region or ("cn-north-1" if domain.endswith(".cn") else "us-east-1")
        self.domain = domain

    def region(self) -> str:
        return self._region

    def partition(self) -> str:
        return "aws-cn" if self.domain.endswith(".cn") else partition_of(self._region)

    def url(self) -> str:
        return self._url


def https_s3_url(url: str) -> HttpsS3Url | None:
    """An HttpsS3Url for ``url`` when its host is an S3 endpoint, else None."""
    parsed = urlparse(url)
    match = _S3_HOST.match((parsed.hostname or "").lower())
    if parsed.scheme != "https" or match is None:
        return None
    bucket = match.group("bucket") or parsed.path.lstrip("/").split("/", 1)[0]
    return HttpsS3Url(url, bucket, match.group("region"), match.group("domain")) if bucket else None


class Channel:
    """Base: ``get``/``put`` raw objects by relative key, plus the release-level helpers.  ``timeout``: seconds an
    object may take to arrive."""

    writable = True

    def __init__(self, url: str, timeout: float = CHANNEL_TIMEOUT) -> None:
        self.url = url
        self.timeout = float(timeout)

    def too_slow(self, key: str) -> ConvoxError:
        return ConvoxError("%s did not arrive within %g seconds, so it was refused; a channel read is bounded by the "
                           "task's timeout." % (self.describe(key), self.timeout))

    # -- raw access implemented by subclasses ------------------------------------------
    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:  # pragma: no cover - abstract
        """Return (bytes, token) or (None, None) when the object does not exist; with ``limit``, an
        object larger than ``limit`` bytes is refused before more than ``limit + 1`` bytes are read."""
        raise NotImplementedError

    def template_url(self, key: str, token: str | None) -> ObjectUrl | HttpsS3Url | None:
        """Where CloudFormation can read the object ``key`` (as read with ``token``) itself, or None."""
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
        releases, dummy = self._read_versions()
        if releases is None:
            raise ConvoxError("channel %s has no %s." % (self.url, VERSIONS))
        return releases

    def read_releases_or_empty(self) -> tuple[Releases, str | None]:
        releases, token = self._read_versions()
        return (Releases([]) if releases is None else releases), token

    def _read_versions(self) -> tuple[Releases | None, str | None]:
        """(releases, token) of versions.json, (None, None) when there is none; a file that is not a list of
        releases is refused naming the channel."""
        body, token = self.get(VERSIONS, MAX_VERSIONS_BYTES)
        if body is None:
            return None, None
        try:
            return Releases.parse(body), token
        except ConvoxError as exc:
            raise ConvoxError("channel %s: %s" % (self.url, exc.msg)) from None

    def read_template(self, version: str, kind: str) -> tuple[str, ObjectUrl | HttpsS3Url | None]:
        """(text, url) of the ``kind`` template of ``version``: ``url`` is where CloudFormation can
        read exactly these bytes (S3 channels), else None."""
        validate_version_name(version)
        key = "%s/%s.json" % (version, kind)
        body, token = self.get(key, MAX_TEMPLATE_BYTES)
        if body is None and kind == "rack":
            # Convox publishes <version>/formation.json for every release, rack.json only since 20171102200537
            key = "%s/formation.json" % version
            body, token = self.get(key, MAX_TEMPLATE_BYTES)
        if body is None and kind == "app":
            raise ConvoxError("release %s of channel %s has no app template (%s/app.json is missing): a rack-only "
                              "release, as Convox publishes them, whose apps the rack renders itself; an app of this "
                              "collection cannot follow its rack to it." % (version, self.url, version))
        if body is None:
            raise ConvoxError("channel %s has no %s template for version \"%s\" (%s/%s.json and %s/formation.json are "
                              "missing)." % (self.url, kind, version, version, kind, version))
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
    """A channel on a filesystem.  Reads never leave its root (a link pointing outside is refused) and read regular
    files only (a FIFO, a device or a directory is refused unread: nothing can make a read block or spill bytes from
    elsewhere)."""

    def __init__(self, url: str, root: str, timeout: float = CHANNEL_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.root = root

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        path = self._path(key)
        try:
            real = os.path.realpath(path)
            root = os.path.realpath(self.root)
            if os.path.commonpath([real, root]) != root:
                raise ConvoxError("%s leads out of the channel (a link to a place outside %s), so it was refused unread."
                                  % (self.describe(key), self.root))
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None, None
            raise ConvoxError("cannot read %s (%s)." % (path, exc.strerror or exc)) from exc
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
                raise ConvoxError("%s is %s, not a regular file, so it was refused unread." % (self.describe(key), kind))
            body = read_bounded(f, limit, time.monotonic() + self.timeout, lambda: self.too_large(key, limit or 0),
                                lambda: self.too_slow(key))
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
    def __init__(self, url: str, bucket: str, prefix: str, client_factory: ClientFactory | None,
                 timeout: float = CHANNEL_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._factory = client_factory
        self._client: Any = None
        self._versions: dict[str | None, str | None] = {}
        self._region: str | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._factory is None:
                raise ConvoxError("channel %s needs AWS credentials to be read." % self.url)
            self._client = self._factory("s3")
        return self._client

    def _key(self, key: str) -> str:
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def template_url(self, key: str, token: str | None) -> ObjectUrl:
        """The object's virtual-hosted URL, pinned to the version read (on a versioned bucket), so CloudFormation
        reads exactly the bytes that were checked; its region is looked up only when a template needs it."""
        return ObjectUrl(self, self._key(key), self._versions.get(token))

    def bucket_region(self) -> str:
        """The region of the channel's bucket (GetBucketLocation, once): a TemplateURL names it, and CloudFormation
        reads a template only from a bucket in the stack's own region."""
        if self._region is None:
            try:
                location = self.client.get_bucket_location(Bucket=self.bucket).get("LocationConstraint")
            except Exception as exc:
                code = aws_error_code(exc) or type(exc).__name__
                raise ConvoxError("cannot find the region of bucket %s of channel %s (%s: %s); a template over "
                                  "CloudFormation's request limit is read from it by URL, which names the bucket's "
                                  "region (s3:GetBucketLocation)."
                                  % (self.bucket, self.url, code, aws_error_message(exc).rstrip("."))) from exc
            # us-east-1 answers no constraint; "EU" is the legacy name of eu-west-1
            self._region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
        return str(self._region)

    def _fail(self, action: str, key: str, exc: Exception) -> NoReturn:
        code = aws_error_code(exc) or type(exc).__name__
        message = aws_error_message(exc)
        where = "s3://%s/%s" % (self.bucket, self._key(key))
        raise ConvoxError("cannot %s %s (%s: %s)." % (action, where, code, message.rstrip(".")))

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        try:
            deadline = time.monotonic() + self.timeout
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            if limit is not None and int(resp.get("ContentLength") or 0) > limit:
                resp["Body"].close()
                raise self.too_large(key, limit)
            body = read_bounded(resp["Body"], limit, deadline, lambda: self.too_large(key, limit or 0),
                                lambda: self.too_slow(key))
            self._versions[resp.get("ETag")] = resp.get("VersionId")
            return body, resp.get("ETag")
        except ConvoxError:
            raise
        except Exception as exc:  # botocore is optional at import time
            if aws_error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None, None
            if aws_error_code(exc) == "NoSuchBucket":
                raise ConvoxError("channel %s is unreachable: bucket %s does not exist." % (self.url, self.bucket)) from exc
            if aws_error_code(exc) in ("AccessDenied", "403"):
                raise ConvoxError("cannot read s3://%s/%s (AccessDenied: %s); S3 answers 403, not 404, for an object "
                                  "that does not exist to a caller without s3:ListBucket on bucket %s, so grant it "
                                  "s3:GetObject on the channel's objects and s3:ListBucket on the bucket "
                                  "(docs/publisher-policy.json)."
                                  % (self.bucket, self._key(key), aws_error_message(exc).rstrip("."), self.bucket)) from exc
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


class _HttpsOnly(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another https:// URL: an https:// channel that redirects to http:// would hand
    the templates to anyone on the network path."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urlparse(newurl).scheme.lower() != "https":
            raise ConvoxError("channel %s redirected %s to %s, which is not https:// (anyone on the network path could "
                              "rewrite it), so it was refused." % (self.channel, req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpsChannel(Channel):
    writable = False

    def __init__(self, url: str, validate_certs: bool = True, timeout: float = CHANNEL_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.validate_certs = validate_certs

    def _opener(self) -> Any:
        context = ssl.create_default_context()
        if not self.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _HttpsOnly(self.url))

    def get(self, key: str, limit: int | None = None) -> tuple[bytes | None, str | None]:
        url = self.describe(key)
        deadline = time.monotonic() + self.timeout
        try:
            # a socket read waits at most this long; the deadline bounds the whole object
            with self._opener().open(url, timeout=min(self.timeout, 10.0)) as resp:
                body = read_bounded(resp, limit, deadline, lambda: self.too_large(key, limit or 0),
                                    lambda: self.too_slow(key))
        except ConvoxError:
            raise
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404):
                return None, None
            raise ConvoxError("channel %s is unreachable (HTTP %d %s)." % (self.url, exc.code, exc.reason)) from exc
        except (socket.timeout, TimeoutError):
            raise self.too_slow(key) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ConvoxError("channel %s is unreachable (%s)." % (self.url, getattr(exc, "reason", None) or exc)) from exc
        return body, None

    def template_url(self, key: str, token: str | None) -> HttpsS3Url | None:
        """Where CloudFormation reads the object itself: its own URL, when S3 serves the channel."""
        return https_s3_url(self.describe(key))

    def put(self, key: str, body: bytes) -> None:
        raise self.read_only()

    def put_if(self, key: str, body: bytes, token: str | None) -> bool:
        raise self.read_only()

    def delete(self, key: str) -> None:
        raise self.read_only()


class TemplateStager:
    """A template too large for the request that its channel cannot serve by URL, put into ``template_bucket``
    (``convox-rack/templates/<sha256>.json``: written once, whatever the release or rack) for CloudFormation to read.
    The bucket must be where CloudFormation may read it: in the stack's own region outside the aws partition."""

    PREFIX = "convox-rack/templates/"

    def __init__(self, bucket: str, client_factory: ClientFactory) -> None:
        self.bucket = bucket
        self.factory = client_factory
        self._region: str | None = None

    def region(self) -> str:
        if self._region is None:
            try:
                location = self.factory("s3").get_bucket_location(Bucket=self.bucket).get("LocationConstraint")
            except Exception as exc:
                raise ConvoxError("template_bucket %s cannot be read (%s: %s); it stages templates too large for the "
                                  "request (s3:GetBucketLocation)." % (self.bucket, aws_error_code(exc) or
                                                                       type(exc).__name__,
                                                                       aws_error_message(exc).rstrip("."))) from exc
            self._region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
        return str(self._region)

    def __call__(self, body: bytes, stack_region: str | None) -> str:
        region = self.region()
        partition = partition_of(stack_region)
        if partition != partition_of(region) or (partition != "aws" and region != stack_region):
            raise ConvoxError("template_bucket %s is in %s: CloudFormation in %s reads a template only from a bucket "
                              "in its own region; name a bucket of %s." % (self.bucket, region, stack_region,
                                                                           stack_region))
        key = "%s%s.json" % (self.PREFIX, hashlib.sha256(body).hexdigest())
        s3 = self.factory("s3")
        try:
            try:
                s3.head_object(Bucket=self.bucket, Key=key)
            except Exception as exc:
                if aws_error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
                s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        except ConvoxError:
            raise
        except Exception as exc:
            raise ConvoxError("the template could not be staged in template_bucket %s (%s: %s)."
                              % (self.bucket, aws_error_code(exc) or type(exc).__name__,
                                 aws_error_message(exc).rstrip("."))) from exc
        return "https://%s.s3.%s.%s/%s" % (self.bucket, region, partition_dns_suffix(region), key)


def open_channel(url: Any, client_factory: ClientFactory | None = None, validate_certs: bool = True) -> Channel:
    """Return the Channel for ``url`` or raise ConvoxError for a malformed one.  Its reads are bounded by the
    client factory's ``channel_timeout`` (the task's timeout), else CHANNEL_TIMEOUT."""
    timeout = float(getattr(client_factory, "channel_timeout", None) or CHANNEL_TIMEOUT)
    if not isinstance(url, str) or not url.strip():
        raise ConvoxError("channel must be a non-empty URL (s3://bucket[/prefix], https://host/path or file:///path).")
    url = url.strip()
    if "://" not in url:
        root = os.path.abspath(os.path.expanduser(url))
        return FileChannel("file://" + root, root, timeout)
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ConvoxError('channel "%s" must be file:///absolute/path.' % url)
        if not parsed.path.startswith("/"):
            raise ConvoxError('channel "%s" must be file:///absolute/path.' % url)
        return FileChannel(url.rstrip("/"), parsed.path.rstrip("/") or "/", timeout)
    if scheme == "s3":
        if not parsed.netloc:
            raise ConvoxError('channel "%s" has no bucket name.' % url)
        return S3Channel(url.rstrip("/"), parsed.netloc, parsed.path, client_factory, timeout)
    if scheme == "http":
        raise ConvoxError('channel "%s" uses plain http://, which anyone on the network path can rewrite; use '
                          'https://, s3:// or file://.' % url)
    if scheme == "https":
        if not parsed.netloc:
            raise ConvoxError('channel "%s" has no host.' % url)
        return HttpsChannel(url.rstrip("/"), validate_certs=validate_certs, timeout=timeout)
    raise ConvoxError('channel "%s" has an unsupported scheme "%s" (use s3://, https:// or file://).' % (url, scheme))
