# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts and the life of their credentials, as AWS has them.

moto already keeps one set of backends per account and answers a request in the account of its access key; the
key an AssumeRole returns belongs to the role's account.  What moto lets through and AWS refuses:

* AssumeRole needs the role to exist in its account and to trust the caller: its trust policy allows
  ``sts:AssumeRole`` to the caller's account (``<account>``, ``arn:aws:iam::<account>:root``) or to the caller's
  ARN, and when a statement has ``Condition: {StringEquals: {sts:ExternalId: X}}`` the request must carry that
  ``ExternalId``.  Otherwise AWS answers 403 AccessDenied "User: <caller> is not authorized to perform:
  sts:AssumeRole on resource: <role>".
* Temporary credentials expire: a request signed with them after their ``Expiration`` is refused - 400
  ``ExpiredToken`` "The security token included in the request is expired" (query services), S3's
  ``ExpiredToken`` "The provided token has expired.", ``ExpiredTokenException`` (JSON services), EC2's
  ``RequestExpired``.  ``configure({"credential_seconds": N})`` makes every AssumeRole from now on issue
  credentials that live N seconds (AWS's floor is 900; a test of hours-long runs needs minutes), and
  ``{"roles": [{"account", "name", "trusts", "external_id"}]}`` creates roles trusting another account.

The checks run in the server's WSGI layer (``gate``), before moto sees the request, so that status codes and
error protocols are AWS's."""

from __future__ import annotations

import datetime
import json
import re
import threading
import urllib.parse
from typing import Any

from .common import DEFAULT_ACCOUNT
from .patching import Patches

PATCHES = Patches("sts", doc="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html")
_EXPIRY: dict[str, Any] = {}            # access key id -> its expiration (aware datetime) for every credential AssumeRole issued
_LIFETIME = [0]         # seconds assumed-role credentials live (0: what the caller asked, as moto does)
_LOCK = threading.Lock()
ACCESS_KEY = re.compile(r"Credential=([A-Z0-9]+)/")


@PATCHES.wrap("moto.sts.models:STSBackend.assume_role",
              "assumed-role credentials carry their expiration (and, in the test mode, live credential_seconds), "
              "so that a request signed with them later is refused")
def _assume_role(original):
    def assume_role(self, **kwargs):
        if _LIFETIME[0]:
            kwargs["duration"] = _LIFETIME[0]
        role = original(self, **kwargs)
        with _LOCK:
            _EXPIRY[role.access_key_id] = role.expiration
        return role
    return assume_role


def configure(spec):
    """``{"credential_seconds": N}`` (0 restores moto's: what the caller asked) and ``{"roles": [...]}``, each
    ``{"account", "name", "trusts": account or ARN, "external_id"}``: a role in ``account`` that ``trusts`` may
    assume (with that external id)."""
    if "credential_seconds" in spec:
        _LIFETIME[0] = int(spec.get("credential_seconds") or 0)
    from moto.iam.models import iam_backends
    made = []
    for role in spec.get("roles") or ():
        trusted = str(role["trusts"])
        statement = {"Effect": "Allow", "Action": "sts:AssumeRole",
                     "Principal": {"AWS": trusted if trusted.startswith("arn:") else "arn:aws:iam::%s:root" % trusted}}
        if role.get("external_id"):
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": role["external_id"]}}
        backend = iam_backends[role["account"]]["aws"]
        try:
            backend.delete_role(role["name"])
        except Exception:  # pylint: disable=broad-except  # not there yet
            pass
        made.append(backend.create_role(
            role_name=role["name"], assume_role_policy_document=json.dumps({"Version": "2012-10-17",
                                                                           "Statement": [statement]}),
            path="/", permissions_boundary=None, description="localaws: trusts %s" % trusted, tags=[],
            max_session_duration="43200").arn)
    return 200, {"roles": made, "credential_seconds": _LIFETIME[0]}


def reset():
    with _LOCK:
        _EXPIRY.clear()
    _LIFETIME[0] = 0


def apply():
    PATCHES.apply()


# -- the gate ---------------------------------------------------------------------------------------------------
def _caller(key):
    """(account, ARN) of the caller whose access key is ``key``."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends
    account = get_account_id_from(key) if key else DEFAULT_ACCOUNT
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(key) if key else None
    return account, (assumed.arn if assumed is not None else "arn:aws:iam::%s:user/moto" % account)


def _principals(statement):
    principal = statement.get("Principal") or {}
    if principal == "*":
        return ["*"]
    values = principal.get("AWS", []) if isinstance(principal, dict) else []
    return [values] if isinstance(values, str) else list(values)


def _trusts(policy, account, arn, external_id):
    for statement in policy.get("Statement") or ():
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & set(actions):
            continue
        if not {"*", account, "arn:aws:iam::%s:root" % account, arn} & set(_principals(statement)):
            continue
        wanted = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("sts:ExternalId")
        if wanted is not None and wanted != external_id:
            continue
        return True
    return False


def _refuse_assume_role(params, key):
    """AWS's 403 when the role is missing or does not trust the caller (None when it may be assumed)."""
    from moto.iam.models import iam_backends
    role_arn = params.get("RoleArn", "")
    account, arn = _caller(key)
    parts = role_arn.split(":")
    role = None
    if len(parts) >= 6 and parts[2] == "iam":
        try:
            role = iam_backends[parts[4]]["aws"].get_role_by_arn(role_arn)
        except Exception:  # pylint: disable=broad-except  # no such role
            role = None
    if role is not None and _trusts(json.loads(role.assume_role_policy_document), account, arn,
                                    params.get("ExternalId")):
        return None
    return 403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s" % (arn, role_arn)


def _expired(key):
    with _LOCK:
        expiry = _EXPIRY.get(key)
    return expiry is not None and datetime.datetime.now(datetime.timezone.utc) >= _aware(expiry)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def gate(environ, service, body) -> tuple[int, str, str] | None:
    """None, or (status, code, message) of AWS's refusal of this request: signed with expired credentials, or an
    AssumeRole of a role that does not trust the caller.  ``body``: the request's body (query services)."""
    match = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION") or "")
    key = match.group(1) if match else None
    if key and _expired(key):
        if environ.get("HTTP_X_AMZ_TARGET"):
            return 400, "ExpiredTokenException", "The security token included in the request is expired"
        if service == "s3":
            return 400, "ExpiredToken", "The provided token has expired."
        if service == "ec2":
            return 400, "RequestExpired", "Request has expired."
        return 400, "ExpiredToken", "The security token included in the request is expired"
    if service == "sts":
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
        if params.get("Action") == "AssumeRole":
            return _refuse_assume_role(params, key)
    return None
