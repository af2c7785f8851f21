# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Convox-shaped racks and releases for the local endpoint, written from facts about Convox's own (issue 30).

The facts, read in Convox's source (github.com/convox/rack, ``git show <tag>:<path>``; github.com/convox/version):

* the rack template of four releases - 20160901022059 (``provider/aws/dist/rack.json``), 20171102200537 (the first
  published as ``<v>/rack.json``), 20180923002725 (the first whose installer tags the rack) and 20260421192651 (the
  last tag) - has the parameters listed in ``RELEASES`` (names, types, defaults, NoEcho, constraints, as declared;
  ``Version`` gets its release as default when published: ``provider/aws/Makefile``), that many resources and
  outputs (``Password`` refers to the NoEcho parameter of that name; the exports are named ``<rack>:<Output>``) and
  that size in bytes - every one above CloudFormation's 51,200-byte TemplateBody limit;
* a channel: ``versions.json`` (``{version, description, published, required}``, release order), ``<v>/formation.json``
  for every release and ``<v>/rack.json`` since 20171102200537; no ``app.json`` (the rack renders its apps itself);
* ``convox install`` (``provider/aws/system.go``): a stack named like the rack, ``TemplateURL`` of the release's
  rack.json in Convox's bucket, parameters ``Password`` (30 random characters), ``Version`` and ``ClientId``, tags
  ``System=convox`` and ``Type=rack`` (no ``Rack`` tag; none at all before 20180923002725), ``CAPABILITY_IAM``;
* an app (``provider/aws/apps.go``, Generation 2): stack ``<rack>-<app>``, parameters ``LogBucket``, ``LogDriver``,
  ``Rack``, ``SyslogDestination``, ``SyslogFormat`` (no ``Version``), tags ``Generation=2``, ``System=convox``,
  ``Rack``, ``Version`` (the rack's release), ``Type=app``, ``Name``.

What the endpoint cannot run - Lambda-backed custom resources, the rack's own code - is replaced by stand-in
resources it supports (topics, queues, a bucket, a log group), padded to the release's real size, so that every
template here goes by URL as Convox's do.  Nothing here is Convox's template; only its interface is.

    python tools/convox_fixtures.py channel DIR [--bucket B --prefix P --endpoint URL]   # a channel in Convox's layout
    python tools/convox_fixtures.py sizes                                                # each release's template size
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import string
import sys
from typing import Any

VERSIONS = ["20160901022059", "20171102200537", "20180923002725", "20260421192651"]
# which releases the fixture channel marks required (Convox's real flags are in its versions.json, not its source)
REQUIRED = {"20180923002725"}
STAND_INS = ("AWS::SNS::Topic", "AWS::SQS::Queue")
APP_PARAMETERS = ("LogBucket", "LogDriver", "Rack", "SyslogDestination", "SyslogFormat")
SSM_IMAGE = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"
SSM_IMAGES = (SSM_IMAGE, "/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id")


@dataclasses.dataclass
class Release:
    size: int                   # bytes of the real template
    resources: int
    outputs: int
    tagged: bool                # the installer tags the rack (System=convox, Type=rack)
    rack_json: bool             # published as <v>/rack.json (else only <v>/formation.json)
    exports: list[str]
    parameters: list[tuple[Any, ...]]     # (name, type, default or None, {constraints})


RELEASES = {
    '20160901022059': Release(
        size=61987, resources=71, outputs=25, tagged=False, rack_json=False,
        exports=[],
        parameters=[
            ('Ami', 'String', ''),
            ('ApiCpu', 'String', '128'),
            ('ApiMemory', 'String', '128'),
            ('Autoscale', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('ClientId', 'String', 'dev@convox.com'),
            ('ContainerDisk', 'Number', '10'),
            ('Development', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Encryption', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('ExistingVpc', 'String', ''),
            ('Internal', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InstanceBootCommand', 'String', ''),
            ('InstanceRunCommand', 'String', ''),
            ('InstanceCount', 'Number', '3', {'MinValue': '2'}),
            ('InstanceType', 'String', 't2.small'),
            ('InstanceUpdateBatchSize', 'Number', '1', {'MinValue': '1'}),
            ('Key', 'String', ''),
            ('Password', 'String', None, {'NoEcho': True, 'MinLength': '1', 'MaxLength': '50'}),
            ('Private', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PrivateApi', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Subnet0CIDR', 'String', '10.0.1.0/24'),
            ('Subnet1CIDR', 'String', '10.0.2.0/24'),
            ('Subnet2CIDR', 'String', '10.0.3.0/24'),
            ('SubnetPrivate0CIDR', 'String', '10.0.4.0/24'),
            ('SubnetPrivate1CIDR', 'String', '10.0.5.0/24'),
            ('SubnetPrivate2CIDR', 'String', '10.0.6.0/24'),
            ('SwapSize', 'Number', '5'),
            ('Version', 'String', None, {'MinLength': '1'}),
            ('VolumeSize', 'Number', '50'),
            ('VPCCIDR', 'String', '10.0.0.0/16'),
            ('Tenancy', 'String', 'default', {'AllowedValues': ['default', 'dedicated']}),
        ]),
    '20171102200537': Release(
        size=87802, resources=85, outputs=44, tagged=False, rack_json=True,
        exports=(
            "Cluster Domain EncryptionKey RouterListener80 RouterListener443 ServiceRole Subnet0 Subnet1 Subnet2 "
            "Vpc Vpccidr "
        ).split(),
        parameters=[
            ('Ami', 'String', ''),
            ('ApiCount', 'String', '2'),
            ('ApiMemory', 'String', '256'),
            ('Autoscale', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('BuildCpu', 'String', '0'),
            ('BuildImage', 'String', ''),
            ('BuildInstance', 'String', ''),
            ('BuildMemory', 'String', '1000'),
            ('BuildVolumeSize', 'Number', '200'),
            ('ClientId', 'String', 'dev@convox.com'),
            ('ContainerDisk', 'Number', '10'),
            ('Development', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('EncryptEbs', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Encryption', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('ExistingVpc', 'String', ''),
            ('HttpProxy', 'String', ''),
            ('Internal', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InstanceBootCommand', 'String', ''),
            ('InstanceRunCommand', 'String', ''),
            ('InstanceCount', 'Number', '3', {'MinValue': '3'}),
            ('InstanceType', 'String', 't2.small'),
            ('InstanceUpdateBatchSize', 'Number', '1', {'MinValue': '1'}),
            ('InstanceSecurityGroup', 'String', ''),
            ('InternetGateway', 'String', ''),
            ('Key', 'String', ''),
            ('OnDemandMinCount', 'Number', '3'),
            ('Password', 'String', None, {'NoEcho': True, 'MinLength': '1', 'MaxLength': '50'}),
            ('Private', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PrivateApi', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('SpotInstanceBid', 'String', ''),
            ('Subnet0CIDR', 'String', '10.0.1.0/24'),
            ('Subnet1CIDR', 'String', '10.0.2.0/24'),
            ('Subnet2CIDR', 'String', '10.0.3.0/24'),
            ('SubnetPrivate0CIDR', 'String', '10.0.4.0/24'),
            ('SubnetPrivate1CIDR', 'String', '10.0.5.0/24'),
            ('SubnetPrivate2CIDR', 'String', '10.0.6.0/24'),
            ('SwapSize', 'Number', '5'),
            ('RootSize', 'Number', '8'),
            ('Version', 'String', None, {'MinLength': '1'}),
            ('VolumeSize', 'Number', '50'),
            ('VPCCIDR', 'String', '10.0.0.0/16'),
            ('Tenancy', 'String', 'default', {'AllowedValues': ['default', 'dedicated']}),
        ]),
    '20180923002725': Release(
        size=107766, resources=100, outputs=60, tagged=True, rack_json=True,
        exports=(
            "Cluster Domain DomainInternal EncryptionKey HostedZone InstancesSecurityGroup RouterCertificate "
            "RouterHost RouterListener80 RouterListener443 RouterName RouterInternalCertificate "
            "RouterInternalHost RouterInternalListener80 RouterInternalListener443 RouterInternalName "
            "RouterInternalSecurityGroup RouterSecurityGroup ServiceRole Subnet0 Subnet1 Subnet2 SubnetPrivate0 "
            "SubnetPrivate1 SubnetPrivate2 Vpc Vpccidr "
        ).split(),
        parameters=[
            ('Ami', 'String', ''),
            ('ApiCount', 'String', '2'),
            ('ApiMemory', 'String', '256'),
            ('Autoscale', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('AutoscaleExtra', 'Number', '1'),
            ('BuildCpu', 'String', '256'),
            ('BuildImage', 'String', ''),
            ('BuildInstance', 'String', 't3.small'),
            ('BuildMemory', 'String', '1000'),
            ('BuildVolumeSize', 'Number', '100'),
            ('ClientId', 'String', ''),
            ('ContainerDisk', 'Number', '10'),
            ('Development', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('EcsPollInterval', 'Number', '1'),
            ('EncryptEbs', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Encryption', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('ExistingVpc', 'String', ''),
            ('HttpProxy', 'String', ''),
            ('Internal', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InternalOnly', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InstanceBootCommand', 'String', ''),
            ('InstanceRunCommand', 'String', ''),
            ('InstanceCount', 'Number', '3', {'MinValue': '3'}),
            ('InstanceType', 'String', 't3.small'),
            ('InstanceUpdateBatchSize', 'Number', '1', {'MinValue': '1'}),
            ('InstanceSecurityGroup', 'String', ''),
            ('InternetGateway', 'String', ''),
            ('Key', 'String', ''),
            ('LogBucket', 'String', ''),
            ('LogRetention', 'String', ''),
            ('MaxAvailabilityZones', 'Number', '3', {'AllowedValues': ['2', '3']}),
            ('OnDemandMinCount', 'Number', '3'),
            ('Password', 'String', None, {'NoEcho': True, 'MinLength': '1', 'MaxLength': '50'}),
            ('Private', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PrivateApi', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('RouterSecurityGroup', 'CommaDelimitedList', ''),
            ('SpotInstanceBid', 'String', ''),
            ('SslPolicy', 'String', ''),
            ('Subnet0CIDR', 'String', '10.0.1.0/24'),
            ('Subnet1CIDR', 'String', '10.0.2.0/24'),
            ('Subnet2CIDR', 'String', '10.0.3.0/24'),
            ('SubnetPrivate0CIDR', 'String', '10.0.4.0/24'),
            ('SubnetPrivate1CIDR', 'String', '10.0.5.0/24'),
            ('SubnetPrivate2CIDR', 'String', '10.0.6.0/24'),
            ('SwapSize', 'Number', '5'),
            ('RootSize', 'Number', '8'),
            ('Version', 'String', None, {'MinLength': '1'}),
            ('VolumeSize', 'Number', '50'),
            ('VPCCIDR', 'String', '10.0.0.0/16'),
            ('Tenancy', 'String', 'default', {'AllowedValues': ['default', 'dedicated']}),
        ]),
    '20260421192651': Release(
        size=222538, resources=148, outputs=78, tagged=True, rack_json=True,
        exports=(
            "Cluster CustomTopic CustomerManagedKey CMKPolicy Domain DomainInternal EncryptionKey HostedZone "
            "InstancesSecurityGroup BuildInstancesSecurityGroup NLBArn NLBCanonicalHostedZoneID NLBEIP0 NLBEIP1 "
            "NLBEIP2 NLBHost NLBInternalArn NLBInternalCanonicalHostedZoneID NLBInternalHost NLBSecurityGroup "
            "NLBInternalSecurityGroup RouterCertificate RouterHost RouterListener80 RouterListener443 RouterName "
            "RouterInternalCertificate RouterInternalHost RouterInternalListener80 RouterInternalListener443 "
            "RouterInternalName RouterInternalSecurityGroup RouterSecurityGroup ServiceRole Subnet0 Subnet1 "
            "Subnet2 SubnetPrivate0 SubnetPrivate1 SubnetPrivate2 Vpc Vpccidr "
        ).split(),
        parameters=[
            ('Ami', 'String', ''),
            ('ApiCount', 'String', '2'),
            ('ApiCpu', 'String', '128'),
            ('ApiMonitorMemory', 'String', '128'),
            ('ApiRouter', 'String', 'ELB', {'AllowedValues': ['ALB', 'ELB']}),
            ('ApiWebMemory', 'String', '256'),
            ('Autoscale', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('AutoscaleExtra', 'Number', '1'),
            ('AvailabilityZones', 'CommaDelimitedList', ''),
            ('BuildCpu', 'String', '256'),
            ('BuildImage', 'String', ''),
            ('BuildInstance', 'String', 't3.small'),
            ('BuildInstancePolicy', 'String', ''),
            ('BuildMethod', 'String', 'ec2', {'AllowedValues': ['ec2', 'fargate']}),
            ('BuildMemory', 'String', '1000'),
            ('BuildVolumeSize', 'Number', '100'),
            ('ClientId', 'String', ''),
            ('CpuCredits', 'String', '', {'AllowedValues': ['standard', 'unlimited', '']}),
            ('DefaultAmi', 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', '/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id'),
            ('DefaultAmiArm', 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', '/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id'),
            ('Development', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('DisableALBPort80', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('DynamoDbTableDeletionProtectionEnabled', 'String', 'false', {'AllowedValues': ['true', 'false']}),
            ('DynamoDbTablePointInTimeRecoveryEnabled', 'String', 'false', {'AllowedValues': ['true', 'false']}),
            ('EcsPollInterval', 'Number', '1'),
            ('EnableContainerReadonlyRootFilesystem', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('EnableS3Versioning', 'String', 'Suspended', {'AllowedValues': ['Enabled', 'Suspended']}),
            ('EncryptEbs', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Encryption', 'String', 'Yes', {'AllowedValues': ['Yes', 'No']}),
            ('ExistingVpc', 'String', ''),
            ('EnableSharedEFSVolumeEncryption', 'String', 'false', {'AllowedValues': ['true', 'false']}),
            ('FargateBuildCpu', 'String', ''),
            ('FargateBuildMemory', 'String', ''),
            ('NoHaInstanceCount', 'Number', '1', {'MinValue': '1'}),
            ('HighAvailability', 'String', 'true', {'AllowedValues': ['true', 'false']}),
            ('HttpProxy', 'String', ''),
            ('ImagePullBehavior', 'String', 'default', {'AllowedValues': ['default', 'always', 'once', 'prefer-cached']}),
            ('EcsContainerStopTimeout', 'String', ''),
            ('IMDSHttpTokens', 'String', 'optional', {'AllowedValues': ['optional', 'required']}),
            ('IMDSHttpPutResponseHopLimit', 'Number', '1', {'MinValue': '1', 'MaxValue': '64'}),
            ('Internal', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InternalOnly', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('InternalRouterSuffix', 'String', '-rti'),
            ('InstanceBootCommand', 'String', ''),
            ('InstanceRunCommand', 'String', ''),
            ('InstanceCount', 'Number', '3', {'MinValue': '3'}),
            ('InstancesIpToIncludInWhiteListing', 'String', 'Both', {'AllowedValues': ['Both', 'Build', 'Workload', 'None']}),
            ('InstanceType', 'String', 't3.small'),
            ('InstanceUpdateBatchSize', 'Number', '1', {'MinValue': '1'}),
            ('InstancePolicy', 'String', ''),
            ('InstanceSecurityGroup', 'String', ''),
            ('BuildInstanceSecurityGroup', 'String', ''),
            ('InternetGateway', 'String', ''),
            ('Key', 'String', ''),
            ('LoadBalancerIdleTimeout', 'Number', '3600', {'MinValue': '1', 'MaxValue': '4000'}),
            ('LogBucket', 'String', ''),
            ('LogDriver', 'String', 'CloudWatch', {'AllowedValues': ['CloudWatch', 'Syslog', '']}),
            ('LogRetention', 'String', '7'),
            ('MaintainTimerState', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('MaxAvailabilityZones', 'Number', '3', {'AllowedValues': ['2', '3']}),
            ('NLB', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBInternal', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBCrossZone', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBInternalCrossZone', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBAllowCIDR', 'String', '0.0.0.0/0'),
            ('NLBInternalAllowCIDR', 'String', ''),
            ('NLBPreserveClientIP', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBInternalPreserveClientIP', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBDeletionProtection', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NLBInternalDeletionProtection', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('NoHAAutoscaleExtra', 'Number', '0'),
            ('OnDemandMinCount', 'Number', '3', {'MinValue': '1'}),
            ('Password', 'String', None, {'NoEcho': True, 'MinLength': '1', 'MaxLength': '50'}),
            ('PlaceLambdaInVpc', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('Private', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PrivateApi', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PrivateApiSecurityGroup', 'String', ''),
            ('PrivateBuild', 'String', 'No', {'AllowedValues': ['Yes', 'No']}),
            ('PruneOlderImagesInHour', 'Number', '96', {'MinValue': '1'}),
            ('PruneOlderImagesCronRunFreq', 'String', 'daily', {'AllowedValues': ['hourly', 'daily', 'weekly']}),
            ('RouterInternalSecurityGroup', 'CommaDelimitedList', ''),
            ('RouterMitigationMode', 'String', 'defensive', {'AllowedValues': ['defensive', 'monitor', 'strictest']}),
            ('RouterSecurityGroup', 'CommaDelimitedList', ''),
            ('ScheduleRackScaleDown', 'String', ''),
            ('ScheduleRackScaleUp', 'String', ''),
            ('SpotFleetAllowedInstanceTypes', 'CommaDelimitedList', ''),
            ('SpotFleetExcludedInstanceTypes', 'CommaDelimitedList', ''),
            ('SpotFleetAllocationStrategy', 'String', 'lowestPrice', {'AllowedValues': ['lowestPrice', 'diversified', 'capacityOptimized']}),
            ('SpotFleetMaxPrice', 'String', ''),
            ('SpotFleetMinMemoryMiB', 'Number', 1000),
            ('SpotFleetMinVcpuCount', 'Number', 0),
            ('SpotFleetMinOnDemandCount', 'Number', 1),
            ('SpotFleetTargetType', 'String', 'units', {'AllowedValues': ['memory-mib', 'units', 'vcpu']}),
            ('SpotInstanceBid', 'String', ''),
            ('SslPolicy', 'String', ''),
            ('Subnet0CIDR', 'String', '10.0.1.0/24'),
            ('Subnet1CIDR', 'String', '10.0.2.0/24'),
            ('Subnet2CIDR', 'String', '10.0.3.0/24'),
            ('SubnetPrivate0CIDR', 'String', '10.0.4.0/24'),
            ('SubnetPrivate1CIDR', 'String', '10.0.5.0/24'),
            ('SubnetPrivate2CIDR', 'String', '10.0.6.0/24'),
            ('SwapSize', 'Number', '5'),
            ('SyslogDestination', 'String', ''),
            ('SyslogFormat', 'String', 'rfc5424'),
            ('Version', 'String', None, {'MinLength': '1'}),
            ('VolumeSize', 'Number', '50'),
            ('VPCCIDR', 'String', '10.0.0.0/16'),
            ('Telemetry', 'String', 'false', {'AllowedValues': ['true', 'false']}),
            ('Tenancy', 'String', 'default', {'AllowedValues': ['default', 'dedicated']}),
            ('WhiteList', 'String', ''),
        ]),
}


def declarations(version: str) -> dict[str, dict[str, Any]]:
    """The Parameters section of release ``version``'s rack template, as published (Version defaults to it)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in RELEASES[version].parameters:
        name, kind, default = entry[0], entry[1], entry[2]
        decl: dict[str, Any] = {"Type": kind}
        if default is not None:
            decl["Default"] = default
        if len(entry) > 3:
            decl.update({k: ("true" if k == "NoEcho" else v) for k, v in entry[3].items()})
        out[name] = decl
    out["Version"]["Default"] = version
    return out


def rack_template(version: str) -> dict[str, Any]:
    """A Convox-shaped rack template of ``version``: its real parameters, stand-in resources (as many as the real
    one has), its ``Password`` output (a Ref of the NoEcho parameter), its exports, and its real size."""
    release = RELEASES[version]
    resources: dict[str, Any] = {
        "Settings": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "LogGroup": {"Type": "AWS::Logs::LogGroup"},
    }
    for index in range(release.resources - len(resources)):
        resources["StandIn%03d" % index] = {"Type": STAND_INS[index % len(STAND_INS)]}
    outputs: dict[str, Any] = {
        "Password": {"Value": {"Ref": "Password"}},
        "Version": {"Value": {"Ref": "Version"}},
        "Rack": {"Value": {"Ref": "AWS::StackName"}},
        "Settings": {"Value": {"Ref": "Settings"}},
    }
    for name in release.exports:
        outputs[name] = {"Value": {"Fn::Sub": "${AWS::StackName}-%s" % name},
                         "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:%s" % name}}}
    for index in range(release.outputs - len(outputs)):
        outputs["Output%02d" % index] = {"Value": {"Ref": "AWS::StackName"}}
    template = {"AWSTemplateFormatVersion": "2010-09-09",
                "Description": "Convox-shaped rack %s (stand-in resources, real parameters)" % version,
                "Parameters": declarations(version), "Resources": resources, "Outputs": outputs}
    # pad to the real size: metadata CloudFormation keeps and ignores
    padding = release.size - len(json.dumps(template, indent=2))
    if padding > 0:
        template["Metadata"] = {"Padding": "x" * padding}
    return template


def app_template() -> dict[str, Any]:
    """A Convox-shaped Generation 2 app stack's template (the rack renders the real one per app): its parameters."""
    return {"Parameters": {name: {"Type": "String", "Default": ""} for name in APP_PARAMETERS},
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}


def versions_json(versions: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"version": v, "description": "release %s" % v, "published": True, "required": v in REQUIRED}
            for v in versions or VERSIONS]


def channel_files(versions: list[str] | None = None) -> dict[str, bytes]:
    """{key: bytes} of a channel in Convox's layout (no app.json; rack.json only since 20171102200537)."""
    files = {"versions.json": json.dumps(versions_json(versions), indent=2).encode()}
    for version in versions or VERSIONS:
        body = json.dumps(rack_template(version), indent=2).encode()
        files["%s/formation.json" % version] = body
        if RELEASES[version].rack_json:
            files["%s/rack.json" % version] = body
    return files


def write_channel(root: str, versions: list[str] | None = None) -> str:
    """A file:// channel in Convox's layout at ``root``; its URL."""
    for key, body in channel_files(versions).items():
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
    return "file://%s" % os.path.abspath(root)


def put_channel(s3: Any, bucket: str = "convox", prefix: str = "release", versions: list[str] | None = None) -> str:
    """The same channel in an S3 bucket (Convox's is ``convox``, prefix ``release``); its s3:// URL."""
    try:
        s3.create_bucket(Bucket=bucket)
    except Exception as exc:  # pylint: disable=broad-except
        if "BucketAlreadyOwnedByYou" not in str(exc):
            raise
    for key, body in channel_files(versions).items():
        s3.put_object(Bucket=bucket, Key="%s/%s" % (prefix, key), Body=body)
    return "s3://%s/%s" % (bucket, prefix)


def password() -> str:
    """What ``convox install`` generates: 30 random letters and digits."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for dummy in range(30))


def install(cfn: Any, name: str, version: str, bucket_url: str = "https://convox.s3.amazonaws.com/release",
            client_id: str = "ci@example.com", parameters: dict[str, str] | None = None) -> str:
    """A rack as ``convox install`` makes it (TemplateURL of Convox's bucket, Password, Version, ClientId, the tags
    of its day, CAPABILITY_IAM); its password."""
    secret = password()
    values = dict({"Password": secret, "Version": version, "ClientId": client_id}, **(parameters or {}))
    key = "rack.json" if RELEASES[version].rack_json else "formation.json"
    tags = [{"Key": "System", "Value": "convox"}, {"Key": "Type", "Value": "rack"}] if RELEASES[version].tagged else []
    cfn.create_stack(StackName=name, TemplateURL="%s/%s/%s" % (bucket_url, version, key),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
                     Tags=tags, Capabilities=["CAPABILITY_IAM"])
    return secret


def create_app(cfn: Any, rack: str, app: str, version: str) -> None:
    """An app as a Convox rack (Generation 2) creates it."""
    cfn.create_stack(StackName="%s-%s" % (rack, app), TemplateBody=json.dumps(app_template()),
                     Parameters=[{"ParameterKey": "Rack", "ParameterValue": rack},
                                 {"ParameterKey": "LogDriver", "ParameterValue": "CloudWatch"}],
                     Tags=[{"Key": k, "Value": v} for k, v in (("Generation", "2"), ("System", "convox"),
                                                               ("Rack", rack), ("Version", version),
                                                               ("Type", "app"), ("Name", app))])


def create_service(cfn: Any, rack: str, service: str) -> None:
    """A Convox rack resource (``convox rack resources create``: Type=service, no App tag)."""
    cfn.create_stack(StackName="%s-%s" % (rack, service),
                     TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
                     Tags=[{"Key": k, "Value": v} for k, v in (("System", "convox"), ("Rack", rack),
                                                               ("Type", "service"), ("Name", service))])


def main(argv: list[str]) -> int:
    if argv[:1] == ["sizes"]:
        for version in VERSIONS:
            size = len(json.dumps(rack_template(version), indent=2))
            release = RELEASES[version]
            print("%s  %7d bytes  %3d parameters  (real: %d bytes)"
                  % (version, size, len(release.parameters), release.size))
        return 0
    if argv[:1] == ["channel"] and len(argv) == 2:
        print(write_channel(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
