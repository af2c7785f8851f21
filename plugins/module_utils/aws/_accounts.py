# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts: the options that say which AWS account a task acts in (``assume_role_arn`` with its external id and
session name, ``account_id``), the role's credentials - renewing themselves before they expire, through botocore's
refreshing credentials, so that a run may last many hours - and the check of the caller's account.

Knows nothing of Ansible: the modules (``_module.module_client_factory``) and the fleet engine
(``plugin_utils/_sessions.controller_client_factory``) build their clients here when a role is given."""

from __future__ import annotations

import datetime
import re
import threading
from typing import Any, Callable, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, describe_aws_error, is_aws_error, shared_loader
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError

try:
    from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing SDK first
    CredentialProvider = CredentialResolver = DeferredRefreshableCredentials = object  # type: ignore[assignment,misc]

# matched whole (fullmatch: no trailing newline slips through) and in ASCII only (no other script's digits)
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::([0-9]{12}):role/"
                      r"((?:[A-Za-z0-9+=,.@_-]+/)*)[A-Za-z0-9+=,.@_-]{1,64}", re.ASCII)
SESSION_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{2,64}", re.ASCII)


def valid_role_arn(arn: Any) -> re.Match[str] | None:
    """The match of an IAM role ARN, whole (a path of ``/``-separated names, none of them ``.`` or ``..``), or
    None."""
    match = ROLE_ARN.fullmatch(str(arn)) if isinstance(arn, str) and len(arn) <= 2048 else None
    if match is None or any(part in (".", "..") for part in match.group(2).split("/")):
        return None
    return match


def role_account(arn: str | None) -> str | None:
    """The account of an IAM role ARN (arn:<partition>:iam::<account>:role/<name>), or None when it is not one."""
    match = valid_role_arn(arn)
    return match.group(1) if match else None


DEFAULT_SESSION_NAME = "convox-rack"
ACCOUNT_OPTIONS = ("assume_role_arn", "assume_role_external_id", "assume_role_session_name", "account_id")
# botocore renews a role's credentials 15 minutes before they expire (10: blocking); for shorter lives the same
# fractions of the life (a quarter, a sixth), so a credential of any life is renewed before it is refused
ADVISORY_FRACTION, MANDATORY_FRACTION = 0.25, 1 / 6.0


def check_account_params(params: Mapping[str, Any]) -> None:
    """Refuse, in one sentence and before any call, account options that cannot be right."""
    account = params.get("account_id")
    role = params.get("assume_role_arn")
    if account is not None and not ACCOUNT_ID.fullmatch(str(account)):
        raise ConvoxError('account_id "%s" is not an AWS account id (12 digits).' % account)
    if not role:
        extra = [k for k in ("assume_role_external_id", "assume_role_session_name") if params.get(k)]
        if extra:
            raise ConvoxError("%s needs assume_role_arn (the role to assume)." % " and ".join(extra))
        return
    match = valid_role_arn(role)
    if not match:
        raise ConvoxError('assume_role_arn "%s" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).' % role)
    name = params.get("assume_role_session_name")
    if name and not SESSION_NAME.fullmatch(str(name)):
        raise ConvoxError('assume_role_session_name "%s" is not a valid session name (2 to 64 of letters, digits and '
                          '+=,.@_-).' % name)
    if account and match.group(1) != str(account):
        raise ConvoxError("assume_role_arn %s is a role of account %s, not of account_id %s; nothing was read or "
                          "changed." % (role, match.group(1), account))


class RenewingCredentials(DeferredRefreshableCredentials):  # type: ignore[misc,valid-type]
    """A role's credentials, fetched on first use and renewed by botocore before they expire (a quarter of their
    life before, at most botocore's 15 minutes), so that every request of a long run is signed with live ones;
    ``renew()`` forces a renewal (after AWS refused a token as expired anyway)."""

    def __init__(self, fetch: Callable[[], dict[str, Any]]) -> None:
        super().__init__(refresh_using=fetch, method="assume-role")
        self.renewals = 0

    def _set_from_data(self, data: dict[str, Any]) -> None:
        expiry = datetime.datetime.fromisoformat(str(data["expiry_time"]).replace("Z", "+00:00"))
        life = (expiry - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        cls = DeferredRefreshableCredentials
        self._advisory_refresh_timeout = min(cls._advisory_refresh_timeout, max(life * ADVISORY_FRACTION, 1.0))
        self._mandatory_refresh_timeout = min(cls._mandatory_refresh_timeout, max(life * MANDATORY_FRACTION, 0.5))
        self.renewals += 1
        super()._set_from_data(data)

    def renew(self) -> None:
        with self._refresh_lock:
            self._protected_refresh(is_mandatory=True)


class _Given(CredentialProvider):  # type: ignore[misc,valid-type]
    METHOD = "assume-role"
    CANONICAL_NAME = "convox-rack-assume-role"

    def __init__(self, credentials: RenewingCredentials) -> None:
        super().__init__()
        self.credentials = credentials

    def load(self) -> RenewingCredentials:
        return self.credentials


def role_credentials(sts: Any, role_arn: str, external_id: str | None = None,
                     session_name: str | None = None) -> RenewingCredentials:
    """The credentials of ``role_arn``, assumed with the client ``sts`` (the task's own credentials)."""
    def fetch() -> dict[str, Any]:
        kwargs = {"RoleArn": role_arn, "RoleSessionName": session_name or DEFAULT_SESSION_NAME}
        if external_id:
            kwargs["ExternalId"] = external_id
        try:
            creds = sts.assume_role(**kwargs)["Credentials"]
        except Exception as exc:
            if is_aws_error(exc):
                raise ConvoxError(describe_aws_error(exc, "assuming role %s" % role_arn)) from exc
            raise
        expiry = creds["Expiration"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.isoformat() if hasattr(expiry, "isoformat") else str(expiry)}
    return RenewingCredentials(fetch)


# one renewing credential per role and region (and source, endpoint) for the life of the process: every task and every
# rack of a batch in that account and region signs with it, instead of one AssumeRole each.  Per region, because the
# credentials come from the STS endpoint of the region they are used in (the source's STS client is of that region:
# botocore resolves an opt-in region's own endpoint): a token of the global endpoint is refused in an opt-in region
# unless the account made such tokens global.
_ROLES: dict[tuple[str, ...], tuple[Any, RenewingCredentials]] = {}
_ROLES_LOCK = threading.Lock()


def role_session(source: ClientFactory, params: Mapping[str, Any], source_key: str = "") -> tuple[Any, RenewingCredentials]:
    """(boto3 session signing with the role's renewing credentials, those credentials) for the role of ``params``,
    assumed through ``source`` (a factory over the task's own credentials)."""
    import boto3
    import botocore.session
    role = str(params["assume_role_arn"])
    key = (role, str(params.get("assume_role_external_id") or ""), str(params.get("assume_role_session_name") or ""),
           source_key, str(source.region or ""))
    with _ROLES_LOCK:
        if key not in _ROLES:
            credentials = role_credentials(source("sts").client, role, params.get("assume_role_external_id"),
                                           params.get("assume_role_session_name"))
            core = botocore.session.Session()
            core.register_component("data_loader", shared_loader())
            core.register_component("credential_provider", CredentialResolver(providers=[_Given(credentials)]))
            _ROLES[key] = (boto3.session.Session(botocore_session=core), credentials)
        return _ROLES[key]


def role_factory(source: ClientFactory, params: Mapping[str, Any], endpoint: str | None, client_kwargs: Mapping[str, Any],
                 source_key: str = "") -> ClientFactory:
    """A ClientFactory acting as the role of ``params`` in ``source``'s region (``client_kwargs``: what else each
    client takes - config, verify)."""
    session, credentials = role_session(source, params, source_key)

    def make(service: str) -> Any:
        return session.client(service, region_name=source.region, endpoint_url=endpoint, **client_kwargs)
    return ClientFactory(make, source.region, renew=credentials.renew)


def verify_account(factory: ClientFactory, params: Mapping[str, Any]) -> None:
    """With ``account_id``: refuse, naming both, when the credentials (after the role) are of another account."""
    expected = params.get("account_id")
    if not expected:
        return
    try:
        identity = factory("sts").get_caller_identity()
    except Exception as exc:
        if is_aws_error(exc):
            raise ConvoxError(describe_aws_error(exc, "checking the account (sts:GetCallerIdentity)")) from exc
        raise
    if str(identity.get("Account")) != str(expected):
        raise ConvoxError("the credentials are of account %s (%s), not of account_id %s; nothing was read or changed."
                          % (identity.get("Account"), identity.get("Arn"), expected))
