# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation as AWS documents it, where moto differs.  Each patch below names the AWS rule it stands for.

Besides the operations moto lacks or allows where AWS refuses: a resource whose creation AWS refuses (a quota, a
handler error) fails that resource and the stack rolls back - ROLLBACK_COMPLETE after a create, the previous state
and UPDATE_ROLLBACK_COMPLETE after an update - instead of leaving a stack CREATE_IN_PROGRESS forever; an export
another stack imports cannot change or disappear (the update fails naming the export and the importer, and rolls
back; a delete fails); ListImports; Fn::GetAZs returns the zones with a default subnet of the stack's own region;
Fn::Select past the end of its list is a template error; a TemplateURL must name an object of a bucket of the
stack's partition (in aws-cn and aws-us-gov, of its region)."""

from __future__ import annotations

import functools
import json
import os

from .common import CALLER, UPDATABLE, add_event, cfnlint_schemas, covers, find_stack, template_dict
from .patching import Patches

PATCHES = Patches("cfn", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html")
ROLLBACK_BLOCKED: dict[str, list[str]] = {}      # stack name -> logical ids whose rollback fails until skipped (set_stack rollback_blocked)
RESPONSE = "moto.cloudformation.responses:CloudFormationResponse"
BACKEND = "moto.cloudformation.models:CloudFormationBackend"
STACK = "moto.cloudformation.models:Stack"


def _validation_error(message, name=None):
    from moto.cloudformation.exceptions import ValidationError
    return ValidationError(name, message=message) if name is not None else ValidationError(message=message)


@functools.lru_cache(maxsize=None)
def template_error_type():
    """The error of a template AWS refuses before it creates anything (the CreateStack call itself fails)."""
    from moto.cloudformation.exceptions import ValidationError

    class TemplateError(ValidationError):
        pass
    return TemplateError


def template_error(message):
    return template_error_type()(message=message)


# -- the request being served --------------------------------------------------------------------------------
@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse.call_action",
              "(context) who calls and with which ClientRequestToken, for the rules below and the IAM model")
def _call_action(original):
    def call_action(self):
        CALLER.authorization = self.headers.get("Authorization")
        CALLER.headers = dict(self.headers)        # an assumed role's key is read with its session token
        CALLER.account = self.current_account
        CALLER.token = self._get_param("ClientRequestToken")
        CALLER.role_arn = self._get_param("RoleARN")      # the service role the request names (DeleteStack too)
        try:
            return original(self)
        finally:
            CALLER.authorization = CALLER.token = CALLER.role_arn = None
    return call_action


@PATCHES.wrap(STACK + "._add_stack_event", "stack events carry the ClientRequestToken of the operation that caused them")
def _add_stack_event(original):
    def add_stack_event(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.events and getattr(CALLER, "token", None):
            self.events[-1].client_request_token = CALLER.token
    return add_stack_event


# -- operations moto lacks or allows where AWS refuses ---------------------------------------------------------------
@PATCHES.wrap(RESPONSE + ".update_termination_protection", "UpdateTerminationProtection", adds=True)
def _update_termination_protection(dummy):
    from moto.core.responses import ActionResult

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = bool(self._get_bool_param("EnableTerminationProtection", False))
        return ActionResult({"StackId": stack.stack_id})
    return update_termination_protection


def _takes_time(timing, backend, stack, in_progress):
    """In real-duration mode the operation just decided on ``stack`` shows ``in_progress`` for the configured time
    before its outcome (the status it now has)."""
    if timing.seconds() > 0:
        timing.begin(backend, stack, in_progress)


@PATCHES.wrap(RESPONSE + ".continue_update_rollback",
              "ContinueUpdateRollback, only from UPDATE_ROLLBACK_FAILED (ValidationError otherwise); taking time in "
              "real-duration mode (UPDATE_ROLLBACK_IN_PROGRESS meanwhile)", adds=True)
def _continue_update_rollback(dummy):
    from moto.core.responses import EmptyResult

    from . import timing

    def continue_update_rollback(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise _validation_error("Stack %s is in %s state and can not continue update rollback."
                                    % (stack.stack_id, stack.status), stack.stack_id)
        skipped = set(self._get_param("ResourcesToSkip", []) or [])
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason="Continue update rollback")
        # a resource whose rollback fails (a test put it there: ROLLBACK_BLOCKED) fails it again unless skipped
        blocked = [lid for lid in ROLLBACK_BLOCKED.get(stack.name, ()) if lid not in skipped]
        if blocked:
            reason = "The following resource(s) failed to update: [%s]. " % ", ".join(blocked)
            for lid in blocked:
                add_event(stack, {"status": "UPDATE_FAILED", "logical_id": lid, "type": "AWS::CloudFormation::Resource",
                                  "reason": "Resource %s could not be rolled back" % lid})
            stack.status = "UPDATE_ROLLBACK_FAILED"
            stack.status_reason = reason
            stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=reason)
            _takes_time(timing, self.cloudformation_backend, stack, "UPDATE_ROLLBACK_IN_PROGRESS")
            return EmptyResult()
        for lid in sorted(skipped):
            add_event(stack, {"status": "UPDATE_COMPLETE", "logical_id": lid, "type": "AWS::CloudFormation::Resource",
                              "reason": "Resource skipped during UPDATE_ROLLBACK"})
        ROLLBACK_BLOCKED.pop(stack.name, None)
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        _takes_time(timing, self.cloudformation_backend, stack, "UPDATE_ROLLBACK_IN_PROGRESS")
        return EmptyResult()
    return continue_update_rollback


@PATCHES.wrap(RESPONSE + ".rollback_stack",
              "RollbackStack: only a CREATE_FAILED or UPDATE_FAILED stack (rollback disabled; ValidationError "
              "otherwise), back to its last stable state (ROLLBACK_COMPLETE, or the stack as it was before the update: "
              "UPDATE_ROLLBACK_COMPLETE), taking time in real-duration mode", adds=True)
def _rollback_stack(dummy):
    from moto.core.responses import ActionResult

    from . import timing

    def rollback_stack(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status not in ("CREATE_FAILED", "UPDATE_FAILED"):
            message = "Stack %s is in %s state and can not be rolled back." % (stack.stack_id, stack.status)
            raise _validation_error(message, stack.stack_id)
        if stack.status == "UPDATE_FAILED":
            roll_back_last_update(stack, "User Initiated")
            _takes_time(timing, self.cloudformation_backend, stack, "UPDATE_ROLLBACK_IN_PROGRESS")
        else:
            stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason="User Initiated")
            stack.status = "ROLLBACK_COMPLETE"
            stack._add_stack_event("ROLLBACK_COMPLETE")
            _takes_time(timing, self.cloudformation_backend, stack, "ROLLBACK_IN_PROGRESS")
        return ActionResult({"StackId": stack.stack_id})
    return rollback_stack


@PATCHES.wrap(RESPONSE + ".cancel_update_stack",
              "CancelUpdateStack: only an UPDATE_IN_PROGRESS stack (ValidationError otherwise); the update rolls back "
              "to the stack as it was (UPDATE_ROLLBACK_IN_PROGRESS, taking time in real-duration mode, then "
              "UPDATE_ROLLBACK_COMPLETE)", adds=True)
def _cancel_update_stack(dummy):
    from moto.core.responses import EmptyResult

    from . import timing

    def cancel_update_stack(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_IN_PROGRESS":
            raise _validation_error("CancelUpdateStack cannot be called from current stack status", stack.stack_id)
        roll_back_last_update(stack, "User Initiated")
        _takes_time(timing, self.cloudformation_backend, stack, "UPDATE_ROLLBACK_IN_PROGRESS")
        return EmptyResult()
    return cancel_update_stack


@PATCHES.wrap(RESPONSE + ".delete_stack",
              "DeleteStack is refused while termination protection is on, and while another operation runs; "
              "RetainResources only for a DELETE_FAILED stack, whose listed resources then stay when it goes")
def _delete_stack(original):
    def delete_stack(self):
        stack = find_stack(self.cloudformation_backend, self._get_param("StackName"))
        retain = list(self._get_param("RetainResources", []) or [])
        if retain and stack is not None:
            if stack.status != "DELETE_FAILED":
                raise _validation_error("Invalid operation on stack [%s]: RetainResources can only be specified when "
                                        "the stack is in DELETE_FAILED state" % stack.name, stack.name)
            for lid in retain:          # left in place: the stack goes, these resources stay
                if lid in stack.resource_map._resource_json_map:
                    stack.resource_map._resource_json_map[lid]["DeletionPolicy"] = "Retain"
        if stack is not None and stack.enable_termination_protection:
            raise _validation_error("Stack [%s] cannot be deleted while TerminationProtection is enabled" % stack.name,
                                    stack.name)
        if stack is not None and stack.status.endswith("_IN_PROGRESS") and stack.status not in (
                "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            raise _validation_error("Stack [%s] is in %s state and can not be deleted" % (stack.name, stack.status),
                                    stack.name)
        return original(self)
    return delete_stack


@PATCHES.wrap(RESPONSE + ".update_stack", "UpdateStack is refused unless the stack is in an updatable state; the stack "
              "policy during the update (StackPolicyDuringUpdateBody, else the stack's own) is enforced: a denied "
              "Update:Replace or Update:Delete fails that resource and rolls the update back")
def _update_stack(original):
    def update_stack(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status not in UPDATABLE:       # ROLLBACK_COMPLETE too: such a stack can only be deleted
            raise _validation_error("Stack:%s is in %s state and can not be updated." % (stack.stack_id, stack.status),
                                    stack.stack_id)
        body = self._get_param("StackPolicyDuringUpdateBody") or getattr(stack, "policy", None) or ""
        CALLER.stack_policy = json.loads(body) if body else None
        try:
            return original(self)
        finally:
            CALLER.stack_policy = None
    return update_stack


def _policy_denies(policy, action, logical_id):
    """The statement number of ``policy`` that denies ``action`` on ``logical_id`` (explicit deny, or no allow), or
    None when it is allowed."""
    allowed = False
    resource = "LogicalResourceId/%s" % logical_id
    for index, statement in enumerate(policy.get("Statement") or [], 1):
        # NotAction / NotResource: every action (resource) but those listed, as IAM reads them
        matches_action = covers(statement, "Action", action)
        matches_resource = covers(statement, "Resource", resource)
        if matches_action and matches_resource:
            if statement.get("Effect") == "Deny":
                return index
            allowed = True
    return None if allowed else 0


def policy_violation(policy, old_template, new_template, old_params=None, new_params=None):
    """(logical id, type, reason) of the first change a stack policy denies between two templates (and parameter
    values), or None."""
    old = (old_template or {}).get("Resources") or {}
    new = (new_template or {}).get("Resources") or {}
    for logical_id in sorted(old):
        before, after = old[logical_id], new.get(logical_id)
        if after is None:
            action = "Update:Delete"
        elif replacement(before.get("Type"), before, after, old_params, new_params) == "True":
            action = "Update:Replace"
        else:
            continue
        denied = _policy_denies(policy, action, logical_id)
        if denied is not None:
            return logical_id, before.get("Type"), ("Action denied by stack policy: Statement [#%d] does not allow [%s] "
                                                    "for resource [LogicalResourceId/%s];" % (denied, action, logical_id))
    return None


@PATCHES.wrap(RESPONSE + "._validate_different_update",
              "a change of the stack's tags alone is an update, not 'No updates are to be performed'")
def _validate_different_update(original):
    def validate_different_update(self, incoming_params, stack_body, old_stack):
        incoming_tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}
        if incoming_tags and incoming_tags != (old_stack.tags or {}):
            return None
        return original(self, incoming_params, stack_body, old_stack)
    return validate_different_update


# -- parameters ------------------------------------------------------------------------------------------------------
@PATCHES.wrap(BACKEND + "._resolve_update_parameters",
              "UsePreviousValue keeps the value the stack has for the key, also one that took its template default")
def _resolve_update_parameters(dummy):
    def resolve_update_parameters(self, instance, incoming_params):
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
        declared = (getattr(instance, "template_dict", None) or {}).get("Parameters") or {}
        given = getattr(instance, "parameters", None) or {}
        for param in incoming_params:
            if not param.get("UsePreviousValue", False):
                continue
            key = param["ParameterKey"]
            if key in given:
                parameters[key] = given[key]
            elif key in declared and (declared[key] or {}).get("Default") is not None:
                parameters[key] = str(declared[key]["Default"])
            else:
                raise _validation_error("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for "
                                        "a parameter key not in the previous template" % key)
        return parameters
    return resolve_update_parameters


@PATCHES.wrap(RESPONSE + "._get_param_values",
              "UsePreviousValue for a key the previous template does not declare is refused (ValidationError)")
def _get_param_values(original):
    def get_param_values(self, parameters_list, existing_params):
        for param in parameters_list:
            if param.get("UsePreviousValue") and param.get("ParameterKey") not in existing_params:
                raise _validation_error("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a "
                                        "parameter key not in the previous template" % param.get("ParameterKey"))
        return original(self, parameters_list, existing_params)
    return get_param_values


@PATCHES.wrap(STACK + ".parameter_list",
              "DescribeStacks lists the parameters the current template declares, NoEcho values masked by key, an "
              "SSM-typed parameter with its path as value and the looked-up value as ResolvedValue")
def _parameter_list(dummy):
    def parameter_list(self):
        declared = (self.template_dict or {}).get("Parameters") or {}
        no_echo = set(self.resource_map.no_echo_parameter_keys)
        inputs = getattr(self.resource_map, "input_parameters", None) or {}
        out = []
        for key, value in self.resource_map.resolved_parameters.items():
            if key not in declared:
                continue
            entry = {"ParameterKey": key, "ParameterValue": "****" if key in no_echo else value}
            if str(declared[key].get("Type", "")).startswith("AWS::SSM::Parameter::"):
                entry["ParameterValue"] = inputs.get(key, declared[key].get("Default"))
                entry["ResolvedValue"] = value
            out.append(entry)
        return out
    return property(parameter_list)


# -- updates and change sets ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def create_only(resource_type):
    """The top-level properties whose change replaces a resource of ``resource_type``: its resource schema's
    ``createOnlyProperties`` (cfn-lint ships AWS's schemas); none for a type it does not know."""
    schemas = cfnlint_schemas()
    with open(os.path.join(schemas, "providers", "us-east-1.json")) as f:
        index = json.load(f)
    if resource_type not in index:
        return frozenset()
    with open(os.path.join(schemas, "resources", "%s.json" % index[resource_type])) as f:
        paths = json.load(f).get("createOnlyProperties") or []
    return frozenset(p.split("/")[2] for p in paths if p.startswith("/properties/") and p.count("/") >= 2)


def _resolved(value, params):
    """``value`` with each Ref to a parameter replaced by the parameter's value (what the resource receives)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in params:
            return params[value["Ref"]]
        return {k: _resolved(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, params) for v in value]
    return value


def replacement(resource_type, old, new, old_params=None, new_params=None):
    """"True" when a create-only property of the resource changes - in the template, or through the value of a
    parameter it references - else "False"."""
    if (old or {}).get("Type") != (new or {}).get("Type"):
        return "True"
    old_props = _resolved((old or {}).get("Properties") or {}, old_params or {})
    new_props = _resolved((new or {}).get("Properties") or {}, new_params or {})
    changed = {k for k in set(old_props) | set(new_props) if old_props.get(k) != new_props.get(k)}
    return "True" if changed & create_only(resource_type) else "False"


def stack_parameters(stack):
    """The parameter values a stack has now (resolved)."""
    try:
        return {k: v for k, v in (stack.resource_map.resolved_parameters or {}).items() if isinstance(v, str)}
    except Exception:
        return {}


def parameters_after(stack, template, given):
    """The values the stack's parameters would have with ``template`` and the ``given`` ones (the rest keep theirs,
    else take their default)."""
    declared = (template or {}).get("Parameters") or {}
    now = stack_parameters(stack)
    out = {}
    for name, decl in declared.items():
        value = (given or {}).get(name)
        if value is None:
            value = now.get(name, (decl or {}).get("Default"))
        if value is not None:
            out[name] = str(value)
    return out


def without_metadata(resource):
    return {k: v for k, v in (resource or {}).items() if k != "Metadata"}


@PATCHES.wrap("moto.cloudformation.models:ChangeSet.diff",
              "a Modify change of a change set says whether it replaces the resource (Replacement True/False: a "
              "create-only property of the type's schema changes, in the template or through a parameter); a "
              "parameter-only change lists the resources that reference the parameter as modified")
def _change_set_diff(original):
    def change_set_diff(self):
        from moto.cloudformation.models import Change
        changes = original(self)
        old = getattr(self.stack.resource_map, "_resource_json_map", {}) or {}
        new = (self.template_dict or {}).get("Resources") or {}
        given = {k: v for k, v in (self.parameters or {}).items() if v is not None}
        if given and self.stack.status != "REVIEW_IN_PROGRESS":
            # a resource whose template is the same but a parameter it references changes is modified too
            listed = {c.logical_resource_id for c in changes}
            diff = self.stack.resource_map.build_resource_diff(self.template_dict, given)
            for name in diff["Modify"]:
                if name not in listed and name in new:
                    changes.append(Change(action="Modify", logical_resource_id=name,
                                          resource_type=new[name].get("Type")))
        old_params = stack_parameters(self.stack)
        new_params = parameters_after(self.stack, self.template_dict, given)
        for item in changes:
            if item.action == "Modify":
                item.replacement = replacement(item.resource_type, old.get(item.logical_resource_id),
                                               new.get(item.logical_resource_id), old_params, new_params)
                item.scope = ["Properties"]
        return changes
    return change_set_diff


@PATCHES.wrap("moto.cloudformation.parsing:ResourceMap.build_resource_diff",
              "an update modifies only the resources whose template, or the value of a parameter they reference, "
              "changes (a change to Metadata alone modifies nothing)")
def _build_resource_diff(dummy):
    from moto.cloudformation import parsing

    def build_resource_diff(self, other_template, parameters=None):
        old = self._resource_json_map
        new = other_template["Resources"]
        actions = {
            "Add": [n for n in new if n not in old],
            "Modify": [n for n in new if n in old and without_metadata(new[n]) != without_metadata(old[n])],
            "Remove": [n for n in old if n not in new],
        }
        if parameters:
            defaults = {k: (v or {}).get("Default") for k, v in (self._template.get("Parameters") or {}).items()}
            changed = []
            for key, value in parameters.items():
                before = {str(x) for x in (self.input_parameters.get(key), self.resolved_parameters.get(key),
                                           defaults.get(key)) if x is not None}
                if str(value) not in before:
                    changed.append(key)
            for n in new:
                if n in old and without_metadata(new[n]) == without_metadata(old[n]):
                    refs = parsing.get_references_from_template(new[n])
                    if any(c in refs for c in changed):
                        actions["Modify"].append(n)
        return actions
    return build_resource_diff


@PATCHES.wrap("moto.cloudformation.parsing:parse_and_update_resource",
              "a modified resource keeps its state (moto set one of a type it cannot update to None)")
def _parse_and_update_resource(original):
    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated
    return parse_and_update_resource


@PATCHES.wrap("moto.autoscaling.models:FakeAutoScalingGroup.delete_from_cloudformation_json",
              "an update replaces an Auto Scaling group; deleting one already gone is not an error")
def _asg_delete(dummy):
    def asg_delete_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name):
        from moto.autoscaling.models import autoscaling_backends
        backend = autoscaling_backends[account_id][region_name]
        if resource_name in backend.autoscaling_groups:
            backend.delete_auto_scaling_group(resource_name)
    return classmethod(asg_delete_from_cfn)


# -- templates by URL ------------------------------------------------------------------------------------------------
@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse._get_stack_from_s3_url",
              "a TemplateURL names an object of an S3 bucket of the stack's partition - in the aws partition of any region, "
              "in aws-cn and aws-us-gov of the stack's own region - at an endpoint of the bucket's region (ValidationError "
              "otherwise), and reads the object version it names (versionId)")
def _get_stack_from_s3_url(dummy):
    from urllib.parse import parse_qs, urlparse

    def get_stack_from_s3_url(self, template_url):
        from moto.s3.models import s3_backends
        parts = urlparse(template_url)
        host = parts.hostname or ""
        if host.startswith("s3.") or host.startswith("s3-") or host in ("localhost", "127.0.0.1"):
            bucket_name, dummy2, key_name = parts.path.lstrip("/").partition("/")
        else:
            bucket_name, key_name = host.split(".")[0], parts.path.lstrip("/")
        backend = s3_backends[self.current_account][self.partition]
        bucket = backend.get_bucket(bucket_name)
        labels = host.split(".")
        after = labels[labels.index("s3") + 1:] if "s3" in labels else []
        named = after[0] if after and after[0] not in ("amazonaws", "dualstack") else None   # ...s3.<region>.amazonaws.com
        # the aws partition reads a template from a bucket of any of its regions (Convox passes its us-east-1
        # bucket from every region); aws-cn and aws-us-gov only from a bucket in the stack's own region; a URL that
        # names a region must name the bucket's
        same_region_only = self.partition != "aws"
        if (same_region_only and bucket.region_name != self.region) or (named is not None
                                                                        and named != bucket.region_name):
            raise _validation_error("S3 error: The bucket you are attempting to access must be addressed using the "
                                    "specified endpoint. Please send all future requests to this endpoint. (the "
                                    "template's bucket %s is in %s; the stack is in %s, partition %s)"
                                    % (bucket_name, bucket.region_name, self.region, self.partition))
        from urllib.parse import unquote
        version = (parse_qs(parts.query).get("versionId") or [None])[0]
        key = backend.get_object(bucket_name, unquote(key_name), version_id=version)
        if key is None:
            raise _validation_error("S3 error: Access Denied (the template %s names no object)" % template_url)
        return key.value.decode("utf-8")
    return get_stack_from_s3_url


# -- intrinsic functions ---------------------------------------------------------------------------------------------
IMPORTS: dict[str, set[str]] = {}       # importing stack id -> the export names it imported


@PATCHES.wrap("moto.cloudformation.parsing:clean_json",
              "Fn::GetAZs returns the zones of the stack's region (of '' too) that have a default subnet; Fn::Select "
              "past the end of its list is a template error; Fn::ImportValue is recorded for ListImports")
def _clean_json(original):
    def clean_json(resource_json, resources_map):
        if isinstance(resource_json, dict) and len(resource_json) == 1:
            if "Fn::GetAZs" in resource_json:
                from . import ec2
                region = original(resource_json["Fn::GetAZs"], resources_map) or resources_map._region_name
                return ec2.zones(resources_map._account_id, region)
            if "Fn::Select" in resource_json:
                index, values = resource_json["Fn::Select"]
                index = int(original(index, resources_map))
                values = clean_json(values, resources_map)
                if not isinstance(values, list) or not 0 <= index < len(values):
                    raise template_error("Template error: Fn::Select cannot select nonexistent value at index %d"
                                         % index)
                return values[index]
            if "Fn::ImportValue" in resource_json:
                name = original(resource_json["Fn::ImportValue"], resources_map)
                IMPORTS.setdefault(resources_map.stack_id, set()).add(name)
        return original(resource_json, resources_map)
    return clean_json


def _backend_of(stack):
    from moto.cloudformation.models import cloudformation_backends
    return cloudformation_backends[stack.account_id][stack.region_name]


def importers(backend, export_name, but=None):
    """The live stacks of ``backend`` that import ``export_name`` (other than ``but``)."""
    return sorted(s.name for s in backend.stacks.values()
                  if export_name in IMPORTS.get(s.stack_id, ()) and s.stack_id != but
                  and s.status not in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"))


@PATCHES.wrap(RESPONSE + ".list_imports", "ListImports: the stacks that import an export", adds=True)
def _list_imports(dummy):
    from moto.core.responses import ActionResult

    def list_imports(self):
        name = self._get_param("ExportName")
        if name not in self.cloudformation_backend.exports:
            raise _validation_error("Export '%s' does not exist." % name)
        stacks = importers(self.cloudformation_backend, name)
        if not stacks:
            raise _validation_error("Export '%s' is not imported by any stack." % name)
        return ActionResult({"Imports": stacks})
    return list_imports


# -- failures and rollbacks -----------------------------------------------------------------------------------------
class ResourceFailed(Exception):
    """A resource AWS would fail (a quota, a handler error)."""

    def __init__(self, logical_id, resource_type, reason):
        super().__init__(reason)
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


@PATCHES.wrap("moto.cloudformation.parsing:parse_and_create_resource",
              "a resource whose creation AWS refuses (an EC2 quota, ...) fails that resource, with the service's message")
def _parse_and_create_resource(original):
    from moto.core.exceptions import ServiceException

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        try:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        except template_error_type():
            raise
        except ServiceException as exc:
            service = (resource_json.get("Type") or "::").split("::")[1]
            # a quota refused (EC2's *LimitExceeded, IAM's LimitExceeded, ELB's TooMany*): the handlers' ServiceLimitExceeded
            limit = "LimitExceeded" in exc.code or exc.code.startswith("TooMany")
            handler_code = "ServiceLimitExceeded" if limit else "GeneralServiceException"
            raise ResourceFailed(logical_id, resource_json.get("Type"), 'Resource handler returned message: "%s (Service: '
                                 '%s, Status Code: 400)" (HandlerErrorCode: %s)' % (exc.message, service, handler_code)
                                 ) from exc
    return parse_and_create_resource


def _sync_exports(stack):
    """The backend's exports of ``stack`` as its outputs are now (moto kept the values of its creation)."""
    backend = _backend_of(stack)
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    if stack.status not in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
        for export in stack.exports:
            backend.exports[export.name] = export


@PATCHES.wrap(BACKEND + ".create_stack",
              "a template error (Fn::Select past its list, ...) fails CreateStack itself: no stack is left behind; a "
              "resource that fails - also one made early to resolve the stack's exports - rolls the stack back")
def _backend_create_stack(original):
    def create_stack(self, name, *args, **kwargs):
        try:
            return original(self, name, *args, **kwargs)
        except template_error_type():
            for stack_id in [i for i, s in self.stacks.items() if s.name == name]:
                del self.stacks[stack_id]
                for export in [n for n, e in self.exports.items() if e.exporting_stack_id == stack_id]:
                    del self.exports[export]
            raise
        except ResourceFailed as failed:
            stack = find_stack(self, name)
            _roll_back_create(stack, failed)
            return stack
    return create_stack


def _roll_back_create(stack, failed):
    """A create that failed on a resource: CREATE_FAILED, its resources deleted, ROLLBACK_COMPLETE, as AWS does."""
    add_event(stack, {"status": "CREATE_FAILED", "logical_id": failed.logical_id, "type": failed.resource_type,
                      "reason": failed.reason})
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason="The following resource(s) failed to "
                           "create: [%s]. Rollback requested by user." % failed.logical_id)
    try:
        stack.resource_map.delete()
    except Exception:  # noqa: BLE001 - what moto cannot delete stays, as a failed rollback would leave it
        pass
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")
    # a stack rolled back after its creation has no outputs (moto would create the resources they reference again)
    from moto.cloudformation.parsing import OutputMap
    stack.output_map = OutputMap(stack.resource_map, {"Outputs": {}}, stack.stack_id)
    _sync_exports(stack)


@PATCHES.wrap(STACK + ".create_resources",
              "a failed resource fails the stack's creation: CREATE_FAILED, then its resources deleted and "
              "ROLLBACK_COMPLETE (moto left the stack CREATE_IN_PROGRESS)")
def _create_resources(original):
    def create_resources(self):
        try:
            return original(self)
        except ResourceFailed as failed:
            _roll_back_create(self, failed)
    return create_resources


_KEPT = ("template", "template_dict", "resource_map", "output_map", "parameters", "tags", "role_arn", "description")


def _snapshot(stack):
    """What an update changes of ``stack`` (its attributes, and its resource map's, which moto updates in place)."""
    kept = {name: getattr(stack, name) for name in _KEPT if hasattr(stack, name)}
    kept["_resource_map_state"] = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                                   for k, v in vars(stack.resource_map).items()}
    return kept


def _cleanup_event(stack):
    """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS before an update's UPDATE_COMPLETE event, as AWS reports every update."""
    events = getattr(stack, "events", None) or []
    if not events or getattr(events[-1], "resource_status", None) != "UPDATE_COMPLETE" \
            or getattr(events[-1], "logical_resource_id", None) != stack.name:
        return
    complete = events.pop()
    stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    cleanup = events[-1]
    cleanup.timestamp, complete.timestamp = complete.timestamp, cleanup.timestamp
    cleanup.client_request_token = complete.client_request_token
    events.append(complete)


def _physical_id(resource):
    """A resource's physical id; None for what is not a resource (a parameter's value, a pseudo parameter)."""
    return getattr(resource, "physical_resource_id", None)


def _roll_back_update(stack, before, reason, logical_id=None, resource_type=None):
    """Put ``stack`` back as it was before an update that failed (UPDATE_ROLLBACK_COMPLETE), with AWS's events.  (What
    the update deleted in other services stays deleted: the endpoint restores the stack, not every backend.)"""
    before = dict(before)
    state = dict(before.pop("_resource_map_state"))
    # a resource the update replaced: moto deleted the old one from its service, so the stack keeps the new one (AWS
    # would keep the old; either way the stack names a resource that exists, and deleting the stack deletes it)
    now = getattr(stack.resource_map, "_parsed_resources", {}) or {}
    then = dict(state.get("_parsed_resources") or {})
    for lid, resource in now.items():
        if lid in then and None not in (_physical_id(then[lid]), _physical_id(resource)) \
                and _physical_id(then[lid]) != _physical_id(resource):
            then[lid] = resource
    if "_parsed_resources" in state:
        state["_parsed_resources"] = then
    for name, value in before.items():
        setattr(stack, name, value)
    vars(stack.resource_map).clear()
    vars(stack.resource_map).update(state)
    if logical_id:
        add_event(stack, {"status": "UPDATE_FAILED", "logical_id": logical_id, "type": resource_type, "reason": reason})
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack.status_reason = reason
    _sync_exports(stack)


def roll_back_last_update(stack, reason):
    """Put ``stack`` back as it was before its last update (UPDATE_ROLLBACK_COMPLETE, with AWS's events): a cancel, a
    RollbackStack of an UPDATE_FAILED stack, a rollback trigger."""
    before = getattr(stack, "_localaws_before_update", None)
    if before is not None:
        _roll_back_update(stack, before, reason)
        return
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack.status_reason = reason
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


@PATCHES.wrap(STACK + ".update",
              "an export another stack imports cannot change or disappear: the update fails (\"Export X cannot be "
              "updated as it is in use by Y\") and rolls back; a resource that fails rolls the update back; the "
              "stack's exports are what its outputs are now (moto kept the values of its creation); an update without "
              "RoleARN keeps the stack's service role (moto dropped it); an update reports "
              "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS before UPDATE_COMPLETE; a rollback keeps a resource the update "
              "replaced (moto deleted the old one)")
def _stack_update(original):
    def update(self, *args, **kwargs):
        before = _snapshot(self)
        exports_before = {e.name: e.value for e in self.exports}
        role = getattr(self, "role_arn", None)
        policy = getattr(CALLER, "stack_policy", None)
        if policy:
            new_template = template_dict(args[0] if args else kwargs.get("template"))
            given = kwargs.get("parameters") if "parameters" in kwargs else (args[2] if len(args) > 2 else None)
            violation = policy_violation(policy, before.get("template_dict"), new_template, stack_parameters(self),
                                         parameters_after(self, new_template, given))
            if violation:
                logical_id, resource_type, reason = violation
                self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
                _roll_back_update(self, before, reason, logical_id, resource_type)
                return
        try:
            original(self, *args, **kwargs)
            if getattr(self, "role_arn", None) is None:
                self.role_arn = role
        except ResourceFailed as failed:
            _roll_back_update(self, before, failed.reason, failed.logical_id, failed.resource_type)
            return
        self._localaws_before_update = before       # what CancelUpdateStack restores
        _cleanup_event(self)
        exports_after = {e.name: e.value for e in self.exports}
        backend = _backend_of(self)
        for name, value in sorted(exports_before.items()):
            users = importers(backend, name, but=self.stack_id)
            if users and (name not in exports_after or exports_after[name] != value):
                verb = "deleted" if name not in exports_after else "updated"
                _roll_back_update(self, before, "Export %s cannot be %s as it is in use by %s" % (name, verb, users[0]))
                return
        _sync_exports(self)
    return update


@PATCHES.wrap(BACKEND + ".delete_stack",
              "a stack whose export another stack imports cannot be deleted: DELETE_FAILED naming the export and the "
              "importer")
def _backend_delete_stack(original):
    def delete_stack(self, name_or_stack_id):
        stack = find_stack(self, name_or_stack_id)
        if stack is not None:
            for export in stack.exports:
                users = importers(self, export.name, but=stack.stack_id)
                if users:
                    reason = "Export %s cannot be deleted as it is in use by %s" % (export.name, users[0])
                    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
                    stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
                    stack.status = "DELETE_FAILED"
                    stack.status_reason = reason
                    return None
        result = original(self, name_or_stack_id)
        if stack is not None:
            IMPORTS.pop(stack.stack_id, None)
            for name in [n for n, e in self.exports.items() if e.exporting_stack_id == stack.stack_id]:
                del self.exports[name]
        return result
    return delete_stack


def apply():
    PATCHES.apply()


def reset():
    IMPORTS.clear()
    ROLLBACK_BLOCKED.clear()
