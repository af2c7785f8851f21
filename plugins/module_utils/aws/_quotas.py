# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many more racks a region can take: what one rack needs of the region's quotas (VPCs, internet gateways,
Elastic IPs, NAT gateways per zone, stacks) by its template and parameters, against the quotas in force - read
from Service Quotas, so a raised quota is honoured; AWS's published defaults only when that API is denied - and
what the region already uses.  And the room a rack's load balancer has for the listener rules of one more app."""

from __future__ import annotations

import dataclasses
import re
import threading
from typing import Any, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, describe_aws_error, is_aws_error

# quota -> (Service Quotas service code, quota code, name, AWS's published default)
QUOTAS = {
    "vpcs": ("vpc", "L-F678F1CE", "VPCs per Region", 5),
    "internet_gateways": ("vpc", "L-A4707A72", "Internet gateways per Region", 5),
    "elastic_ips": ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5),
    "nat_gateways_per_az": ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5),
    "stacks": ("cloudformation", "L-0485CB21", "Stack count", 2000),
    "load_balancers": ("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50),
    "iam_roles": ("iam", "L-FE177D64", "IAM roles per account", 1000),
    "vcpus": ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)", 5),
}
RESOURCE_QUOTAS = {"AWS::EC2::VPC": "vpcs", "AWS::EC2::InternetGateway": "internet_gateways",
                   "AWS::EC2::EIP": "elastic_ips", "AWS::EC2::NatGateway": "nat_gateways_per_az",
                   "AWS::ElasticLoadBalancingV2::LoadBalancer": "load_balancers", "AWS::IAM::Role": "iam_roles"}
# AWS raises the vCPU quota of most accounts past its published default on its own: when it cannot be read, the
# default would refuse racks that fit, so an assumed one only warns
SOFT_DEFAULTS = frozenset(("vcpus",))


def limits(name: str, assumed: Any) -> bool:
    """Whether quota ``name`` limits the racks a region takes: not when it is a soft default that was assumed."""
    return not (name in SOFT_DEFAULTS and name in assumed)


# the instance families the standard On-Demand vCPU quota covers
STANDARD_FAMILIES = frozenset("acdhimrtz")
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NoSuchResourceException")


def advisory_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed advisory read (an AWS error of any code, or the endpoint not answering - botocore's
    own errors), which only warns; anything else is a fault of the collection and is raised."""
    return is_aws_error(exc) or isinstance(exc, (OSError, TimeoutError))


def _truth(value: Any, params: Mapping[str, str], conditions: Mapping[str, Any], seen: dict[str, bool]) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return params.get(arg, arg)
        if fn == "Condition":
            return condition(arg, params, conditions, seen)
        if fn == "Fn::Equals":
            return str(_truth(arg[0], params, conditions, seen)) == str(_truth(arg[1], params, conditions, seen))
        if fn == "Fn::And":
            return all(_truth(a, params, conditions, seen) for a in arg)
        if fn == "Fn::Or":
            return any(_truth(a, params, conditions, seen) for a in arg)
        if fn == "Fn::Not":
            return not _truth(arg[0], params, conditions, seen)
    return value


def condition(name: str, params: Mapping[str, str], conditions: Mapping[str, Any], seen: dict[str, bool]) -> bool:
    if name not in seen:
        seen[name] = bool(_truth(conditions.get(name), params, conditions, seen))
    return seen[name]


def rack_needs(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, int]:
    """What one rack of ``template`` with ``parameters`` (the user's, over the defaults) takes of each quota."""
    declared = template.get("Parameters") or {}
    params = {k: str(parameters.get(k, (v or {}).get("Default", ""))) for k, v in declared.items()}
    conditions = template.get("Conditions") or {}
    seen: dict[str, bool] = {}
    needs = dict.fromkeys(QUOTAS, 0)
    needs["stacks"] = 1
    zones_with_nat = 0
    for res in (template.get("Resources") or {}).values():
        if not isinstance(res, dict) or res.get("Type") not in RESOURCE_QUOTAS:
            continue
        if "Condition" in res and not condition(res["Condition"], params, conditions, seen):
            continue
        if res["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer" \
                and str(_truth((res.get("Properties") or {}).get("Type", "application"), params, conditions, seen)) \
                != "application":
            continue
        if res["Type"] == "AWS::EC2::NatGateway":
            zones_with_nat += 1        # one per zone in the rack templates: the per-zone quota counts one each
            needs["nat_gateways_per_az"] = 1
        else:
            needs[RESOURCE_QUOTAS[res["Type"]]] += 1
    return needs


def rack_instances(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, int]:
    """{instance type: how many} the Auto Scaling groups of one rack of ``template`` run (their DesiredCapacity, else
    MinSize; the instance type of their launch template)."""
    declared = template.get("Parameters") or {}
    params = {k: str(parameters.get(k, (v or {}).get("Default", ""))) for k, v in declared.items()}
    conditions = template.get("Conditions") or {}
    resources = template.get("Resources") or {}
    seen: dict[str, bool] = {}
    out: dict[str, int] = {}
    for res in resources.values():
        if not isinstance(res, dict) or res.get("Type") != "AWS::AutoScaling::AutoScalingGroup":
            continue
        if "Condition" in res and not condition(res["Condition"], params, conditions, seen):
            continue
        props = res.get("Properties") or {}
        count = _truth(props.get("DesiredCapacity", props.get("MinSize", 0)), params, conditions, seen)
        launch = props.get("LaunchTemplate") or {}
        ref = launch.get("LaunchTemplateId") or launch.get("LaunchTemplateName") or {}
        target = resources.get(ref.get("Ref")) if isinstance(ref, dict) else None
        data = ((target or {}).get("Properties") or {}).get("LaunchTemplateData") or {}
        itype = _truth(data.get("InstanceType"), params, conditions, seen)
        try:
            count = int(str(count))
        except ValueError:
            continue
        if isinstance(itype, str) and itype and count > 0:
            out[itype] = out.get(itype, 0) + count
    return out


def standard(instance_type: str) -> bool:
    """Whether the standard On-Demand vCPU quota covers ``instance_type`` (its family letter)."""
    return instance_type[:1].lower() in STANDARD_FAMILIES and not instance_type.lower().startswith(("inf", "im4", "is4"))


@dataclasses.dataclass
class Room:
    """A region's room for more racks: ``racks`` more fit (None: no quota limits them), ``limits`` says what binds,
    ``assumed`` which quotas are AWS's defaults because Service Quotas could not be read (``denied``: why)."""

    region: str | None
    racks: int | None
    quotas: dict[str, int]
    used: dict[str, int]
    needs: dict[str, int]
    assumed: list[str]
    denied: str | None = None

    def binding(self) -> list[str]:
        """Phrases for the quotas that bind, the tightest first (``VPCs per Region: 5 of 5 used``)."""
        out = []
        for name, need in sorted(self.needs.items(), key=lambda kv: self.fits(kv[0])):
            if need and self.fits(name) == self.racks:
                default = " (AWS's default; Service Quotas could not be read)" if name in self.assumed else ""
                out.append("%s: %d of %d used%s" % (QUOTAS[name][2], self.used[name], self.quotas[name], default))
        return out

    def fits(self, name: str) -> int:
        need = self.needs.get(name) or 0
        return (self.quotas[name] - self.used[name]) // need if need and limits(name, self.assumed) else 1 << 30

    def sentence(self) -> str:
        if self.racks is None:
            return "region %s: no quota limits the racks it can take" % self.region
        return "region %s has room for %d more rack%s like this one (%s)" % (
            self.region, max(self.racks, 0), "" if self.racks == 1 else "s", "; ".join(self.binding()))


# AWS's default "Rules per Application Load Balancer" (default rules aside), when ELB's DescribeAccountLimits does not
# answer it (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html)
RULES_PER_ALB = 100
RULE_TYPE = "AWS::ElasticLoadBalancingV2::ListenerRule"


def listener_imports(template: Mapping[str, Any], substitutions: Mapping[str, str]) -> list[str]:
    """The export name of the listener each listener rule of ``template`` is added to (its ``ListenerArn`` an
    ``Fn::ImportValue`` of a name or of an ``Fn::Sub`` of ``substitutions``), one per rule; a rule whose listener is
    given another way is not counted."""
    names = []
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != RULE_TYPE:
            continue
        arn = (resource.get("Properties") or {}).get("ListenerArn")
        imported = arn.get("Fn::ImportValue") if isinstance(arn, dict) else None
        if isinstance(imported, dict) and isinstance(imported.get("Fn::Sub"), str):
            imported = re.sub(r"\$\{([\w:]+)\}", lambda m: substitutions.get(m.group(1), m.group(0)), imported["Fn::Sub"])
        if isinstance(imported, str) and "${" not in imported:
            names.append(imported)
    return names


class QuotaReader:
    """Reads a region's quotas and usage (once per reader)."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory
        self.denied: str | None = None       # why Service Quotas could not be read, when it could not
        self.unread: str | None = None       # why the region's usage could not be read, when it could not
        self.types_unread: str | None = None     # why the vCPUs of the rack's instance types could not be read
        self._vcpu_sizes: dict[str, int] = {}
        self._quotas: dict[str, int] | None = None
        self._assumed: list[str] = []
        self._used: dict[str, int] | None = None
        self.lock = threading.Lock()

    def quotas(self) -> tuple[dict[str, int], list[str]]:
        if self._quotas is None:
            quotas, assumed = {}, []
            for name, (service, code, title, default) in QUOTAS.items():
                if self.denied:            # Service Quotas failed once (after its retries): the rest are assumed too
                    quotas[name] = default
                    assumed.append(name)
                    continue
                try:
                    answer = self.factory("service-quotas").get_service_quota(ServiceCode=service, QuotaCode=code)
                    quotas[name] = int(answer["Quota"]["Value"])
                except Exception as exc:
                    # an advisory read: whatever made it fail (denied, an operation the endpoint does not offer, a
                    # 5xx after the retries, no answer at all), the run goes on with AWS's published default
                    if not advisory_failure(exc):
                        raise
                    quotas[name] = default
                    assumed.append(name)
                    self.denied = describe_aws_error(exc, "reading the quota %s (Service Quotas GetServiceQuota)"
                                                     % title)
            self._quotas, self._assumed = quotas, assumed
        return self._quotas, self._assumed

    def used(self) -> dict[str, int]:
        """What the region uses of each quota; when it cannot be read (an advisory read), nothing is counted and
        ``unread`` says why."""
        if self._used is None:
            try:
                self._used = self._read_used()
            except Exception as exc:
                if not advisory_failure(exc):
                    raise
                self.unread = describe_aws_error(exc, "reading what the region uses (EC2 and CloudFormation)")
                self._used = dict.fromkeys(QUOTAS, 0)
        return self._used

    def vcpus(self, instances: Mapping[str, int]) -> int:
        """The standard On-Demand vCPUs ``instances`` ({type: count}) take (EC2 DescribeInstanceTypes); 0 when the
        types cannot be read (an advisory read: ``unread`` says why, and the quota then limits nothing)."""
        wanted = sorted(t for t in instances if standard(t))
        if not wanted:
            return 0
        try:
            sizes = self._vcpus_of(wanted)
        except Exception as exc:
            if not advisory_failure(exc):
                raise
            self.types_unread = describe_aws_error(exc, "reading the vCPUs of instance type %s (EC2 "
                                                   "DescribeInstanceTypes)" % ", ".join(wanted))
            return 0
        return sum(sizes.get(t, 0) * instances[t] for t in wanted)

    def _vcpus_of(self, types: list[str]) -> dict[str, int]:
        missing = [t for t in types if t not in self._vcpu_sizes]
        if missing:
            answer = self.factory("ec2").describe_instance_types(InstanceTypes=missing)
            for info in answer.get("InstanceTypes", []):
                self._vcpu_sizes[info["InstanceType"]] = int((info.get("VCpuInfo") or {}).get("DefaultVCpus") or 0)
        return self._vcpu_sizes

    def listener_rules(self, listener: str) -> tuple[int, int]:
        """(the rules of the load balancer behind ``listener`` - on all its listeners, default rules aside -, the
        account's Rules per Application Load Balancer): ELB's own answers (DescribeListeners, DescribeRules,
        DescribeAccountLimits; AWS's default when the limit is not among them)."""
        elb = self.factory("elbv2")
        balancer = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["LoadBalancerArn"]
        used = 0
        for page in elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=balancer):
            for each in page["Listeners"]:
                for rules in elb.get_paginator("describe_rules").paginate(ListenerArn=each["ListenerArn"]):
                    used += len([r for r in rules["Rules"] if not r.get("IsDefault")])
        limit = RULES_PER_ALB
        for page in elb.get_paginator("describe_account_limits").paginate():
            for item in page["Limits"]:
                if item.get("Name") == "rules-per-application-load-balancer":
                    limit = int(float(item["Max"]))
        return used, limit

    def needs(self, template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, int]:
        """What one rack of ``template`` with ``parameters`` takes of each quota, its instances' vCPUs included."""
        needs = rack_needs(template, parameters)
        needs["vcpus"] = self.vcpus(rack_instances(template, parameters))
        return needs

    def _read_used(self) -> dict[str, int]:
        ec2 = self.factory("ec2")
        vpcs = ec2.paginate("describe_vpcs").get("Vpcs", [])
        gateways = ec2.paginate("describe_internet_gateways").get("InternetGateways", [])
        addresses = ec2.describe_addresses().get("Addresses", [])
        nats = [n for n in ec2.paginate("describe_nat_gateways").get("NatGateways", [])
                if n.get("State") in ("pending", "available")]
        zones: dict[str, int] = {}
        subnets = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.paginate("describe_subnets").get("Subnets", [])}
        for nat in nats:            # the NAT gateway quota is per zone: a NAT is in its subnet's zone
            zone = subnets.get(nat.get("SubnetId"), "?")
            zones[zone] = zones.get(zone, 0) + 1
        stacks = [s for s in self.factory("cloudformation").paginate("describe_stacks").get("Stacks", [])
                  if s.get("StackStatus") != "DELETE_COMPLETE"]
        balancers = [b for b in self.factory("elbv2").paginate("describe_load_balancers").get("LoadBalancers", [])
                     if b.get("Type", "application") == "application"]
        roles = self.factory("iam").paginate("list_roles").get("Roles", [])
        running: dict[str, int] = {}
        for reservation in ec2.paginate("describe_instances", Filters=[
                {"Name": "instance-state-name", "Values": ["pending", "running"]}]).get("Reservations", []):
            for instance in reservation.get("Instances", []):
                running[instance["InstanceType"]] = running.get(instance["InstanceType"], 0) + 1
        wanted = sorted(t for t in running if standard(t))
        sizes = self._vcpus_of(wanted) if wanted else {}
        return {"vpcs": len(vpcs), "internet_gateways": len(gateways),
                "elastic_ips": len([a for a in addresses if a.get("Domain", "vpc") == "vpc"]),
                "nat_gateways_per_az": max(zones.values()) if zones else 0, "stacks": len(stacks),
                "load_balancers": len(balancers), "iam_roles": len(roles),
                "vcpus": sum(sizes.get(t, 0) * n for t, n in running.items() if t in sizes)}

    def room(self, needs: Mapping[str, int]) -> Room:
        quotas, assumed = self.quotas()
        used = self.used()
        denied = self.denied
        if self.types_unread and "vcpus" not in assumed:      # the rack's vCPUs are not known: that quota is not checked
            assumed = assumed + ["vcpus"]
            denied = "; ".join(r for r in (denied, self.types_unread) if r)
        # a soft default (assumed because unread) limits nothing: AWS raised it for most accounts on its own
        fits = [(quotas[name] - used[name]) // need for name, need in needs.items() if need and limits(name, assumed)]
        if self.unread:            # usage unknown: the region's room is not known either, and limits nothing
            return Room(self.factory.region, None, quotas, dict(used), dict(needs), sorted(QUOTAS),
                        "; ".join(r for r in (denied, self.unread) if r))
        return Room(self.factory.region, min(fits) if fits else None, quotas, dict(used), dict(needs), assumed,
                    denied)

    def reserve(self, needs: Mapping[str, int]) -> Room:
        """The region's room for one more rack that ``needs`` this; when it fits (``racks`` >= 1) its needs are
        counted as used from now on, so racks installed at once in one region (a fleet batch sharing this reader)
        never take more than the region has."""
        with self.lock:
            room = self.room(needs)
            if room.racks is None or room.racks >= 1:
                used = self.used()
                for name, need in needs.items():
                    used[name] += need
            return room

    def summary(self) -> str:
        """The region's quotas and what is used of them, one line."""
        quotas, assumed = self.quotas()
        used = self.used()
        if self.unread:
            return "region %s: %s; its room is not known (advisory read; the run goes on)" % (
                self.factory.region, self.unread.rstrip("."))
        return "region %s: %s" % (self.factory.region, ", ".join(
            "%s %d of %d%s" % (QUOTAS[name][2], used[name], quotas[name], " (default assumed)" if name in assumed else "")
            for name in QUOTAS))
