# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What moto lacks for racks, added as AWS documents it.  Applied by ``tools/localaws.py`` to
the server process it starts, and by the unit tests to in-process ``mock_aws``.

CloudFormation
* ``UpdateTerminationProtection``; ``ContinueUpdateRollback`` (only from UPDATE_ROLLBACK_FAILED);
* ``DeleteStack`` refused while termination protection is on, or while an operation runs;
* ``UpdateStack`` refused unless the stack is in an updatable state;
* a tags-only ``UpdateStack`` is an update, not "No updates are to be performed";
* stack events carry the ClientRequestToken of the operation that caused them;
* ``UsePreviousValue`` keeps the stack's value of a parameter, also one that took its template default, and is
  refused for a key the previous template does not declare;
* DescribeStacks lists only the parameters the current template declares, NoEcho ones masked,
  SSM-typed ones with the path as value and the looked-up value as ResolvedValue.
Updates
* only resources whose template or referenced parameter values change are modified;
* a modified resource of a type moto cannot update keeps its state (moto set it to None);
* a change to a resource's Metadata alone does not update the resource.
EC2 (stack deletion)
* route tables, routes and subnet associations created by a stack are deleted with it (moto
  leaves them, so the VPC of any real template could never be deleted).
Speed (same answers; the local endpoint serves CloudFormation one request at a time)
* DescribeStacks without a StackName (a listing) is built from each stack's serialized member,
  kept until the stack changes (same bytes; moto's generic serializer made a poll of a region's
  racks the endpoint's largest cost);
* DescribeStacks resolves a stack's exports once, not once per output (same answer, linear);
  a template text is parsed once and copies handed out; a stack's exports are kept until it
  changes; one KMS private key per key spec; an instance's AMI found by comparing exact ids, not
  by fnmatch over every AMI (a rack's CreateStack in a fifth of the time).
Drift detection (moto has none)
* DetectStackDrift, DescribeStackDriftDetectionStatus and DescribeStackResourceDrifts: a detection
  takes a quarter of the real-duration ``seconds`` (DETECTION_IN_PROGRESS meanwhile; instant by
  default) and finds the resources a test marked drifted (``set_stack`` with ``drift``), every
  other resource of the stack IN_SYNC; refused while the stack is busy, as AWS does.
Change sets
* a Modify change says whether it replaces the resource (``Replacement`` True / False), from the
  properties that AWS documents as requiring replacement for the types our templates use (moto
  leaves Replacement out).
Real duration (``configure_timing``; off by default, the instant mode of the fast suite)
* CreateStack, UpdateStack and DeleteStack take ``seconds``: the stack shows CREATE_IN_PROGRESS /
  UPDATE_IN_PROGRESS / DELETE_IN_PROGRESS meanwhile and then its outcome (a delete happens at
  the end); a busy stack refuses updates and deletes with AWS's messages, as it always does;
* every status change is logged (``transitions()``) with its time, for tests of ordering.
Recorder
* each request is written as one whole line, even from concurrent threads.
S3
* conditional ``PutObject`` (If-Match / If-None-Match) is checked and written atomically.
IAM enforcement (``INITIAL_NO_AUTH_ACTION_COUNT`` / ``/moto-api/reset-auth``)
* CloudFormation acts with the caller's permissions, as AWS does without a service role: before
  a stack is created, updated or deleted, the caller must hold the handler permissions of
  ``tools/cfn_handler_permissions.json`` for every resource that operation creates, modifies or
  deletes (and ``ssm:GetParameters`` for SSM-typed parameters); otherwise the resource fails
  with AWS's "is not authorized to perform" reason and the stack rolls back (create: to
  ROLLBACK_COMPLETE, update: to UPDATE_ROLLBACK_COMPLETE; delete ends in DELETE_FAILED); a
  missing ``ssm:GetParameters`` fails the CreateStack / UpdateStack call itself.
  Conditions are not evaluated: every resource of the template counts; a change to a
  resource's Metadata counts as a modification (one test release exercises every type).
* access-denied messages name the action, as AWS's do (moto's S3 says only "Access Denied");
  a multi-object delete of object versions needs ``s3:DeleteObjectVersion``.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time

UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE")
_applied = []
# stack name -> failure to simulate on each of its updates (test hook, see set_stack)
FAIL_UPDATES = {}
HANDLER_PERMISSIONS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cfn_handler_permissions.json")
_CALLER = threading.local()
_MODEL = []
# real-duration mode: how long an operation takes, the operations still running, and the log
TIMING = {"seconds": 0.0}
_PENDING = {}          # stack id -> dict(until, final, delete, backend)
_TRANSITIONS = []      # (unix time, region, stack name, status, Version parameter)
_TIMING_LOCK = threading.RLock()
_PARSE_LOCK = threading.Lock()
# DescribeStacks listings from each stack's cached XML (the unit test compares it with moto's own)
LISTING_CACHE = {"enabled": True}
# drift: stack id -> {logical id: dict(status, differences)} as marked by tests; detections by id
DRIFTS = {}
_DETECTIONS = {}


def configure_timing(spec):
    """``{"seconds": T}``: operations take T seconds (0: instant).  Clears the transition log."""
    with _TIMING_LOCK:
        TIMING["seconds"] = float(spec.get("seconds") or 0.0)
        _PENDING.clear()
        del _TRANSITIONS[:]


def transitions():
    with _TIMING_LOCK:
        return list(_TRANSITIONS)


def _log(stack, status):
    version = None
    try:
        version = stack.resource_map.resolved_parameters.get("Version")
    except Exception:
        pass
    _TRANSITIONS.append((time.time(), stack.region_name, stack.name, status, version))


def _begin(backend, stack, in_progress, delete=False):
    """Hold ``stack`` in ``in_progress`` for TIMING seconds; its outcome is what moto made of it (or,
    for a delete, the deletion itself at the end)."""
    with _TIMING_LOCK:
        final = stack.status
        _PENDING[stack.stack_id] = {"until": time.time() + TIMING["seconds"], "final": final, "delete": delete,
                                    "backend": backend}
        stack.status = in_progress
        _log(stack, in_progress)


def has_pending():
    return bool(_PENDING)


def settle():
    """Finish every operation whose time is up (called before each request is served)."""
    if not _PENDING:
        return
    with _TIMING_LOCK:
        now = time.time()
        for stack_id, op in list(_PENDING.items()):
            if op["until"] > now:
                continue
            del _PENDING[stack_id]
            stack = _find_stack(op["backend"], stack_id)
            if stack is None:
                continue
            if op["delete"]:
                stack.status = "DELETE_IN_PROGRESS"
                op["backend"].delete_stack(stack_id)
                _log(stack, "DELETE_COMPLETE")
            else:
                stack.status = op["final"]
                _log(stack, op["final"])


def _find_stack(backend, name):
    return backend.stacks.get(name) or next((s for s in backend.stacks.values() if s.name == name), None)


def apply():
    if _applied:
        return
    _applied.append(True)
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult, EmptyResult
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import Route, RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.s3 import responses as s3_responses

    Response = cfn_responses.CloudFormationResponse

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = bool(self._get_bool_param("EnableTerminationProtection", False))
        return ActionResult({"StackId": stack.stack_id})

    def continue_update_rollback(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(stack.stack_id, message="Stack %s is in %s state and can not continue update rollback."
                                  % (stack.stack_id, stack.status))
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason="Continue update rollback")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        return EmptyResult()

    original_delete = Response.delete_stack
    original_create = Response.create_stack

    def create_stack(self):
        result = original_create(self)
        if TIMING["seconds"] > 0:
            stack = _find_stack(self.cloudformation_backend, self._get_param("StackName"))
            if stack is not None:
                _begin(self.cloudformation_backend, stack, "CREATE_IN_PROGRESS")
        return result

    def delete_stack(self):
        stack = _find_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is not None and stack.enable_termination_protection:
            raise ValidationError(stack.name, message="Stack [%s] cannot be deleted while TerminationProtection is enabled"
                                  % stack.name)
        if stack is not None and stack.status.endswith("_IN_PROGRESS") and stack.status not in (
                "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            raise ValidationError(stack.name, message="Stack [%s] is in %s state and can not be deleted"
                                  % (stack.name, stack.status))
        if TIMING["seconds"] > 0 and stack is not None:
            if stack.status != "DELETE_IN_PROGRESS":
                _begin(self.cloudformation_backend, stack, "DELETE_IN_PROGRESS", delete=True)
            return EmptyResult()
        return original_delete(self)

    original_update = Response.update_stack

    def update_stack(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status not in UPDATABLE and stack.status != "ROLLBACK_COMPLETE":
            raise ValidationError(stack.stack_id, message="Stack:%s is in %s state and can not be updated."
                                  % (stack.stack_id, stack.status))
        result = original_update(self)
        if stack.name in FAIL_UPDATES and FAIL_UPDATES[stack.name].get("after", 0) > 0:
            FAIL_UPDATES[stack.name]["after"] -= 1       # this update still succeeds
        elif stack.name in FAIL_UPDATES:   # the update "ran", failed on a resource, and rolled back
            failure = FAIL_UPDATES[stack.name]
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
            event = {"status": "UPDATE_FAILED", "logical_id": failure.get("logical_id", "Instances"),
                     "type": failure.get("type", "AWS::AutoScaling::AutoScalingGroup"),
                     "reason": failure.get("reason", "Received 0 SUCCESS signal(s) out of 2.")}
            _add_event(stack, event)
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        if TIMING["seconds"] > 0:
            _begin(self.cloudformation_backend, stack, "UPDATE_IN_PROGRESS")
        return result

    # UsePreviousValue keeps the value the stack has for the key - also one that took its template default (moto
    # only knew the values given at create, and failed with a KeyError on any other); a key the previous template
    # does not declare is refused with AWS's ValidationError.
    from moto.cloudformation.models import CloudFormationBackend

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
                raise ValidationError(message="Invalid input for parameter key %s. Cannot specify usePreviousValue as "
                                      "true for a parameter key not in the previous template" % key)
        return parameters

    CloudFormationBackend._resolve_update_parameters = resolve_update_parameters
    original_param_values = Response._get_param_values

    def get_param_values(self, parameters_list, existing_params):
        for param in parameters_list:
            if param.get("UsePreviousValue") and param.get("ParameterKey") not in existing_params:
                raise ValidationError(message="Invalid input for parameter key %s. Cannot specify usePreviousValue as "
                                      "true for a parameter key not in the previous template" % param.get("ParameterKey"))
        return original_param_values(self, parameters_list, existing_params)

    Response._get_param_values = get_param_values

    # DescribeStacks lists the parameters the *current* template declares (moto keeps dropped
    # ones after an update) and masks NoEcho values by key (moto compares values to keys).
    from moto.cloudformation.models import Stack

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
                # the parameter's value is the SSM path; the looked-up value is ResolvedValue
                entry["ParameterValue"] = inputs.get(key, declared[key].get("Default"))
                entry["ResolvedValue"] = value
            out.append(entry)
        return out

    Stack.parameter_list = property(parameter_list)

    # moto's Stack.outputs resolves every export once per output (quadratic: most of a DescribeStacks of
    # a rack, ~13 ms per stack); resolve them once per call.  The answer is the same.
    def outputs(self):
        exports = {e.value: e.name for e in reversed(self.exports)}
        listed = [{"OutputKey": o.key, "OutputValue": o.value, "Description": o.description,
                   "ExportName": exports.get(o.value)} for o in self.output_map.values() if o]
        return listed or None

    Stack.outputs = property(outputs)

    # moto parses a template with PyYAML's pure-Python loader on every CreateStack, UpdateStack and
    # change set (~70 % of a rack's CreateStack); a fleet sends the same few templates hundreds of
    # times.  Parse each text once and hand out copies (moto keeps and changes what it is given).
    original_parse = Stack.parse_template
    parsed = {}

    def parse_template(template):
        key = template if isinstance(template, str) else None
        if key is None:
            return original_parse(template)
        with _PARSE_LOCK:
            hit = parsed.get(key)
        if hit is None:
            hit = original_parse(template)
            with _PARSE_LOCK:
                if len(parsed) >= 64:
                    parsed.clear()
                parsed[key] = hit
        return copy.deepcopy(hit)

    Stack.parse_template = staticmethod(parse_template)

    # Every CreateStack reads every stack's exports of the region twice (cross-stack references, the
    # uniqueness check), each resolving the stack's outputs again: keep a stack's exports until its
    # outputs, resources or status change (moto builds new output and resource maps on each update).
    original_exports = Stack.exports

    def exports(self):
        cached = self.__dict__.get("_convox_exports")
        if cached is None or cached[0] is not self.output_map or cached[1] is not self.resource_map \
                or cached[2] != self.status:
            cached = (self.output_map, self.resource_map, self.status, original_exports.fget(self))
            self.__dict__["_convox_exports"] = cached
        return cached[3]

    Stack.exports = property(exports)

    # moto makes an RSA private key for every KMS key, symmetric ones included (~80 ms each, a third of a
    # rack's CreateStack): one key pair per key spec serves them all (no test signs with them).
    from moto.kms import models as kms_models
    original_private_key = kms_models.generate_private_key
    private_keys = {}

    def generate_private_key(key_spec):
        if key_spec not in private_keys:
            private_keys[key_spec] = original_private_key(key_spec)
        return private_keys[key_spec]

    kms_models.generate_private_key = generate_private_key

    # moto looks up an instance's AMI by filtering every AMI of the region with fnmatch (~12 ms per instance; a
    # rack's Auto Scaling group launches three): exact image ids are compared for equality instead.  Same answer.
    from moto.ec2.models.amis import AmiBackend
    original_describe_images = AmiBackend.describe_images

    def describe_images(self, ami_ids=None, filters=None, exec_users=None, owners=None):
        if not ami_ids and not exec_users and not owners and filters and list(filters) == ["image-id"]:
            wanted = filters["image-id"]
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            if all(isinstance(w, str) and not any(c in w for c in "*?[") for w in wanted):
                return [ami for ami in self.amis.copy().values() if ami.id in wanted]
        return original_describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)

    AmiBackend.describe_images = describe_images

    # A change of tags alone is an update (moto answers "No updates are to be performed").
    original_validate = Response._validate_different_update

    def validate_different_update(self, incoming_params, stack_body, old_stack):
        incoming_tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}
        if incoming_tags and incoming_tags != (old_stack.tags or {}):
            return None
        return original_validate(self, incoming_params, stack_body, old_stack)

    Response._validate_different_update = validate_different_update
    Response.describe_stacks = _listing_handler(Response.describe_stacks, ActionResult)

    detect_stack_drift, describe_stack_drift_detection_status, describe_stack_resource_drifts = _drift_handlers()
    Response.update_termination_protection = update_termination_protection
    Response.detect_stack_drift = detect_stack_drift
    Response.describe_stack_drift_detection_status = describe_stack_drift_detection_status
    Response.describe_stack_resource_drifts = describe_stack_resource_drifts
    Response.continue_update_rollback = continue_update_rollback
    Response.delete_stack = delete_stack
    Response.update_stack = update_stack
    Response.create_stack = create_stack

    # -- EC2: delete what a stack created ---------------------------------------------------
    def route_table_delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        for association_id in list(self._associations):
            backend.disassociate_route_table(association_id)
        backend.delete_route_table(self.id)

    def route_delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        if self.route_table.id in backend.route_tables:
            self.route_table._routes.pop(self.id, None)

    def association_delete(self, account_id, region_name):
        backend = ec2_backends[account_id][region_name]
        table = backend.route_tables.get(self.route_table_id)
        if table is not None:
            for association_id, subnet_id in list(table._associations.items()):
                if subnet_id == self.subnet_id:
                    backend.disassociate_route_table(association_id)

    # -- change sets say whether a modification replaces the resource ---------------------------
    from moto.cloudformation.models import ChangeSet

    original_diff = ChangeSet.diff

    def change_set_diff(self):
        changes = original_diff(self)
        old = getattr(self.stack.resource_map, "_resource_json_map", {}) or {}
        new = (self.template_dict or {}).get("Resources") or {}
        for item in changes:
            if item.action == "Modify":
                item.replacement = _replacement(item.resource_type, old.get(item.logical_resource_id),
                                                new.get(item.logical_resource_id))
                item.scope = ["Properties"]
        return changes

    ChangeSet.diff = change_set_diff

    RouteTable.delete = route_table_delete
    Route.delete = route_delete
    SubnetRouteTableAssociation.delete = association_delete

    # -- an update modifies only resources whose template or referenced parameter values change
    #    (moto compares new values with the *given* ones only, so every parameter that took its
    #    default at create looks changed and every resource referencing one is "modified").
    from moto.cloudformation import parsing as cfn_parsing

    def build_resource_diff(self, other_template, parameters=None):
        old = self._resource_json_map
        new = other_template["Resources"]
        actions = {
            "Add": [n for n in new if n not in old],
            "Modify": [n for n in new if n in old and _without_metadata(new[n]) != _without_metadata(old[n])],
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
                if n in old and _without_metadata(new[n]) == _without_metadata(old[n]):
                    refs = cfn_parsing.get_references_from_template(new[n])
                    if any(c in refs for c in changed):
                        actions["Modify"].append(n)
        return actions

    cfn_parsing.ResourceMap.build_resource_diff = build_resource_diff

    # -- a modified resource whose type moto cannot update keeps its current state (moto
    #    replaced it with None, so everything referencing it broke)
    original_parse_and_update = cfn_parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        updated = original_parse_and_update(logical_id, resource_json, resources_map, account_id, region_name)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    cfn_parsing.parse_and_update_resource = parse_and_update_resource

    # -- Auto Scaling: an update replaces the group; a group already gone is not an error ---------
    from moto.autoscaling.models import FakeAutoScalingGroup, autoscaling_backends

    def asg_delete_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = autoscaling_backends[account_id][region_name]
        if resource_name in backend.autoscaling_groups:
            backend.delete_auto_scaling_group(resource_name)

    FakeAutoScalingGroup.delete_from_cloudformation_json = classmethod(asg_delete_from_cfn)

    # -- the request recorder: one whole line per request, even from concurrent threads --------
    from moto.moto_api._internal.recorder.models import Recorder

    record_lock = threading.Lock()
    original_record = Recorder._record_request

    def record_request(self, request, body=None):
        with record_lock:
            return original_record(self, request, body)

    Recorder._record_request = record_request

    # -- S3: atomic conditional writes ------------------------------------------------------
    lock = threading.Lock()
    original_put = s3_responses.S3Response.put_object

    def put_object(self):
        with lock:
            return original_put(self)

    s3_responses.S3Response.put_object = put_object

    _apply_iam_enforcement()


# Properties whose change replaces the resource ("Update requires: Replacement" in the AWS resource
# reference), for the types the rack and app templates use.
REPLACEMENT_PROPERTIES = {
    "AWS::DynamoDB::Table": {"TableName", "KeySchema", "LocalSecondaryIndexes"},
    "AWS::S3::Bucket": {"BucketName", "ObjectLockEnabled"},
    "AWS::Logs::LogGroup": {"LogGroupName"},
    "AWS::KMS::Key": {"KeySpec", "MultiRegion"},
    "AWS::SQS::Queue": {"QueueName", "FifoQueue"},
    "AWS::SNS::Topic": {"TopicName", "FifoTopic"},
    "AWS::IAM::Role": {"RoleName", "Path"},
    "AWS::EC2::VPC": {"CidrBlock", "InstanceTenancy"},
    "AWS::EC2::Subnet": {"CidrBlock", "AvailabilityZone", "VpcId"},
    "AWS::ECS::Cluster": {"ClusterName"},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {"Name", "Scheme"},
    "AWS::ECR::Repository": {"RepositoryName"},
}


def _replacement(resource_type, old, new):
    """"True" when a property whose change requires replacement changed, else "False"."""
    old_props = (old or {}).get("Properties") or {}
    new_props = (new or {}).get("Properties") or {}
    changed = {k for k in set(old_props) | set(new_props) if old_props.get(k) != new_props.get(k)}
    if (old or {}).get("Type") != (new or {}).get("Type") or changed & REPLACEMENT_PROPERTIES.get(resource_type, set()):
        return "True"
    return "False"


def _without_metadata(resource):
    return {k: v for k, v in (resource or {}).items() if k != "Metadata"}


class _Same:
    """A value compared by identity in a stack's fingerprint (moto's maps define == as a deep compare)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Same) and other.value is self.value

    __hash__ = None


def _fingerprint(stack):
    """Everything a stack's DescribeStacks member is made from: scalars and small containers by value,
    moto's resource and output maps and the parsed template by identity (moto builds new ones on
    each create or update), the events by count (every operation adds some)."""
    key = []
    for name, value in vars(stack).items():
        if name.startswith("_convox"):
            continue
        if name == "events":
            key.append((name, len(value)))
        elif isinstance(value, dict) and name != "template_dict":
            key.append((name, dict(value)))
        elif isinstance(value, (list, tuple, set)):
            key.append((name, tuple(value)))
        elif value is None or isinstance(value, (str, int, float, bool)):
            key.append((name, value))
        else:
            key.append((name, _Same(value)))
    return key


def _listing_handler(original, action_result):
    """DescribeStacks without a StackName (a paginated listing of the region) from each stack's XML
    member, kept until the stack changes: moto's generic serializer spends ~2 ms per rack stack on
    every listing, and the local endpoint serves CloudFormation one request at a time, so a fleet's
    polls held up its UpdateStacks.  Same answer, byte for byte (tests/unit/tools/test_motoext_listing.py)."""

    def member(context, stack):
        key = _fingerprint(stack)
        cached = stack.__dict__.get("_convox_member")
        if cached is not None and cached[0] == key:
            return cached[1]
        body = action_result({"Stacks": [stack]}).execute_result(context)[2]
        xml = body[body.index("<Stacks>") + len("<Stacks>"):body.rindex("</Stacks>")]
        stack.__dict__["_convox_member"] = (key, xml)
        return xml

    class Listing(action_result):
        def __init__(self, page, next_token):
            super().__init__({"Stacks": page[:1], "NextToken": next_token})
            self.page = page

        def execute_result(self, context):
            status, headers, body = super().execute_result(context)
            start, end = body.index("<Stacks>") + len("<Stacks>"), body.rindex("</Stacks>")
            return status, headers, body[:start] + "".join(member(context, s) for s in self.page) + body[end:]

    def describe_stacks(self):
        if self._get_param("StackName") or not LISTING_CACHE["enabled"]:
            return original(self)
        result = original(self)      # moto's paging (50 a page); the serializing is ours
        page, next_token = result.result["Stacks"], result.result.get("NextToken")
        if not page:
            return result
        return Listing(page, next_token)

    return describe_stacks


def _add_event(stack, ev):
    stack._add_stack_event(ev["status"], resource_status_reason=ev.get("reason"))
    last = stack.events[-1]
    last.logical_resource_id = ev.get("logical_id", stack.name)
    last.physical_resource_id = ev.get("physical_id", "")
    last.resource_type = ev.get("type", "AWS::CloudFormation::Stack")


# -- drift detection -----------------------------------------------------------------------------
def _drift_handlers():
    import datetime
    import uuid

    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    def now():
        return datetime.datetime.now(datetime.timezone.utc)

    def detect_stack_drift(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status.endswith("_IN_PROGRESS") or stack.status in (
                "CREATE_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED"):
            raise ValidationError(stack.stack_id, message="Stack [%s] is in %s state and drift detection cannot be "
                                  "performed" % (stack.name, stack.status))
        detection_id = str(uuid.uuid4())
        wanted = self._get_param("LogicalResourceIds") or None
        marked = DRIFTS.get(stack.stack_id, {})
        found = {k: v for k, v in marked.items() if wanted is None or k in wanted}
        with _TIMING_LOCK:
            _DETECTIONS[detection_id] = {"stack_id": stack.stack_id, "started": now(), "found": found, "wanted": wanted,
                                         "until": time.time() + TIMING["seconds"] / 4.0}
        return ActionResult({"StackDriftDetectionId": detection_id})

    def _detection(detection_id):
        d = _DETECTIONS.get(detection_id)
        if d is None:
            raise ValidationError(detection_id, message="Drift detection %s was not found" % detection_id)
        return d, time.time() >= d["until"]

    def describe_stack_drift_detection_status(self):
        d, done = _detection(self._get_param("StackDriftDetectionId"))
        out = {"StackId": d["stack_id"], "StackDriftDetectionId": self._get_param("StackDriftDetectionId"),
               "DetectionStatus": "DETECTION_COMPLETE" if done else "DETECTION_IN_PROGRESS",
               "Timestamp": d["started"]}
        if done:
            out["StackDriftStatus"] = "DRIFTED" if d["found"] else "IN_SYNC"
            out["DriftedStackResourceCount"] = len(d["found"])
        return ActionResult(out)

    def describe_stack_resource_drifts(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        latest = [d for d in _DETECTIONS.values() if d["stack_id"] == stack.stack_id and time.time() >= d["until"]]
        if not latest:
            return ActionResult({"StackResourceDrifts": []})
        d = max(latest, key=lambda x: x["started"])
        filters = self._get_param("StackResourceDriftStatusFilters") or None
        resources = (stack.template_dict or {}).get("Resources") or {}
        drifts = []
        for logical_id in sorted(resources):
            if d["wanted"] is not None and logical_id not in d["wanted"]:
                continue
            marked = d["found"].get(logical_id)
            status = (marked or {}).get("status", "MODIFIED") if marked is not None else "IN_SYNC"
            if filters and status not in filters:
                continue
            physical = stack.resource_map.get(logical_id) if logical_id in stack.resource_map else None
            entry = {"StackId": stack.stack_id, "LogicalResourceId": logical_id,
                     "PhysicalResourceId": getattr(physical, "physical_resource_id", None) or logical_id,
                     "ResourceType": resources[logical_id].get("Type"), "StackResourceDriftStatus": status,
                     "Timestamp": d["started"], "PropertyDifferences": []}
            for diff in (marked or {}).get("differences") or []:
                entry["PropertyDifferences"].append({"PropertyPath": diff.get("path", "/"),
                                                     "ExpectedValue": str(diff.get("expected", "")),
                                                     "ActualValue": str(diff.get("actual", "")),
                                                     "DifferenceType": diff.get("type", "NOT_EQUAL")})
            drifts.append(entry)
        return ActionResult({"StackResourceDrifts": drifts})

    return detect_stack_drift, describe_stack_drift_detection_status, describe_stack_resource_drifts


def set_stack(spec, account="123456789012"):
    """Test hook: put a stack into ``status``, append events (each a dict of logical_id, type,
    status, reason), and with ``fail_updates`` (a dict of logical_id, type, reason, and ``after``:
    how many updates still succeed first; false to clear) make every later update of the stack fail
    on that resource and roll back; ``drift`` (logical id -> status MODIFIED / DELETED and
    ``differences``, each path, expected, actual, type; false to clear) marks resources drifted
    for the next drift detection.  ``delete: true`` deletes the stack as someone else would, in
    whatever state it is.  Returns (http code, payload)."""
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[spec.get("account", account)][spec.get("region", "us-east-1")]
    stack = _find_stack(backend, spec["stack_name"])
    if stack is None:
        return 404, {"error": "stack %s not found" % spec["stack_name"]}
    for ev in spec.get("events", []):
        _add_event(stack, ev)
    if "fail_updates" in spec:
        if spec["fail_updates"]:
            FAIL_UPDATES[stack.name] = dict(spec["fail_updates"]) if isinstance(spec["fail_updates"], dict) else {}
        else:
            FAIL_UPDATES.pop(stack.name, None)
    if spec.get("delete"):
        stack.enable_termination_protection = False
        backend.delete_stack(stack.stack_id)
        return 200, {"stack_id": stack.stack_id, "status": stack.status}
    if "status" in spec:
        stack.status = spec["status"]
        stack.status_reason = spec.get("reason")
    if "termination_protection" in spec:
        stack.enable_termination_protection = bool(spec["termination_protection"])
    if "drift" in spec:      # {logical id: {"status": MODIFIED | DELETED, "differences": [...]}}; false clears
        if spec["drift"]:
            DRIFTS[stack.stack_id] = {k: dict(v or {}) for k, v in spec["drift"].items()}
        else:
            DRIFTS.pop(stack.stack_id, None)
    return 200, {"stack_id": stack.stack_id, "status": stack.status}


# -- IAM enforcement: CloudFormation acts with the caller's permissions -----------------------
def handler_permissions():
    """The handler-permission model (read once)."""
    if not _MODEL:
        with open(HANDLER_PERMISSIONS_FILE) as f:
            _MODEL.append(json.load(f))
    return _MODEL[0]


def _enforcing():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def _checked_caller():
    """Whether this CloudFormation request's caller is to be checked (IAM enforced, signed request)."""
    return bool(getattr(_CALLER, "authorization", None)) and _enforcing()


def _not_authorized(arn, action):
    """AWS's access-denied sentence."""
    return "User: %s is not authorized to perform: %s because no identity-based policy allows the %s action" % (
        arn, action, action)


def _caller_denies(actions):
    """(first action of ``actions`` the calling CloudFormation user may not perform, user ARN),
    or (None, None) when all are allowed or IAM is not enforced."""
    if not actions or not _checked_caller():
        return None, None
    auth = _CALLER.authorization
    from moto.iam.access_control import IAMPolicy, PermissionResult, create_access_key
    key_id = auth.split("Credential=", 1)[1].split("/", 1)[0]
    key = create_access_key(account_id=_CALLER.account, partition="aws", access_key_id=key_id, headers={})
    policies = [IAMPolicy(p) for p in key.collect_policies()]
    for action in actions:
        results = [p.is_action_permitted(action) for p in policies]
        if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
            return action, key.arn
    return None, None


def _template_dict(body):
    if isinstance(body, dict):
        return body
    try:
        return json.loads(body)
    except ValueError:
        import yaml
        return yaml.safe_load(body)


def _needed(template, names, op, model):
    """[(logical id, type, action)] that ``op`` on the ``names`` resources of ``template`` needs."""
    resources = template.get("Resources") or {}
    out = []
    for name in names:
        res = resources.get(name) or {}
        if op == "delete" and res.get("DeletionPolicy") == "Retain":
            continue
        for action in model["resources"].get(res.get("Type"), {}).get(op, []):
            out.append((name, res.get("Type"), action))
    return out


def _check_ssm(template, model):
    """CloudFormation resolves SSM-typed parameters with the caller's permissions before it
    starts; without them the call itself fails (ValidationError, as on AWS)."""
    from moto.cloudformation.exceptions import ValidationError
    params = template.get("Parameters") or {}
    if any(str((p or {}).get("Type", "")).startswith("AWS::SSM::Parameter::") for p in params.values()):
        action, arn = _caller_denies(model["stack"]["ssm_parameters"])
        if action:
            raise ValidationError(message=_not_authorized(arn, action))


def _first_denied(needed):
    action, arn = _caller_denies(list(dict.fromkeys(a for dummy, dummy2, a in needed)))
    if action is None:
        return None
    name, rtype = next((n, t) for n, t, a in needed if a == action)
    return {"logical_id": name, "type": rtype, "action": action, "arn": arn}


def _denied_reason(denied):
    return ('Resource handler returned message: "%s (Status Code: 403)" (HandlerErrorCode: AccessDenied)'
            % _not_authorized(denied["arn"], denied["action"]))


def _fail(stack, denied, resource_status, final_statuses):
    _add_event(stack, {"status": resource_status, "logical_id": denied["logical_id"], "type": denied["type"],
                       "reason": _denied_reason(denied)})
    for status in final_statuses:
        stack._add_stack_event(status)
    stack.status = final_statuses[-1]


def _apply_iam_enforcement():
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation.models import CloudFormationBackend, Stack
    from moto.core.responses import BaseResponse
    from moto.iam import access_control
    from moto.s3 import exceptions as s3_exceptions
    from moto.s3 import responses as s3_responses

    Response = cfn_responses.CloudFormationResponse
    original_call_action = BaseResponse.call_action

    def call_action(self):
        _CALLER.authorization = self.headers.get("Authorization")
        _CALLER.account = self.current_account
        _CALLER.token = self._get_param("ClientRequestToken")
        try:
            return original_call_action(self)
        finally:
            _CALLER.authorization = _CALLER.token = None

    Response.call_action = call_action

    # events carry the ClientRequestToken of the operation that caused them, as on AWS
    original_add_event = Stack._add_stack_event

    def add_stack_event(self, *args, **kwargs):
        original_add_event(self, *args, **kwargs)
        if self.events and getattr(_CALLER, "token", None):
            self.events[-1].client_request_token = _CALLER.token

    Stack._add_stack_event = add_stack_event

    original_create = CloudFormationBackend.create_stack

    def create_stack(self, name, template, parameters, *args, **kwargs):
        if not _checked_caller():
            return original_create(self, name, template, parameters, *args, **kwargs)
        model = handler_permissions()
        tpl = _template_dict(template)
        _check_ssm(tpl, model)
        denied = _first_denied(_needed(tpl, list(tpl.get("Resources") or {}), "create", model))
        if denied is None:
            return original_create(self, name, template, parameters, *args, **kwargs)
        empty = json.dumps({"Parameters": tpl.get("Parameters") or {}, "Resources": {}})
        stack = original_create(self, name, empty, parameters, *args, **kwargs)
        _fail(stack, denied, "CREATE_FAILED", ("ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"))
        return stack

    original_update = CloudFormationBackend.update_stack

    def update_stack(self, name, template, role_arn, parameters, tags):
        if not _checked_caller():
            return original_update(self, name, template, role_arn, parameters, tags)
        stack = self.get_stack(name)
        model = handler_permissions()
        tpl = _template_dict(template)
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        diff = stack.resource_map.build_resource_diff(tpl, resolved)
        current = stack.template_dict or {}
        old = current.get("Resources") or {}
        # a change to a resource's Metadata counts here (so one test release can exercise the
        # update permissions of every type) although moto's update skips it
        diff["Modify"] += [n for n, r in (tpl.get("Resources") or {}).items()
                           if n in old and r != old[n] and n not in diff["Modify"]]
        _check_ssm(tpl, model)
        needed = (_needed(tpl, diff["Add"], "create", model)
                  + _needed(tpl, diff["Modify"], "update", model) + _needed(current, diff["Remove"], "delete", model))
        denied = _first_denied(needed)
        if denied is None:
            return original_update(self, name, template, role_arn, parameters, tags)
        stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        _fail(stack, denied, "UPDATE_FAILED", ("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"))
        return stack

    original_delete = CloudFormationBackend.delete_stack

    def delete_stack(self, name_or_stack_id):
        stack = _find_stack(self, name_or_stack_id) if _checked_caller() else None
        if stack is not None and stack.status != "ROLLBACK_COMPLETE":
            current = stack.template_dict or {}
            denied = _first_denied(_needed(current, list(current.get("Resources") or {}), "delete", handler_permissions()))
            if denied is not None:
                stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
                _fail(stack, denied, "DELETE_FAILED", ("DELETE_FAILED",))
                return None
        return original_delete(self, name_or_stack_id)

    CloudFormationBackend.create_stack = create_stack
    CloudFormationBackend.update_stack = update_stack
    CloudFormationBackend.delete_stack = delete_stack

    # -- access-denied messages that name the action (AWS's do; moto's S3 ones do not) ---------
    def s3_denied(message, bucket=None):
        if bucket is None:
            err = s3_exceptions.S3AccessDeniedError.__new__(s3_exceptions.S3AccessDeniedError)
        else:
            err = s3_exceptions.BucketAccessDeniedError.__new__(s3_exceptions.BucketAccessDeniedError)
            err.bucket_name = bucket
        s3_exceptions.S3ClientError.__init__(err, "AccessDenied", message)
        return err

    def raise_s3_access_denied(self):
        raise s3_denied(_not_authorized(self._access_key.arn, self._action), self._data.get("BucketName"))

    access_control.S3IAMRequest._raise_access_denied = raise_s3_access_denied

    original_s3_auth = s3_responses.S3Response._authenticate_and_authorize_s3_action

    def s3_auth(self, *args, **kwargs):
        body = self.body or b""
        if isinstance(body, str):
            body = body.encode()
        if self.data.get("Action") == "DeleteObject" and self.is_delete_keys() and b"<VersionId>" in body:
            self.data["Action"] = "DeleteObjectVersion"
        return original_s3_auth(self, *args, **kwargs)

    s3_responses.S3Response._authenticate_and_authorize_s3_action = s3_auth
