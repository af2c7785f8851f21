# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which exports a stack update would change.  Pure: two templates and the parameters that change in.

CloudFormation refuses to change or remove an export another stack imports: the update fails and rolls back. An
exported output may change when it disappears, when its value expression changes, when it uses a parameter whose
value changes, or when it uses a resource the update replaces - a resource is replaced when one of its
create-only properties changes (AWS's resource schemas, ``createOnlyProperties``: the table below, for the types
racks and apps use, checked against cfn-lint's copy of the schemas by the unit tests), or when its type changes;
a replaced resource's new id reaches every create-only property that references it, and so on."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

CREATE_ONLY = {
    "AWS::AutoScaling::AutoScalingGroup": {"AutoScalingGroupName", "InstanceId"},
    "AWS::DynamoDB::Table": {"ImportSourceSpecification", "TableName"},
    "AWS::EC2::EIP": {"Address", "IpamPoolId", "NetworkBorderGroup", "TransferAddress"},
    "AWS::EC2::LaunchTemplate": {"LaunchTemplateName"},
    "AWS::EC2::NatGateway": {"AllocationId", "AvailabilityMode", "ConnectivityType", "PrivateIpAddress", "SubnetId", "VpcId"},
    "AWS::EC2::Route": {"DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "RouteTableId"},
    "AWS::EC2::RouteTable": {"VpcId"},
    "AWS::EC2::SecurityGroup": {"GroupDescription", "GroupName", "VpcId"},
    "AWS::EC2::SecurityGroupIngress": {"CidrIp", "CidrIpv6", "FromPort", "GroupId", "GroupName", "IpProtocol",
                                       "SourcePrefixListId", "SourceSecurityGroupId", "SourceSecurityGroupName",
                                       "SourceSecurityGroupOwnerId", "ToPort"},
    "AWS::EC2::Subnet": {"AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength",
                         "Ipv6IpamPoolId", "Ipv6Native", "Ipv6NetmaskLength", "OutpostArn", "VpcId"},
    "AWS::EC2::SubnetRouteTableAssociation": {"RouteTableId", "SubnetId"},
    "AWS::EC2::VPC": {"CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "VpcEncryptionControl"},
    "AWS::EC2::VPCGatewayAttachment": {"VpcId"},
    "AWS::ECR::Repository": {"EncryptionConfiguration", "RepositoryName"},
    "AWS::ECS::Cluster": {"ClusterName"},
    "AWS::ECS::CapacityProvider": {"ClusterName", "Name"},
    "AWS::ECS::ClusterCapacityProviderAssociations": {"Cluster"},
    "AWS::ECS::Service": {"Cluster", "Role", "SchedulingStrategy", "ServiceName"},
    "AWS::ECS::TaskDefinition": {"ContainerDefinitions", "Cpu", "EnableFaultInjection", "EphemeralStorage",
                                 "ExecutionRoleArn", "Family", "InferenceAccelerators", "IpcMode", "Memory",
                                 "NetworkMode", "PidMode", "PlacementConstraints", "ProxyConfiguration",
                                 "RequiresCompatibilities", "RuntimePlatform", "TaskRoleArn", "Volumes"},
    "AWS::EFS::FileSystem": {"AvailabilityZoneName", "Encrypted", "KmsKeyId", "PerformanceMode"},
    "AWS::ElasticLoadBalancingV2::Listener": {"LoadBalancerArn"},
    "AWS::ElasticLoadBalancingV2::ListenerRule": {"ListenerArn"},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {"Name", "Scheme", "Type"},
    "AWS::ElasticLoadBalancingV2::TargetGroup": {"IpAddressType", "Name", "Port", "Protocol", "ProtocolVersion",
                                                 "TargetType", "VpcId"},
    "AWS::IAM::InstanceProfile": {"InstanceProfileName", "Path"},
    "AWS::IAM::Role": {"Path", "RoleName"},
    "AWS::KMS::Alias": {"AliasName"},
    "AWS::Logs::LogGroup": {"LogGroupName"},
    "AWS::RDS::DBInstance": {"BackupTarget", "CharacterSetName", "CustomIAMInstanceProfile", "DBClusterIdentifier",
                             "DBInstanceIdentifier", "DBName", "DBSubnetGroupName", "DBSystemId", "KmsKeyId",
                             "MasterUsername", "NcharCharacterSetName", "SourceRegion", "StorageEncrypted", "Timezone"},
    "AWS::S3::Bucket": {"BucketName", "BucketNamePrefix", "BucketNamespace"},
    "AWS::S3::BucketPolicy": {"Bucket"},
    "AWS::SNS::Topic": {"FifoTopic", "TopicName"},
    "AWS::SQS::Queue": {"FifoQueue", "QueueName"},
}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def references(value: Any, conditions: Mapping[str, Any]) -> set[str]:
    """Every name ``value`` uses: Ref, Fn::GetAtt, ${...} of Fn::Sub, and through a condition the names it uses."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= _intrinsic_references(key, item, conditions)
    elif isinstance(value, list):
        for item in value:
            found |= references(item, conditions)
    return found


def _intrinsic_references(key: str, item: Any, conditions: Mapping[str, Any]) -> set[str]:
    """The names one key of a template mapping uses (an intrinsic function's, or whatever its value holds)."""
    if key == "Ref" and isinstance(item, str):
        return {item}
    if key == "Fn::GetAtt":
        return {item[0] if isinstance(item, list) else str(item).split(".", maxsplit=1)[0]}
    found: set[str] = set()
    if key == "Fn::Sub":
        text = item[0] if isinstance(item, list) else item
        if isinstance(text, str):
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([A-Za-z0-9.:]+)\}", text)}
        if isinstance(item, list) and len(item) > 1:
            found |= references(item[1], conditions)
        return found
    if key in ("Fn::If", "Condition"):
        name = item[0] if key == "Fn::If" and isinstance(item, list) else item
        if isinstance(name, str) and name in conditions:
            found |= references(conditions[name], conditions)
        if key == "Fn::If" and isinstance(item, list):
            found |= references(item[1:], conditions)
        return found
    return references(item, conditions)


def replaced_resources(old: Mapping[str, Any], new: Mapping[str, Any], changed: set[str]) -> dict[str, str]:
    """{logical id: why it is replaced} for a step from template ``old`` to ``new`` where the parameters ``changed``
    take new values: its type changes, or a create-only property changes (its expression, or a parameter or a
    replaced resource it uses), transitively."""
    old_res = (old or {}).get("Resources") or {}
    new_res = (new or {}).get("Resources") or {}
    conditions = (new or {}).get("Conditions") or {}
    replaced: dict[str, str] = {}
    moved = True
    while moved:
        moved = False
        for logical_id, res in new_res.items():
            if logical_id in replaced or logical_id not in old_res or not isinstance(res, dict):
                continue
            before = old_res[logical_id] if isinstance(old_res[logical_id], dict) else {}
            rtype = res.get("Type")
            if before.get("Type") != rtype:
                replaced[logical_id] = "its type changes"
            else:
                props, old_props = res.get("Properties") or {}, before.get("Properties") or {}
                for prop in sorted(CREATE_ONLY.get(str(rtype), ())):
                    uses = references(props.get(prop), conditions)
                    if _canonical(props.get(prop)) != _canonical(old_props.get(prop)):
                        replaced[logical_id] = "its %s changes" % prop
                    elif uses & changed:
                        replaced[logical_id] = "its %s changes (parameter %s)" % (prop, sorted(uses & changed)[0])
                    elif uses & set(replaced):
                        replaced[logical_id] = "its %s changes (%s is replaced)" % (prop, sorted(uses & set(replaced))[0])
                    else:
                        continue
                    break
            if logical_id in replaced:
                moved = True
    return replaced


def exported_outputs(template: Mapping[str, Any] | None) -> dict[str, Any]:
    """{output key: output} of the outputs ``template`` exports."""
    outputs = (template or {}).get("Outputs") or {}
    return {k: v for k, v in outputs.items() if isinstance(v, dict) and v.get("Export")}


def changed_exports(old: Mapping[str, Any], new: Mapping[str, Any], changed: set[str]) -> dict[str, str]:
    """{output key: why its exported value changes} for a step from ``old`` to ``new`` (parameters ``changed``)."""
    replaced = replaced_resources(old, new, changed)
    conditions = (new or {}).get("Conditions") or {}
    new_outputs = (new or {}).get("Outputs") or {}
    out: dict[str, str] = {}
    for key, output in exported_outputs(old).items():
        now = new_outputs.get(key)
        if not isinstance(now, dict) or not now.get("Export"):
            out[key] = "the release removes it"
            continue
        uses = references(now.get("Value"), conditions)
        if _canonical(now.get("Value")) != _canonical(output.get("Value")):
            out[key] = "its value changes"
        elif uses & changed:
            out[key] = "parameter %s changes" % sorted(uses & changed)[0]
        elif uses & set(replaced):
            logical_id = sorted(uses & set(replaced))[0]
            kind = ((new or {}).get("Resources") or {})[logical_id].get("Type")
            out[key] = "%s %s is replaced: %s" % (kind, logical_id, replaced[logical_id])
    return out
