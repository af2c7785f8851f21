# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The region's room (module_utils/aws/_quotas.py): what a rack needs of each quota, and advisory reads that fail for any
reason - denied, an operation the endpoint does not offer, a 5xx after the retries, no answer - only warn: AWS's
published defaults stand in, the read is named, and nothing is raised.  Pure: a fake client factory, no emulator."""

from __future__ import annotations

import os

import botocore.exceptions
import pytest
import yaml

from ansible_collections.convox.rack.plugins.module_utils.aws._quotas import (
    QUOTAS,
    QuotaReader,
    listener_imports,
    rack_instances,
    rack_needs,
)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")


def error(code, status):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "injected"},
                                            "ResponseMetadata": {"HTTPStatusCode": status}}, "GetServiceQuota")


class Client:
    def __init__(self, fail=None, quotas=None, instances=(), types_fail=None):
        self.fail = fail
        self.calls = 0
        self.quotas = quotas or {}          # quota code -> value (9 otherwise)
        self.instances = list(instances)    # instance types running in the region
        self.types_fail = types_fail

    def get_service_quota(self, **kwargs):
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return {"Quota": {"Value": float(self.quotas.get(kwargs["QuotaCode"], 9))}}

    def paginate(self, name, **kwargs):
        key = {"describe_vpcs": "Vpcs", "describe_internet_gateways": "InternetGateways",
               "describe_nat_gateways": "NatGateways", "describe_subnets": "Subnets", "describe_stacks": "Stacks",
               "describe_load_balancers": "LoadBalancers", "list_roles": "Roles",
               "describe_instances": "Reservations"}[name]
        if isinstance(self.fail, OSError):
            raise self.fail
        if name == "describe_instances":
            return {key: [{"Instances": [{"InstanceType": t} for t in self.instances]}]}
        return {key: []}

    def describe_instance_types(self, InstanceTypes):
        if self.types_fail is not None:
            raise self.types_fail
        sizes = {"t3.small": 2, "m5.large": 2, "m5.xlarge": 4, "c5.9xlarge": 36}
        return {"InstanceTypes": [{"InstanceType": t, "VCpuInfo": {"DefaultVCpus": sizes[t]}} for t in InstanceTypes]}

    def describe_addresses(self):
        return {"Addresses": []}


class Factory:
    region = "us-east-1"

    def __init__(self, client):
        self.client = client

    def __call__(self, service):
        return self.client


@pytest.mark.parametrize("failure, named", [
    (error("AccessDeniedException", 400), "access denied"),
    (error("InternalFailure", 500), "InternalFailure: injected"),
    (error("UnsupportedOperationException", 400), "UnsupportedOperationException: injected"),
    (botocore.exceptions.EndpointConnectionError(endpoint_url="https://servicequotas.example"), "could not connect"),
])
def test_a_failed_quota_read_only_warns_and_the_defaults_stand_in(failure, named):
    client = Client(failure)
    reader = QuotaReader(Factory(client))
    quotas, assumed = reader.quotas()
    assert quotas == {name: quota[3] for name, quota in QUOTAS.items()} and sorted(assumed) == sorted(QUOTAS)
    assert client.calls == 1                               # the first failure stands for the rest: no more waits
    assert "reading the quota VPCs per Region (Service Quotas GetServiceQuota) failed" in reader.denied
    assert named in reader.denied


def test_usage_that_cannot_be_read_leaves_the_room_unknown_not_an_error():
    reader = QuotaReader(Factory(Client(OSError("connection reset"))))
    room = reader.room({"vpcs": 1, "stacks": 1})
    assert room.racks is None and reader.unread.startswith("reading what the region uses")
    assert "its room is not known (advisory read; the run goes on)" in reader.summary()


def test_a_fault_of_the_collection_is_not_taken_for_an_advisory_failure():
    reader = QuotaReader(Factory(Client(KeyError("Quota"))))
    with pytest.raises(KeyError):
        reader.quotas()


def test_what_a_rack_needs_follows_its_conditions():
    template = {"Parameters": {"Private": {"Default": "No"}},
                "Conditions": {"IsPrivate": {"Fn::Equals": [{"Ref": "Private"}, "Yes"]}},
                "Resources": {"Vpc": {"Type": "AWS::EC2::VPC"},
                              "Nat": {"Type": "AWS::EC2::NatGateway", "Condition": "IsPrivate"}}}
    assert rack_needs(template, {})["nat_gateways_per_az"] == 0
    assert rack_needs(template, {"Private": "Yes"})["nat_gateways_per_az"] == 1


def rack_template():
    import os

    import yaml
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, "formation", "rack.yml")) as f:
        return yaml.safe_load(f)


def test_a_rack_needs_a_load_balancer_its_roles_and_its_instances_vcpus():
    template = rack_template()
    needs = rack_needs(template, {})
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert needs["load_balancers"] == 1 and needs["iam_roles"] == len(roles) > 0
    assert rack_instances(template, {}) == {"t3.small": 3}            # the defaults: InstanceCount 3 of t3.small
    assert rack_instances(template, {"InstanceCount": "5", "InstanceType": "m5.xlarge"}) == {"m5.xlarge": 5}
    reader = QuotaReader(Factory(Client()))
    assert reader.needs(template, {"InstanceCount": "5", "InstanceType": "m5.xlarge"})["vcpus"] == 20
    assert reader.needs(template, {"InstanceType": "p3.2xlarge"})["vcpus"] == 0      # not a standard family


def test_the_vcpu_quota_binds_on_what_runs_and_what_the_rack_adds():
    template = rack_template()
    # 16 vCPUs in force, 4 t3.small (8 vCPUs) running: one more rack of 3 x t3.small (6) fits, a second does not
    reader = QuotaReader(Factory(Client(quotas={"L-1216C47A": 16}, instances=["t3.small"] * 4 + ["p3.2xlarge"])))
    room = reader.room(reader.needs(template, {}))
    assert room.used["vcpus"] == 8 and room.needs["vcpus"] == 6 and room.racks == 1
    assert any(b.startswith("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs): 8 of 16 used")
               for b in room.binding()), room.binding()


def test_an_assumed_vcpu_default_or_unknown_instance_types_limit_nothing():
    """AWS's published 5 vCPUs would refuse most racks that fit: assumed (Service Quotas unread), it only warns."""
    template = rack_template()
    reader = QuotaReader(Factory(Client(fail=error("AccessDeniedException", 400))))
    room = reader.room(reader.needs(template, {}))
    assert "vcpus" in room.assumed and room.quotas["vcpus"] == 5 and room.needs["vcpus"] == 6
    assert room.racks is not None and room.racks >= 1
    reader = QuotaReader(Factory(Client(types_fail=error("UnauthorizedOperation", 403))))
    room = reader.room(reader.needs(template, {}))
    assert room.needs["vcpus"] == 0 and "vcpus" in room.assumed
    assert "reading the vCPUs of instance type t3.small (EC2 DescribeInstanceTypes) failed" in room.denied


@pytest.mark.pure
def test_the_listener_each_rule_of_an_app_is_added_to_is_read_from_its_import():
    app = {"Resources": {
        "Rule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
            "ListenerArn": {"Fn::ImportValue": {"Fn::Sub": "${Rack}:BalancerListener"}}}},
        "Named": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
            "ListenerArn": {"Fn::ImportValue": "shared:Listener"}}},
        "Given": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"ListenerArn": "arn:aws:x"}},
        "Unknown": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
            "ListenerArn": {"Fn::ImportValue": {"Fn::Sub": "${Other}:Listener"}}}},
        "Queue": {"Type": "AWS::SQS::Queue"}}}
    assert listener_imports(app, {"Rack": "prod"}) == ["prod:BalancerListener", "shared:Listener"]
    with open(os.path.join(REPO, "formation", "app.yml")) as f:
        formation_app = yaml.safe_load(f)
    assert listener_imports(formation_app, {"Rack": "prod", "AWS::StackName": "prod-web"}) == ["prod:BalancerListener"]
