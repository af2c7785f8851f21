# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule, not the file: for every combination of the parameters that shape the network (Private Yes/No, 2 or 3
zones, in a region whose Fn::GetAZs lists 2 or 3 zones), every subnet an instance or an app task runs in has a
path out to the internet - the ECS agent must reach ECS, images must be pulled - or the rack never runs an app.

A path out is a 0.0.0.0/0 route of the subnet's route table either to an internet gateway attached to the VPC, for
an instance with a public IP (the subnet maps one at launch, or the launch template associates one), or to a NAT
gateway that has an Elastic IP and sits in a subnet with such a path itself.  The templates are evaluated
statically: conditions, Ref, Fn::If, Fn::Select over Fn::GetAZs (index past the zones: the template fails to
create), Fn::ImportValue of the rack's exports by the app."""

from __future__ import annotations

import itertools
import os

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
FORMATION = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "formation")


class TemplateFails(Exception):
    """The template would not create with these parameters."""


class Stack:
    """A template evaluated for one set of parameters and zones."""

    def __init__(self, template, parameters, zones, imports=None):
        self.template = template
        self.zones = zones
        self.imports = imports or {}
        declared = template.get("Parameters") or {}
        self.params = {k: str(parameters.get(k, (v or {}).get("Default", ""))) for k, v in declared.items()}
        self.conditions = {}
        for name in template.get("Conditions") or {}:
            self.condition(name)
        self.resources = {k: v for k, v in template["Resources"].items()
                          if "Condition" not in v or self.condition(v["Condition"])}
        for logical_id in self.resources:         # every property of every resource: a bad Fn::Select fails here
            self.props(logical_id)

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self.conditions[name]

    def value(self, node):
        if isinstance(node, list):
            return [self.value(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Condition", "Fn::")):
            return {k: self.value(v) for k, v in node.items()}
        (fn, arg), = node.items()
        if fn == "Ref":
            if arg in self.params:
                return self.params[arg]
            return ("ref", arg)
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Equals":
            a, b = self.value(arg)
            return str(a) == str(b)
        if fn == "Fn::And":
            return all(self.value(a) for a in arg)
        if fn == "Fn::Or":
            return any(self.value(a) for a in arg)
        if fn == "Fn::Not":
            return not self.value(arg[0])
        if fn == "Fn::If":
            name, yes, no = arg
            return self.value(yes if self.condition(name) else no)
        if fn == "Fn::GetAtt":           # an attribute of a resource: names the resource
            return ("ref", arg[0] if isinstance(arg, list) else arg.split(".")[0])
        if fn == "Fn::GetAZs":
            return list(self.zones)
        if fn == "Fn::Select":
            index, items = int(self.value(arg[0])), self.value(arg[1])
            if not 0 <= index < len(items):
                raise TemplateFails("Fn::Select index %d of %d zones" % (index, len(items)))
            return items[index]
        if fn == "Fn::ImportValue":
            return self.imports.get(self.value(arg), ("import", self.value(arg)))
        if fn == "Fn::Sub" and isinstance(arg, str):
            return arg.replace("${Rack}", self.params.get("Rack", ""))
        if fn == "Fn::Join":
            return ("join", self.value(arg[1]))
        return ("fn", fn)

    def of_type(self, rtype):
        return {k: v for k, v in self.resources.items() if v["Type"] == rtype}

    def props(self, logical_id):
        return self.value(self.resources[logical_id].get("Properties") or {})

    def ref(self, value):
        """The logical id a Ref (or a GetAtt) names."""
        if isinstance(value, tuple) and value[0] == "ref":
            return value[1]
        raise AssertionError("not a reference: %r" % (value,))

    # -- the network -------------------------------------------------------------------------------------------
    def route_table(self, subnet):
        for logical_id in self.of_type("AWS::EC2::SubnetRouteTableAssociation"):
            props = self.props(logical_id)
            if self.ref(props["SubnetId"]) == subnet:
                return self.ref(props["RouteTableId"])
        return None                 # the VPC's main route table: only local routes

    def default_route(self, table):
        for logical_id in self.of_type("AWS::EC2::Route"):
            props = self.props(logical_id)
            if self.ref(props["RouteTableId"]) == table and props.get("DestinationCidrBlock") == "0.0.0.0/0":
                return props
        return None

    def attached_gateway(self, gateway, vpc):
        return any(self.ref(self.props(a)["InternetGatewayId"]) == gateway and self.ref(self.props(a)["VpcId"]) == vpc
                   for a in self.of_type("AWS::EC2::VPCGatewayAttachment"))

    def way_out(self, subnet, public_ip, seen=()):
        """Why ``subnet`` reaches the internet (a sentence), or None."""
        if subnet in seen:
            return None
        vpc = self.ref(self.props(subnet)["VpcId"])
        table = self.route_table(subnet)
        route = self.default_route(table) if table else None
        if route is None:
            return None
        if "GatewayId" in route:
            gateway = self.ref(route["GatewayId"])
            if self.attached_gateway(gateway, vpc) and public_ip:
                return "internet gateway %s, with a public IP" % gateway
            return None
        if "NatGatewayId" in route:
            nat = self.ref(route["NatGatewayId"])
            props = self.props(nat)
            has_address = isinstance(props.get("AllocationId"), tuple)
            if has_address and self.way_out(self.ref(props["SubnetId"]), True, seen + (subnet,)):
                return "NAT gateway %s" % nat
        return None

    def maps_public_ip(self, subnet):
        return str(self.props(subnet).get("MapPublicIpOnLaunch")).lower() == "true"


def load(kind):
    with open(os.path.join(FORMATION, "%s.yml" % kind)) as f:
        return yaml.safe_load(f)


def instance_subnets(rack):
    groups = rack.of_type("AWS::AutoScaling::AutoScalingGroup")
    assert groups, "the rack runs no instances"
    out = []
    for group in groups:
        for subnet in rack.props(group)["VPCZoneIdentifier"]:
            out.append(rack.ref(subnet))
    return out


def launch_template_public_ip(rack):
    for logical_id in rack.of_type("AWS::EC2::LaunchTemplate"):
        data = rack.props(logical_id).get("LaunchTemplateData") or {}
        for interface in data.get("NetworkInterfaces") or []:
            if str(interface.get("AssociatePublicIpAddress")).lower() == "true":
                return True
    return False


COMBINATIONS = [dict(Private=private, AvailabilityZones=zones) for private, zones in
                itertools.product(("Yes", "No"), ("2", "3"))]


def combination_id(p):
    return "private-%s-%s-zones" % (p["Private"], p["AvailabilityZones"])


@pytest.mark.parametrize("parameters", COMBINATIONS, ids=combination_id)
def test_every_instance_subnet_has_a_way_out(parameters):
    rack = Stack(load("rack"), parameters, ["z1", "z2", "z3"])
    public_ip = launch_template_public_ip(rack)
    for subnet in instance_subnets(rack):
        assert rack.way_out(subnet, public_ip or rack.maps_public_ip(subnet)), \
            "instances in %s (%s) cannot reach the internet: no route out for them" % (subnet, parameters)


@pytest.mark.parametrize("parameters", COMBINATIONS, ids=combination_id)
def test_every_app_task_subnet_has_a_way_out(parameters):
    rack = Stack(load("rack"), parameters, ["z1", "z2", "z3"])
    app = Stack(load("app"), {"Rack": "r", "Version": "1"}, ["z1", "z2", "z3"])
    definition = next(iter(app.of_type("AWS::ECS::TaskDefinition")))
    mode = app.props(definition).get("NetworkMode", "bridge")
    if mode in ("bridge", "host"):        # tasks use their instance's network
        subnets, public_ip = instance_subnets(rack), launch_template_public_ip(rack)
    else:                                 # awsvpc: the subnets the service names, an interface of their own
        service = app.props(next(iter(app.of_type("AWS::ECS::Service"))))
        config = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        subnets = rack.outputs_subnets()
        public_ip = config.get("AssignPublicIp") == "ENABLED"
    for subnet in subnets:
        assert rack.way_out(subnet, public_ip or rack.maps_public_ip(subnet)), \
            "app tasks in %s (%s, %s networking) cannot reach the internet" % (subnet, parameters, mode)


def test_the_default_parameters_create_in_a_region_with_two_zones():
    try:
        Stack(load("rack"), {}, ["z1", "z2"])
    except TemplateFails as exc:
        pytest.fail("with its default parameters the rack template fails where Fn::GetAZs lists two zones: %s" % exc)


def statements(app, role):
    for policy in app.props(role).get("Policies") or []:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Effect") == "Allow":
                yield statement


def allows(app, role, action, resource):
    for statement in statements(app, role):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if action in actions and (resource in resources or "*" in resources):
            return True
    return False


def test_app_tasks_can_use_their_encrypted_bucket():
    """The task role of an app may read and write objects of every bucket of the app and, for a bucket encrypted
    with a KMS key, use that key (SSE-KMS needs kms:GenerateDataKey to write and kms:Decrypt to read)."""
    app = Stack(load("app"), {"Rack": "r", "Version": "1"}, ["z1", "z2"])
    definition = app.props(next(iter(app.of_type("AWS::ECS::TaskDefinition"))))
    role = app.ref(definition["TaskRoleArn"])
    buckets = app.of_type("AWS::S3::Bucket")
    assert buckets
    for bucket in buckets:
        for rule in app.props(bucket).get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
            key = rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
            if key is None:
                continue
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                assert allows(app, role, action, key), "the tasks cannot %s with the key of bucket %s" % (action, bucket)
