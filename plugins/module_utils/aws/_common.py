# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS access over amazon.aws: the retrying client factory every manager takes, and the wording of AWS SDK
errors (one sentence naming what was being done, with the RequestId kept in the failure details)."""

from __future__ import annotations

import functools
import os
import re
from typing import Any, Callable, Iterator, Mapping, TypeVar, cast

try:
    import botocore.config
    import botocore.exceptions
    HAS_BOTOCORE = True
except ImportError:
    HAS_BOTOCORE = False

from ansible.module_utils import ansible_release
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

# botocore's own "standard" retry mode handles throttling, 5xx and dropped connections with
# exponential backoff; AWSRetry on top catches what outlasts it (long throttling storms).
BOTOCORE_RETRIES = {"mode": "standard", "max_attempts": 6}
AWS_RETRY = AWSRetry.jittered_backoff(retries=6, delay=1, backoff=2.0, max_delay=20)
F = TypeVar("F", bound=Callable[..., Any])


def botocore_config() -> Any:
    """The collection's retries, and in the user agent AWS logs (CloudTrail's userAgent) the Ansible version and the
    collection, as amazon.aws's clients say "APN/1.0 Ansible/<version>"."""
    return botocore.config.Config(retries=dict(BOTOCORE_RETRIES),
                                  user_agent_extra="APN/1.0 Ansible/%s convox.rack" % ansible_release.__version__)


class RetryingClient(RetryingBotoClientWrapper):
    """amazon.aws's ``RetryingBotoClientWrapper`` with every API call retried (``aws_retry`` defaults to
    true: a collection call is never one that must not be retried), and ``paginate``."""

    _never_retried = ("get_paginator", "can_paginate", "get_waiter", "generate_presigned_url")

    def __init__(self, client: Any, retry: Any = AWS_RETRY, renew: Callable[[], None] | None = None) -> None:
        super().__init__(client, retry)
        self.renew = renew      # renews the credentials (a role's), for a call AWS refused as expired anyway

    def __getattr__(self, name: str) -> Any:
        attr = super().__getattr__(name)
        if name in self._never_retried or name.startswith("_") or not callable(attr):
            return attr
        retried = self.renewing(functools.partial(attr, aws_retry=True))
        setattr(self, name, retried)
        return retried

    def renewing(self, call: Callable[..., Any]) -> Callable[..., Any]:
        """``call``, retried once with renewed credentials when AWS answers that its token expired (the
        credentials renew themselves before they expire; this covers a clock or a wait that outran them)."""
        if self.renew is None:
            return call

        @functools.wraps(call)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            except Exception as exc:
                if aws_error_code(exc) not in EXPIRED_CODES or self.renew is None:
                    raise
                self.renew()
                return call(*args, **kwargs)
        return run

    def pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Each page of a call paginated by ``NextToken``, each request retried; the caller stops when it has read
        far enough."""
        call = getattr(self, operation)
        while True:
            page = call(**kwargs)
            yield page
            if not page.get("NextToken"):
                return
            kwargs["NextToken"] = page["NextToken"]

    def paginate(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """The full result of a paginated call, with retries."""
        def _run() -> dict[str, Any]:
            return cast("dict[str, Any]", self.client.get_paginator(operation).paginate(**kwargs).build_full_result())
        return cast("dict[str, Any]", self.renewing(self.retry(_run))())


_KNOWN_REGIONS: list[str] = []
# What an AWS region's name looks like in every partition (us-east-1, cn-north-1, us-gov-west-1, eu-isoe-west-1): a
# region newer than the installed botocore is still reachable, its endpoint built from its partition's pattern.
REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def known_regions(session: Any = None) -> list[str]:
    """Every region botocore knows for CloudFormation, in every partition (computed once per process,
    with ``session`` when given)."""
    if not _KNOWN_REGIONS:
        session = session or shared_session(None)
        for partition in session.get_available_partitions():
            _KNOWN_REGIONS.extend(session.get_available_regions("cloudformation", partition_name=partition))
    return _KNOWN_REGIONS


def is_region(region: str) -> bool:
    """A region whose name is well formed (one newer than the installed botocore too), or one botocore knows; the
    name is checked first, so a module run reads botocore's endpoint data only for a name of another shape."""
    return bool(REGION_NAME.match(region)) or region in known_regions()


_PARTITIONS: list[dict[str, Any]] = []


def partition_info(region: str) -> dict[str, Any] | None:
    """What botocore's endpoint data says of ``region``'s partition (``partition``, ``dnsSuffix``): the partition
    listing the region, else the one whose region pattern it matches; None when botocore has no endpoint data.  The
    data (a megabyte of JSON) is read once per process, through the loader the sessions share (their endpoint
    resolvers read the same file)."""
    if not _PARTITIONS:
        try:
            data = shared_loader().load_data("endpoints")["partitions"]
        except Exception:  # pragma: no cover - botocore always ships its endpoint data
            return None
        _PARTITIONS.extend({"partition": p["partition"], "dnsSuffix": p["dnsSuffix"], "regions": set(p.get("regions", {})),
                            "regionRegex": p.get("regionRegex", "$^")} for p in data)
    for partition in _PARTITIONS:
        if region in partition["regions"]:
            return partition
    for partition in _PARTITIONS:
        if re.match(partition["regionRegex"], region):
            return partition
    return None


def partition_dns_suffix(region: str) -> str:
    """The domain of ``region``'s partition (amazonaws.com, amazonaws.com.cn, ...), from botocore's endpoint data."""
    partition = partition_info(region)
    return str(partition["dnsSuffix"]) if partition else "amazonaws.com"


def partition_of(region: str | None) -> str:
    """The partition of ``region`` (aws, aws-cn, aws-us-gov, ...), from botocore's endpoint data; aws when unknown."""
    partition = partition_info(region) if region else None
    return str(partition["partition"]) if partition else "aws"


class ClientFactory:
    """Callable ``factory(service) -> RetryingClient``; caches one client per service.  A region whose name is not
    an AWS region's fails before any request (one sentence, rather than retries against a missing endpoint)."""

    def __init__(self, make_client: Callable[[str], Any], region: str | None, channel_timeout: float | None = None,
                 renew: Callable[[], None] | None = None) -> None:
        self._make_client = make_client
        self.region = region
        self.channel_timeout = channel_timeout     # seconds a release channel object may take (None: the default)
        self.renew = renew                         # renews an assumed role's credentials (None: not a role's)
        self._cache: dict[str, RetryingClient] = {}

    def __call__(self, service: str) -> RetryingClient:
        if service not in self._cache:
            if self.region and HAS_BOTOCORE and not is_region(self.region):
                raise ConvoxError('region "%s" is not an AWS region (for CloudFormation).' % self.region)
            self._cache[service] = RetryingClient(self._make_client(service), renew=self.renew)
        return self._cache[service]


def client_kwargs(connect: Mapping[str, Any]) -> dict[str, Any]:
    """What a client of an assumed role takes of amazon.aws's connection parameters: TLS verification and the
    ``aws_config`` merged into the collection's retry configuration (not the task's own keys or profile)."""
    config = botocore_config()
    extra = connect.get("aws_config")
    if extra is not None:
        config = config.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
    return {"config": config, "verify": connect.get("verify")}


# One boto3 session per profile (and AWS config files) for the life of the process, all on one botocore data loader:
# every client of a module run, and every rack of a fleet batch (rack_batch, one controller worker), shares the parsed
# service models and endpoint data (amazon.aws's boto3_conn makes a session for each client: 0.1 s of JSON each).
_SESSIONS: dict[tuple[str, str, str], Any] = {}
_LOADER: list[Any] = []


def shared_loader() -> Any:
    """The process's botocore data loader."""
    import botocore.loaders
    if not _LOADER:
        _LOADER.append(botocore.loaders.create_loader())
    return _LOADER[0]


def shared_session(profile: str | None) -> Any:
    """The boto3 session for ``profile``; the AWS config file variables are part of the key, since a session reads
    its config files once."""
    import boto3
    import botocore.session
    key = (profile or "", os.environ.get("AWS_CONFIG_FILE", ""), os.environ.get("AWS_SHARED_CREDENTIALS_FILE", ""))
    if key not in _SESSIONS:
        core = botocore.session.Session(profile=profile or None)
        core.register_component("data_loader", shared_loader())
        _SESSIONS[key] = boto3.session.Session(botocore_session=core)
    return _SESSIONS[key]


def connection_factory(region: str | None, endpoint: str | None, connect: Mapping[str, Any]) -> ClientFactory:
    """A ClientFactory over a connection amazon.aws resolved (``get_aws_connection_info``, a module's or the fleet
    engine's: region, endpoint, and the keys or profile, TLS verification and ``aws_config``): its clients come from
    the profile's shared session, with the collection's retries merged with ``aws_config``."""
    connect = dict(connect)
    profile = connect.pop("profile_name", None)
    config = client_kwargs(connect)["config"]
    connect.pop("aws_config", None)

    def make(service: str) -> Any:
        return shared_session(profile).client(service, region_name=region, endpoint_url=endpoint, config=config,
                                              **connect)
    return ClientFactory(make, region)


def aws_error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def aws_error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


def aws_error_details(exc: BaseException) -> dict[str, Any]:
    """What amazon.aws's ``fail_json_aws`` adds to a failure: ``error`` (code, message) and
    ``response_metadata`` (the RequestId AWS support asks for), snake_cased; empty without a response."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return {}
    return {k: v for k, v in camel_dict_to_snake_dict(response).items() if k in ("error", "response_metadata")}


def is_aws_error(exc: BaseException) -> bool:
    return HAS_BOTOCORE and isinstance(exc, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError))


# AWS's answers to a request signed with credentials that expired (query services, JSON services, EC2)
EXPIRED_CODES = ("ExpiredToken", "ExpiredTokenException", "RequestExpired")
# AWS's answers that mean "not now" rather than "no" (after botocore's and AWSRetry's own retries)
TRANSIENT_CODES = ("InternalFailure", "InternalError", "ServiceUnavailable", "Unavailable", "RequestTimeout",
                   "Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown")


def is_transient(exc: BaseException) -> bool:
    """A request that got no answer (the endpoint unreachable, the connection broken or timed out) or AWS's "try
    again later", once the SDK's own retries are spent: something to wait out, not a verdict."""
    if not HAS_BOTOCORE:
        return False
    if isinstance(exc, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)):
        return True
    status = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return aws_error_code(exc) in TRANSIENT_CODES or (isinstance(status, int) and status >= 500)


def describe_aws_error(exc: BaseException, doing: str) -> str:
    """One sentence for an AWS SDK exception raised while ``doing`` something."""
    if HAS_BOTOCORE and isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "%s failed: no AWS credentials were found (set access_key/secret_key, profile or AWS_* variables)." % doing
    if HAS_BOTOCORE and isinstance(exc, botocore.exceptions.NoRegionError):
        return "%s failed: no AWS region is set (set region or AWS_REGION)." % doing
    if HAS_BOTOCORE and isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return "%s failed: could not connect to the AWS endpoint %s." % (doing, getattr(exc, "kwargs", {}).get("endpoint_url", ""))
    if HAS_BOTOCORE and isinstance(exc, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)):
        return "%s failed: the AWS endpoint did not answer (%s)." % (doing, str(exc).rstrip("."))
    code = aws_error_code(exc)
    message = aws_error_message(exc).rstrip(".")
    if code in EXPIRED_CODES:
        return ("%s failed: the AWS credentials expired (%s: %s); renew them - an assumed role (assume_role_arn) "
                "renews its own." % (doing, code, message))
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return "%s failed: access denied (%s)." % (doing, message)
    if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure"):
        return "%s failed: the AWS credentials were rejected (%s)." % (doing, message)
    if code:
        return "%s failed: %s: %s." % (doing, code, message)
    return "%s failed: %s." % (doing, message)


def wrap_aws(doing: str) -> Callable[[F], F]:
    """Decorator: turn AWS SDK exceptions into ConvoxError naming what was being done."""
    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except ConvoxError:
                raise
            except Exception as exc:
                if is_aws_error(exc):
                    raise ConvoxError(describe_aws_error(exc, doing), **aws_error_details(exc)) from exc
                raise
        return cast(F, wrapper)
    return decorator
