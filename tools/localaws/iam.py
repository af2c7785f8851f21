# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM model, on when moto's IAM enforcement is (``INITIAL_NO_AUTH_ACTION_COUNT`` / ``/moto-api/reset-auth``).

CloudFormation acts with the caller's permissions, as AWS does without a service role, or with the service role's
(``RoleARN`` of the request, else the stack's: a role whose trust lets cloudformation.amazonaws.com assume it, and
which the caller may ``iam:PassRole`` with ``iam:PassedToService`` cloudformation.amazonaws.com - else the request is
refused before anything happens).  The template by URL, SSM-typed and image parameters and Fn::GetAZs are read with
the caller's permissions in both cases (what CloudFormation reads to validate the request).  Before a stack is
created, updated or deleted the caller must hold the handler permissions of ``tools/cfn_handler_permissions.json``
for every resource that operation creates, modifies or deletes - and, when the stack carries tags (every rack and
app does), the tagging permissions AWS publishes for each resource type in its resource schema (``tagging.
permissions``, read from cfn-lint's copy of the schemas) - and ``ssm:GetParameters`` for SSM-typed parameters.
Otherwise the resource fails with AWS's "is not authorized to perform" reason and the stack rolls back (create: to
ROLLBACK_COMPLETE, update: to UPDATE_ROLLBACK_COMPLETE; a delete ends in DELETE_FAILED); a missing
``ssm:GetParameters`` fails the CreateStack / UpdateStack call itself.  Conditions are not evaluated: every resource
of the template counts; a change to a resource's Metadata counts as a modification (one test release exercises
every type).

Every request is authorized under the IAM action AWS names for its operation (``actions.py``: moto names some
S3 operations otherwise, and differently from one release to the next).  S3: access-denied messages name the action,
as AWS's do (moto's say only "Access Denied"); GetObject of a missing key answers 403 AccessDenied, not 404
NoSuchKey, to a caller without ``s3:ListBucket`` on the bucket (so nobody can probe for keys)."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from .common import CALLER, cfnlint_schemas, covers, find_stack, listed, template_dict, wildcard
from .patching import Patches

PATCHES = Patches("iam", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html")
BACKEND = "moto.cloudformation.models:CloudFormationBackend"
HANDLER_PERMISSIONS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                        "cfn_handler_permissions.json")
_MODEL: list[Any] = []


def handler_permissions():
    """The handler-permission model (read once)."""
    if not _MODEL:
        with open(HANDLER_PERMISSIONS_FILE) as f:
            _MODEL.append(json.load(f))
    return _MODEL[0]


@functools.lru_cache(maxsize=None)
def tagging_permissions(resource_type):
    """The tagging permissions AWS publishes for ``resource_type`` (its schema's ``tagging.permissions``; none for a
    type that is not taggable), from cfn-lint's copy of the CloudFormation resource schemas."""
    schemas = cfnlint_schemas()
    try:
        with open(os.path.join(schemas, "providers", "us-east-1.json")) as f:
            index = json.load(f)
    except OSError:
        raise RuntimeError("localaws: the installed cfn-lint has no schemas/providers/us-east-1.json (with the tagging "
                           "permissions of each type, cfn-lint 1.58 on): install tests/unit/requirements.txt") from None
    if resource_type not in index:
        return ()
    with open(os.path.join(schemas, "resources", "%s.json" % index[resource_type])) as f:
        tagging = json.load(f).get("tagging") or {}
    return tuple(tagging.get("permissions") or ()) if tagging.get("taggable") else ()


def enforcing():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def _checked_caller():
    """Whether this CloudFormation request's caller is to be checked (IAM enforced, signed request)."""
    return bool(getattr(CALLER, "authorization", None)) and enforcing()


def not_authorized(arn, action, resource=None):
    """AWS's access-denied sentence."""
    return "User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action" % (
        arn, action, " on resource: \"%s\"" % resource if resource else "", action)


CONDITION_OPERATORS = {
    "StringEquals": lambda want, got: got == want, "StringLike": wildcard,
    "ArnEquals": lambda want, got: got == want, "ArnLike": wildcard}
NEGATED_OPERATORS = {"StringNotEquals": "StringEquals"}      # holds when its positive twin does not


def _condition_holds(condition, context):
    """Whether a statement's Condition holds in ``context`` ({key: value}), as IAM evaluates it: every operator and
    key must hold; a key the context lacks does not (unless the operator ends in IfExists); an operator the model
    does not know never holds (so a policy relying on it is not proven here)."""
    for operator, keys in (condition or {}).items():
        base = operator[:-len("IfExists")] if operator.endswith("IfExists") else operator
        for key, wanted in keys.items():
            got = (context or {}).get(key)
            if got is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            test = CONDITION_OPERATORS.get(NEGATED_OPERATORS.get(base, base))
            if test is None or any(test(w, got) for w in listed(wanted)) == (base in NEGATED_OPERATORS):
                return False
    return True


def _first_refused(policies, actions, resource="*", context=None):
    """The first of ``actions`` that ``policies`` (moto IAMPolicy objects, read for their documents; the evaluation is
    IAM's: an explicit Deny wins, else an Allow is needed, a statement counting only when its Condition holds) do not
    allow on ``resource``, or None.  ``context``: {action: {condition key: value}}, the request context."""
    statements = []
    for policy in policies:
        listed = policy._policy_json.get("Statement") or []
        statements += listed if isinstance(listed, list) else [listed]
    for action in actions:
        values = (context or {}).get(action) or {}
        allowed = False
        for statement in statements:
            if not (covers(statement, "Action", action, case=False, absent=True)
                    and covers(statement, "Resource", resource, absent=True)):
                continue
            if not _condition_holds(statement.get("Condition"), values):
                continue
            if statement.get("Effect") == "Deny":
                allowed = False
                break
            allowed = True
        if not allowed:
            return action
    return None


def signer_policies(authorization, account, headers=None):
    """(the policies of the signer of ``authorization``, its ARN)."""
    from moto.iam.access_control import IAMPolicy, create_access_key
    key_id = authorization.split("Credential=", 1)[1].split("/", 1)[0]
    key = create_access_key(account_id=account, partition="aws", access_key_id=key_id, headers=dict(headers or {}))
    return [IAMPolicy(p) for p in key.collect_policies()], key.arn


def denied(actions, authorization, account, headers=None, resource="*", context=None):
    """(first action of ``actions`` the signer of ``authorization`` may not perform on ``resource``, its ARN), or
    (None, None)."""
    policies, arn = signer_policies(authorization, account, headers)
    action = _first_refused(policies, actions, resource, context)
    return (action, arn) if action else (None, None)


def _caller_denies(actions, resource="*", context=None):
    if not actions or not _checked_caller():
        return None, None
    return denied(actions, CALLER.authorization, CALLER.account, getattr(CALLER, "headers", None), resource, context)


# -- the service role (RoleARN): CloudFormation acts with the role's permissions ------------------------------------
SERVICE_SESSION = "AWSCloudFormation"       # the session name of CloudFormation's calls as a service role


def _role(account, role_arn):
    from moto.iam.models import iam_backends
    backend = iam_backends[account][role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"]
    try:
        return backend.get_role_by_arn(role_arn)
    except Exception:
        return None


def _role_policies(account, role):
    from moto.iam.access_control import IAMPolicy
    from moto.iam.models import iam_backends
    backend = iam_backends[account]["aws"]
    docs = [role.policies[name] for name in sorted(role.policies)]
    docs += [backend.get_policy(arn) if isinstance(arn, str) else arn for arn in role.managed_policies]
    return [IAMPolicy(d) for d in docs]


def _trusts_cloudformation(role, account):
    """Whether ``role``'s trust policy lets CloudFormation (of ``account``) assume it."""
    document = role.assume_role_policy_document
    policy = json.loads(document) if isinstance(document, str) else document or {}
    statements = policy.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal")
        services = listed(principal.get("Service") if isinstance(principal, dict) else None)
        if statement.get("Effect") != "Allow" or "sts:AssumeRole" not in listed(statement.get("Action")) \
                or "cloudformation.amazonaws.com" not in services:
            continue
        source = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("aws:SourceAccount")
        if source is None or account in listed(source):
            return True
    return False


def service_role_refusal(role_arn):
    """Why CloudFormation cannot act as ``role_arn`` for this request's caller (AWS's ValidationError for a role it
    cannot assume; the caller's missing iam:PassRole, passed to CloudFormation), or None."""
    if not role_arn or not _checked_caller():
        return None
    role = _role(CALLER.account, role_arn)
    if role is None or not _trusts_cloudformation(role, CALLER.account):
        return "Role %s is invalid or cannot be assumed" % role_arn
    action, arn = _caller_denies(["iam:PassRole"], role_arn,
                                 {"iam:PassRole": {"iam:PassedToService": "cloudformation.amazonaws.com"}})
    if action:
        return not_authorized(arn, action, role_arn)
    return None


def check_service_role(role_arn):
    """Refuse the request when CloudFormation cannot act as ``role_arn`` (ValidationError) or the caller may not pass
    it (AccessDenied), as AWS does before anything happens."""
    reason = service_role_refusal(role_arn)
    if reason is None:
        return
    if reason.startswith("Role "):
        from moto.cloudformation.exceptions import ValidationError
        raise ValidationError(message=reason)
    from moto.cloudformation.exceptions import CloudFormationError

    class AccessDenied(CloudFormationError):
        code = "AccessDenied"
    raise AccessDenied(reason)


def _acting(role_arn=None):
    """(the policies CloudFormation acts with, the ARN it acts as): the stack's service role when it has one, else
    the caller's."""
    if role_arn:
        role = _role(CALLER.account, role_arn)
        if role is not None:
            partition = role_arn.split(":")[1]
            session = "arn:%s:sts::%s:assumed-role/%s/%s" % (partition, CALLER.account, role.name, SERVICE_SESSION)
            return _role_policies(CALLER.account, role), session
    return signer_policies(CALLER.authorization, CALLER.account, getattr(CALLER, "headers", None))


# the service a resource type passes its role to (iam:PassedToService, for a policy that allows iam:PassRole to named
# services only): EC2 (instance profiles, launch templates, Auto Scaling's instances), ECS (services, capacity
# providers), ECS tasks (task definitions)
PASSED_TO = {"AWS::AutoScaling::AutoScalingGroup": "ec2.amazonaws.com", "AWS::IAM::InstanceProfile": "ec2.amazonaws.com",
             "AWS::EC2::LaunchTemplate": "ec2.amazonaws.com", "AWS::ECS::Service": "ecs.amazonaws.com",
             "AWS::ECS::CapacityProvider": "ecs.amazonaws.com", "AWS::ECS::TaskDefinition": "ecs-tasks.amazonaws.com"}


def _needed(template, names, op, model, tagged):
    """[(logical id, type, action)] that ``op`` on the ``names`` resources of ``template`` needs (with the tagging
    permissions of each type when the stack carries tags)."""
    resources = template.get("Resources") or {}
    out = []
    for name in names:
        res = resources.get(name) or {}
        if op == "delete" and res.get("DeletionPolicy") == "Retain":
            continue
        for action in model["resources"].get(res.get("Type"), {}).get(op, []):
            out.append((name, res.get("Type"), action))
        if tagged and op in ("create", "update"):
            out += [(name, res.get("Type"), action) for action in tagging_permissions(res.get("Type"))]
    return out


def _uses_get_azs(value):
    if isinstance(value, dict):
        return "Fn::GetAZs" in value or any(_uses_get_azs(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_get_azs(v) for v in value)
    return False


def _check_stack(template, model):
    """CloudFormation resolves SSM-typed parameters, and the zones of Fn::GetAZs, with the caller's permissions before
    it starts; without them the call itself fails (ValidationError, as on AWS)."""
    from moto.cloudformation.exceptions import ValidationError
    params = template.get("Parameters") or {}
    needed = []
    if any(str((p or {}).get("Type", "")).startswith("AWS::SSM::Parameter::") for p in params.values()):
        needed += model["stack"]["ssm_parameters"]
    if _uses_get_azs(template.get("Resources") or {}) or _uses_get_azs(template.get("Outputs") or {}):
        needed += model["stack"]["availability_zones"]
    if any(str((p or {}).get("Type", "")) in ("AWS::EC2::Image::Id", "List<AWS::EC2::Image::Id>")
           for p in params.values()):
        needed += model["stack"]["image_parameters"]      # CloudFormation checks the image exists, as the caller
    action, arn = _caller_denies(needed)
    if action:
        raise ValidationError(message=not_authorized(arn, action))


def unreadable(stack):
    """Why drift detection cannot check some resource of ``stack`` with the caller's permissions (the read handler
    permissions of its type), as AWS's DetectionStatusReason says it; None when it can check them all."""
    if not _checked_caller():
        return None
    model = handler_permissions()
    policies, arn = _acting(getattr(stack, "role_arn", None))
    for name, res in sorted(((stack.template_dict or {}).get("Resources") or {}).items()):
        action = _first_refused(policies, model["resources"].get((res or {}).get("Type"), {}).get("read", []))
        if action:
            return "Failed to detect drift on resource [%s]: %s" % (name, not_authorized(arn, action))
    return None


def _first_denied(needed, role_arn=None):
    """The first (logical id, type, action) of ``needed`` CloudFormation may not perform (as the service role
    ``role_arn``, else as the caller): {logical_id, type, action, arn}, or None.  An iam:PassRole is evaluated with
    the service the resource passes its role to (iam:PassedToService)."""
    if not needed or not _checked_caller():
        return None
    policies, arn = _acting(role_arn)
    seen = set()
    for name, rtype, action in needed:
        service = PASSED_TO.get(rtype) if action == "iam:PassRole" else None
        if (action, service) in seen:
            continue
        seen.add((action, service))
        context = {action: {"iam:PassedToService": service}} if service else None
        if _first_refused(policies, [action], "*", context):
            return {"logical_id": name, "type": rtype, "action": action, "arn": arn}
    return None


def _denied_reason(refusal):
    return ('Resource handler returned message: "%s (Status Code: 403)" (HandlerErrorCode: AccessDenied)'
            % not_authorized(refusal["arn"], refusal["action"]))


def _fail(stack, refusal, resource_status, final_statuses):
    from .common import add_event
    add_event(stack, {"status": resource_status, "logical_id": refusal["logical_id"], "type": refusal["type"],
                      "reason": _denied_reason(refusal)})
    for status in final_statuses:
        stack._add_stack_event(status)
    stack.status = final_statuses[-1]


@PATCHES.wrap(BACKEND + ".create_stack",
              "CloudFormation creates every resource with the caller's permissions, or its service role's (RoleARN: a "
              "role that trusts cloudformation.amazonaws.com, which the caller may iam:PassRole to CloudFormation, "
              "else the call is refused): handler and (tagged stack) tagging permissions, iam:PassRole with "
              "iam:PassedToService; a refused resource is CREATE_FAILED and the stack rolls back to ROLLBACK_COMPLETE")
def _create_stack(original):
    def create_stack(self, name, template, parameters, *args, **kwargs):
        if not _checked_caller():
            return original(self, name, template, parameters, *args, **kwargs)
        model = handler_permissions()
        tpl = template_dict(template)
        role_arn = kwargs.get("role_arn")
        check_service_role(role_arn)
        _check_stack(tpl, model)
        tagged = bool(kwargs.get("tags") or (args[1] if len(args) > 1 else None))
        refusal = _first_denied(_needed(tpl, list(tpl.get("Resources") or {}), "create", model, tagged), role_arn)
        if refusal is None:
            return original(self, name, template, parameters, *args, **kwargs)
        empty = json.dumps({"Parameters": tpl.get("Parameters") or {}, "Resources": {}})
        stack = original(self, name, empty, parameters, *args, **kwargs)
        _fail(stack, refusal, "CREATE_FAILED", ("ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"))
        return stack
    return create_stack


@PATCHES.wrap(BACKEND + ".update_stack",
              "CloudFormation adds, modifies and removes resources with the caller's permissions, or the service role's "
              "(the request's RoleARN, which the caller must be allowed to pass, else the stack's) (tagging ones for "
              "a tagged stack); a refused resource is UPDATE_FAILED and the stack rolls back to "
              "UPDATE_ROLLBACK_COMPLETE")
def _update_stack(original):
    from .cfn import without_metadata  # noqa: F401  (the same notion of "modified" as the update itself)

    def update_stack(self, name, template, role_arn, parameters, tags):
        if not _checked_caller():
            return original(self, name, template, role_arn, parameters, tags)
        stack = self.get_stack(name)
        check_service_role(role_arn)
        acting_role = role_arn or getattr(stack, "role_arn", None)
        model = handler_permissions()
        tpl = template_dict(template)
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        diff = stack.resource_map.build_resource_diff(tpl, resolved)
        current = stack.template_dict or {}
        old = current.get("Resources") or {}
        # a change to a resource's Metadata counts here (so one test release can exercise the update permissions of
        # every type) although the update itself skips it
        diff["Modify"] += [n for n, r in (tpl.get("Resources") or {}).items()
                           if n in old and r != old[n] and n not in diff["Modify"]]
        tagged = bool(tags or stack.tags)
        if tags is not None and dict(tags) != dict(stack.tags or {}):       # new tags reach every resource
            diff["Modify"] = list(dict.fromkeys(diff["Modify"] + [n for n in (tpl.get("Resources") or {})
                                                                  if n in old]))
        _check_stack(tpl, model)
        needed = (_needed(tpl, diff["Add"], "create", model, tagged) + _needed(tpl, diff["Modify"], "update", model, tagged)
                  + _needed(current, diff["Remove"], "delete", model, tagged))
        refusal = _first_denied(needed, acting_role)
        if refusal is None:
            return original(self, name, template, role_arn, parameters, tags)
        stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        _fail(stack, refusal, "UPDATE_FAILED", ("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"))
        return stack
    return update_stack


@PATCHES.wrap(BACKEND + ".delete_stack",
              "CloudFormation deletes every resource with the caller's permissions, or the service role's (the "
              "request's RoleARN, else the stack's); a refused one leaves the stack "
              "DELETE_FAILED")
def _delete_stack(original):
    def delete_stack(self, name_or_stack_id):
        stack = find_stack(self, name_or_stack_id) if _checked_caller() else None
        if stack is not None:
            check_service_role(getattr(CALLER, "role_arn", None))
        if stack is not None and stack.status != "ROLLBACK_COMPLETE":
            current = stack.template_dict or {}
            role_arn = getattr(CALLER, "role_arn", None) or getattr(stack, "role_arn", None)
            refusal = _first_denied(_needed(current, list(current.get("Resources") or {}), "delete",
                                            handler_permissions(), False), role_arn)
            if refusal is not None:
                stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
                _fail(stack, refusal, "DELETE_FAILED", ("DELETE_FAILED",))
                return None
        return original(self, name_or_stack_id)
    return delete_stack


@PATCHES.wrap("moto.core.responses:BaseResponse._authenticate_and_authorize_normal_action",
              "a JSON-protocol service (SSM, Service Quotas, ...) refuses with a JSON AccessDeniedException, as AWS does "
              "(moto answered XML, which the SDK cannot read)")
def _json_access_denied(original):
    from moto.core.exceptions import AccessDeniedError, JsonRESTError

    def authenticate(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except AccessDeniedError as exc:
            if not self.headers.get("X-Amz-Target"):
                raise
            error = JsonRESTError("AccessDeniedException", exc.message)
            error.code = 403
            raise error from None
    return authenticate


# -- S3 ------------------------------------------------------------------------------------------------------------
def _s3_denied(message, bucket=None):
    from moto.s3 import exceptions as s3_exceptions
    if bucket is None:
        err = s3_exceptions.S3AccessDeniedError.__new__(s3_exceptions.S3AccessDeniedError)
    else:
        err = s3_exceptions.BucketAccessDeniedError.__new__(s3_exceptions.BucketAccessDeniedError)
        err.bucket_name = bucket
    s3_exceptions.S3ClientError.__init__(err, "AccessDenied", message)
    return err


@PATCHES.wrap("moto.iam.access_control:S3IAMRequest._raise_access_denied",
              "an S3 access-denied message names the action, as AWS's do")
def _raise_s3_access_denied(dummy):
    def raise_s3_access_denied(self):
        raise _s3_denied(not_authorized(self._access_key.arn, self._action), self._data.get("BucketName"))
    return raise_s3_access_denied


@PATCHES.wrap("moto.iam.access_control:IAMRequestBase.__init__",
              "a request is authorized under the IAM action AWS's Service Authorization Reference names for its "
              "operation (S3 ListObjectVersions needs s3:ListBucketVersions, ListObjectsV2 s3:ListBucket, "
              "GetBucketEncryption s3:GetEncryptionConfiguration, a DeleteObjects of versions "
              "s3:DeleteObjectVersion, CloudWatch cloudwatch:*; localaws.actions), whatever name moto gives it")
def _iam_request_init(original):
    from .actions import iam_action

    def init(self, account_id, method, path, data, body, headers, action):
        original(self, account_id, method, path, data, body, headers, action)
        operation = action[0] if isinstance(action, list) else action
        self._action = iam_action(self._service, operation, path, body, method, dict(headers or {}))
    return init


@PATCHES.wrap("moto.sts.responses:TokenResponse._determine_resource",
              "AssumeRole is authorized on the role it names (a policy allowing sts:AssumeRole on that role ARN "
              "only), whether its parameters come in the query string or the body")
def _sts_resource(dummy):
    def determine_resource(self):
        action = self._get_param("Action") or (self.querystring.get("Action") or [None])[0]
        if action in ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"):
            return self._get_param("RoleArn") or "*"
        return "*"
    return determine_resource


@PATCHES.wrap("moto.iam.access_control:IAMRequestBase._check_role_trust_relationship",
              "a role's trust policy naming an account (arn:aws:iam::<account>:root, or the bare id) trusts every "
              "principal of that account that its own policies allow sts:AssumeRole, as on AWS (moto matched the "
              "principal's ARN only); sts:ExternalId conditions still apply")
def _trust(original):
    def check(self, role_arn):
        if original(self, role_arn):
            return True
        caller = str(self._access_key.arn)
        account = caller.split(":")[4] if caller.count(":") >= 5 else ""
        role = self.backend.get_role_by_arn(role_arn)
        document = role.assume_role_policy_document
        policy = json.loads(document) if isinstance(document, str) else document
        statements = policy.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action") or []
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") != "Allow" or not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
                continue
            principal = statement.get("Principal")
            principals = principal.get("AWS") if isinstance(principal, dict) else principal
            principals = [principals] if isinstance(principals, str) else list(principals or [])
            if not any(p in ("*", caller, account, "arn:aws:iam::%s:root" % account) for p in principals):
                continue
            wanted = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("sts:ExternalId")
            given = self._data.get("ExternalId")
            given = given[0] if isinstance(given, list) else given
            if wanted is None or wanted == given:
                return True
        return False
    return check


@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse._get_stack_from_s3_url",
              "CloudFormation reads a TemplateURL with the caller's permissions: s3:GetObject on the object (and "
              "s3:GetObjectVersion for a version), else the call fails ('S3 error: Access Denied')")
def _template_url_read(original):
    from urllib.parse import parse_qs, urlparse

    def get_stack_from_s3_url(self, template_url):
        if _checked_caller():
            from moto.cloudformation.exceptions import ValidationError
            parts = urlparse(template_url)
            host = parts.hostname or ""
            if host.startswith(("s3.", "s3-")) or host in ("localhost", "127.0.0.1"):
                bucket, dummy, key = parts.path.lstrip("/").partition("/")
            else:
                bucket, key = host.split(".")[0], parts.path.lstrip("/")
            model = handler_permissions()["stack"]
            needed = model["template_url_version" if "versionId" in parse_qs(parts.query) else "template_url"]
            action, arn = denied(needed, CALLER.authorization, CALLER.account, getattr(CALLER, "headers", None),
                                 "arn:aws:s3:::%s/%s" % (bucket, key))
            if action:
                raise ValidationError(message="S3 error: Access Denied (%s)" % not_authorized(arn, action))
        return original(self, template_url)
    return get_stack_from_s3_url


@PATCHES.wrap("moto.s3.responses:S3Response.get_object",
              "GetObject of a missing key answers 403 AccessDenied, not 404 NoSuchKey, without s3:ListBucket")
def _get_object(original):
    from moto.s3.exceptions import MissingKey

    def get_object(self):
        try:
            return original(self)
        except MissingKey:
            authorization = self.headers.get("Authorization") or ""
            if enforcing() and "Credential=" in authorization:
                bucket = "arn:aws:s3:::%s" % self.bucket_name
                action, arn = denied(["s3:ListBucket"], authorization, self.current_account, self.headers, bucket)
                if action:
                    raise _s3_denied(not_authorized(arn, action, bucket), self.bucket_name) from None
            raise
    return get_object


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests (enforcement is moto's own switch)."""
