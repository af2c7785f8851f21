# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation as AWS documents it, where moto differs.  Each patch below names the AWS rule it stands for."""

from __future__ import annotations

from .common import CALLER, UPDATABLE, find_stack
from .patching import Patches

PATCHES = Patches("cfn")
RESPONSE = "moto.cloudformation.responses:CloudFormationResponse"
BACKEND = "moto.cloudformation.models:CloudFormationBackend"
STACK = "moto.cloudformation.models:Stack"


def _validation_error(message, name=None):
    from moto.cloudformation.exceptions import ValidationError
    return ValidationError(name, message=message) if name is not None else ValidationError(message=message)


# -- the request being served --------------------------------------------------------------------------------
@PATCHES.wrap("moto.cloudformation.responses:CloudFormationResponse.call_action",
              "(context) who calls and with which ClientRequestToken, for the rules below and the IAM model")
def _call_action(original):
    def call_action(self):
        CALLER.authorization = self.headers.get("Authorization")
        CALLER.account = self.current_account
        CALLER.token = self._get_param("ClientRequestToken")
        try:
            return original(self)
        finally:
            CALLER.authorization = CALLER.token = None
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


@PATCHES.wrap(RESPONSE + ".continue_update_rollback",
              "ContinueUpdateRollback, only from UPDATE_ROLLBACK_FAILED (ValidationError otherwise)", adds=True)
def _continue_update_rollback(dummy):
    from moto.core.responses import EmptyResult

    def continue_update_rollback(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise _validation_error("Stack %s is in %s state and can not continue update rollback."
                                    % (stack.stack_id, stack.status), stack.stack_id)
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason="Continue update rollback")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        return EmptyResult()
    return continue_update_rollback


@PATCHES.wrap(RESPONSE + ".delete_stack",
              "DeleteStack is refused while termination protection is on, and while another operation runs")
def _delete_stack(original):
    def delete_stack(self):
        stack = find_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is not None and stack.enable_termination_protection:
            raise _validation_error("Stack [%s] cannot be deleted while TerminationProtection is enabled" % stack.name,
                                    stack.name)
        if stack is not None and stack.status.endswith("_IN_PROGRESS") and stack.status not in (
                "REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            raise _validation_error("Stack [%s] is in %s state and can not be deleted" % (stack.name, stack.status),
                                    stack.name)
        return original(self)
    return delete_stack


@PATCHES.wrap(RESPONSE + ".update_stack", "UpdateStack is refused unless the stack is in an updatable state")
def _update_stack(original):
    def update_stack(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status not in UPDATABLE and stack.status != "ROLLBACK_COMPLETE":
            raise _validation_error("Stack:%s is in %s state and can not be updated." % (stack.stack_id, stack.status),
                                    stack.stack_id)
        return original(self)
    return update_stack


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
# Properties whose change replaces the resource ("Update requires: Replacement" in the AWS resource reference), for
# the types the rack and app templates use.
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


def replacement(resource_type, old, new):
    """"True" when a property whose change requires replacement changed, else "False"."""
    old_props = (old or {}).get("Properties") or {}
    new_props = (new or {}).get("Properties") or {}
    changed = {k for k in set(old_props) | set(new_props) if old_props.get(k) != new_props.get(k)}
    if (old or {}).get("Type") != (new or {}).get("Type") or changed & REPLACEMENT_PROPERTIES.get(resource_type, set()):
        return "True"
    return "False"


def without_metadata(resource):
    return {k: v for k, v in (resource or {}).items() if k != "Metadata"}


@PATCHES.wrap("moto.cloudformation.models:ChangeSet.diff",
              "a Modify change of a change set says whether it replaces the resource (Replacement True/False)")
def _change_set_diff(original):
    def change_set_diff(self):
        changes = original(self)
        old = getattr(self.stack.resource_map, "_resource_json_map", {}) or {}
        new = (self.template_dict or {}).get("Resources") or {}
        for item in changes:
            if item.action == "Modify":
                item.replacement = replacement(item.resource_type, old.get(item.logical_resource_id),
                                               new.get(item.logical_resource_id))
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


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests."""

