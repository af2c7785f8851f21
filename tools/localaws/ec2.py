# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 as AWS documents it, where moto differs.

* A stack's route tables, routes and subnet associations are deleted with it (moto left them, so the VPC of any
  real template could never be deleted).
* The default VPC comes with an internet gateway, as on AWS (moto made none).
* Default quotas per account and region: 5 VPCs, 5 internet gateways, 5 Elastic IPs, 5 NAT gateways per
  Availability Zone (the default VPC and its internet gateway count) - past them EC2 refuses with AWS's error
  (VpcLimitExceeded, InternetGatewayLimitExceeded, AddressLimitExceeded, NatGatewayLimitExceeded), and a stack
  creating one fails that resource and rolls back (``cfn``).  ``configure_quotas`` raises them for an account and
  region, as a quota increase would, and Service Quotas answers the quota in force (GetServiceQuota).
* Application Load Balancers: 50 per Region (``load_balancers``), past it CreateLoadBalancer refuses with
  TooManyLoadBalancers; IAM roles: 1000 per account (``iam_roles``, global: the account's in every region), past it
  CreateRole refuses with LimitExceeded - a stack creating one fails that resource and rolls back, as for the VPCs.
* Listener rules: a load balancer holds at most 100 rules beside its default ones (Rules per Application Load
  Balancer, ``rules_per_load_balancer`` for ``configure_quotas``); past it CreateRule refuses with TooManyRules (and a
  stack creating one fails that resource and rolls back), and ELB's DescribeAccountLimits answers the limits in force
  (moto answered fixed values, 20 load balancers among them where AWS's default is 50).
* Zones: ``configure_zones`` leaves default subnets in the listed zones only (as in accounts and regions where some
  zones have none); Fn::GetAZs returns the zones that have a default subnet (``cfn``).  us-west-1 has two zones."""

from __future__ import annotations

import threading

from .common import DEFAULT_ACCOUNT
from .patching import Patches

PATCHES = Patches("ec2", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getavailabilityzones.html")
# AWS's default quotas: (Service Quotas service code, quota code, name)
QUOTAS = {
    "vpcs": ("vpc", "L-F678F1CE", "VPCs per Region", 5),
    "internet_gateways": ("vpc", "L-A4707A72", "Internet gateways per Region", 5),
    "elastic_ips": ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5),
    "nat_gateways_per_az": ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5),
    "stacks": ("cloudformation", "L-0485CB21", "Stack count", 2000),
    "load_balancers": ("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50),
    "iam_roles": ("iam", "L-FE177D64", "IAM roles per account", 1000),
    # AWS publishes 5 as the default and applies more to most accounts on its own; the endpoint answers an
    # established account's value (the preflight's soft default is tested with the published 5)
    "vcpus": ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)", 640),
}
# ELB's own limits (DescribeAccountLimits, not Service Quotas): name -> (ELB's limit name, AWS's default)
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
ELB_LIMITS = {
    "rules_per_load_balancer": ("rules-per-application-load-balancer", 100),
}
_RAISED: dict[tuple[str, str], dict[str, float]] = {}       # (account, region) -> {quota: value} raised by configure_quotas
_ACCOUNT_RAISED: dict[str, dict[str, float]] = {}           # account -> {global quota (IAM's): value}
_ZONES: dict[tuple[str, str], list[str]] = {}        # (account, region) -> the zones that keep a default subnet
_LOCK = threading.Lock()


def reset():
    _RAISED.clear()
    _ACCOUNT_RAISED.clear()
    _ZONES.clear()


def configure_quotas(spec):
    """``{"region": R, "account": A (default the test account), "quotas": {"vpcs": 20, ...}}``: the quotas of that
    account and region, as after an increase; an empty ``quotas`` restores AWS's defaults."""
    key = (spec.get("account") or DEFAULT_ACCOUNT, spec["region"])
    known = set(QUOTAS) | set(ELB_LIMITS)
    unknown = sorted(set(spec.get("quotas") or {}) - known)
    if unknown:
        return 400, {"error": "unknown quotas %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(known)))}
    given = {k: int(v) for k, v in (spec.get("quotas") or {}).items()}
    with _LOCK:
        _RAISED[key] = {k: v for k, v in given.items() if k not in GLOBAL_QUOTAS}
        account_wide = _ACCOUNT_RAISED.setdefault(key[0], {})
        if not given:
            account_wide.clear()
        account_wide.update({k: v for k, v in given.items() if k in GLOBAL_QUOTAS})
    return 200, {"quotas": quotas(*key)}


# IAM is global: its quotas are the account's whatever the region; configure_quotas in any region sets them for the
# account (and an empty configuration restores them with the region's)
GLOBAL_QUOTAS = {"iam_roles"}


def quotas(account, region):
    """The quotas in force for an account and region."""
    raised = _RAISED.get((account, region), {})
    found = {name: raised.get(name, default[3]) for name, default in QUOTAS.items()}
    found.update({name: raised.get(name, default) for name, (dummy, default) in ELB_LIMITS.items()})
    account_wide = _ACCOUNT_RAISED.get(account, {})
    found.update({name: account_wide.get(name, QUOTAS[name][3]) for name in GLOBAL_QUOTAS})
    return found


def configure_zones(spec):
    """``{"region": R, "account": A, "zones": [...]}``: only these zones keep a default subnet (applied now and
    whenever the region's backend is made anew)."""
    key = (spec.get("account") or DEFAULT_ACCOUNT, spec["region"])
    with _LOCK:
        _ZONES[key] = list(spec.get("zones") or [])
    return 200, {"zones": zones(*key)}


def _backend(account_id, region_name):
    from moto.ec2.models import ec2_backends
    return ec2_backends[account_id][region_name]


def zones(account, region):
    """The zones of the region that have a default subnet (all of them when none has one, as Fn::GetAZs says)."""
    backend = _backend(account, region)
    wanted = _ZONES.get((account, region))
    if wanted is not None and getattr(backend, "_convox_zones", None) != wanted:
        for zone, subnets in list(backend.subnets.items()):
            for subnet_id, subnet in list(subnets.items()):
                if getattr(subnet, "default_for_az", False) and zone not in wanted:
                    backend.delete_subnet(subnet_id)
        backend._convox_zones = list(wanted)
    with_default = sorted(zone for zone, subnets in backend.subnets.items()
                          if any(getattr(s, "default_for_az", False) for s in subnets.values()))
    return with_default or sorted(z.name for z in backend.describe_availability_zones())


def _limit_error(code, message):
    from moto.ec2.exceptions import EC2ClientError
    return EC2ClientError(code, message)


def _account_region(backend):
    return backend.account_id, backend.region_name


@PATCHES.wrap("moto.ec2.models.vpcs:VPCBackend.create_vpc",
              "VPCs per Region (default 5, the default VPC included): VpcLimitExceeded past the quota")
def _create_vpc(original):
    def create_vpc(self, *args, **kwargs):
        if len(self.vpcs) >= quotas(*_account_region(self))["vpcs"] and not kwargs.get("is_default"):
            raise _limit_error("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
        vpc = original(self, *args, **kwargs)
        if kwargs.get("is_default"):             # AWS's default VPC comes with an internet gateway (moto's has none)
            gateway = self.create_internet_gateway()
            self.attach_internet_gateway(gateway.id, vpc.id)
        return vpc
    return create_vpc


@PATCHES.wrap("moto.ec2.models.internet_gateways:InternetGatewayBackend.create_internet_gateway",
              "Internet gateways per Region (default 5): InternetGatewayLimitExceeded past the quota")
def _create_internet_gateway(original):
    def create_internet_gateway(self, *args, **kwargs):
        if len(self.internet_gateways) >= quotas(*_account_region(self))["internet_gateways"]:
            raise _limit_error("InternetGatewayLimitExceeded", "The maximum number of internet gateways has been reached.")
        return original(self, *args, **kwargs)
    return create_internet_gateway


@PATCHES.wrap("moto.ec2.models.elastic_ip_addresses:ElasticAddressBackend.allocate_address",
              "EC2-VPC Elastic IPs (default 5 per Region): AddressLimitExceeded past the quota")
def _allocate_address(original):
    def allocate_address(self, *args, **kwargs):
        if len([a for a in self.addresses if a.domain == "vpc"]) >= quotas(*_account_region(self))["elastic_ips"]:
            raise _limit_error("AddressLimitExceeded", "The maximum number of addresses has been reached.")
        return original(self, *args, **kwargs)
    return allocate_address


@PATCHES.wrap("moto.ec2.models.nat_gateways:NatGatewayBackend.create_nat_gateway",
              "NAT gateways per Availability Zone (default 5): NatGatewayLimitExceeded past the quota")
def _create_nat_gateway(original):
    def create_nat_gateway(self, subnet_id, *args, **kwargs):
        zone = self.get_subnet(subnet_id).availability_zone
        used = [n for n in self.nat_gateways.values()
                if n.state != "deleted" and self.get_subnet(n.subnet_id).availability_zone == zone]
        if len(used) >= quotas(*_account_region(self))["nat_gateways_per_az"]:
            raise _limit_error("NatGatewayLimitExceeded", "The maximum number of NAT gateways has been reached.")
        return original(self, subnet_id, *args, **kwargs)
    return create_nat_gateway


@PATCHES.wrap("moto.servicequotas.models:ServiceQuotasBackend.get_service_quota",
              "GetServiceQuota answers the quota in force (after an increase), for the quotas a rack uses")
def _get_service_quota(original):
    def get_service_quota(self, service_code, quota_code):
        for name, (service, code, title, dummy) in QUOTAS.items():
            if (service, code) == (service_code, quota_code):
                return {"ServiceCode": service, "ServiceName": service, "QuotaCode": code, "QuotaName": title,
                        "QuotaArn": "arn:aws:servicequotas:%s:%s:%s/%s" % (
                            self.region_name, self.account_id, service, code),
                        "Value": float(quotas(self.account_id, self.region_name)[name]), "Unit": "None",
                        "Adjustable": True, "GlobalQuota": False}
        return original(self, service_code, quota_code)
    return get_service_quota


@PATCHES.wrap("moto.elbv2.models:ELBv2Backend.create_rule",
              "Rules per Application Load Balancer (default 100, default rules aside): TooManyRules past the quota "
              "(ELB's load-balancer-limits page)")
def _create_rule(original):
    def create_rule(self, listener_arn, *args, **kwargs):
        from moto.elbv2.exceptions import ELBClientError
        listener = self.describe_listeners(None, [listener_arn])
        if listener:
            balancer = listener[0].load_balancer_arn
            used = sum(len([r for r in each.rules.values() if not getattr(r, "is_default", False)])
                       for each in self.describe_listeners(balancer, None))
            if used >= quotas(*_account_region(self))["rules_per_load_balancer"]:
                raise ELBClientError("TooManyRules", "You've reached the limit on the number of rules per load "
                                                     "balancer.")
        return original(self, listener_arn, *args, **kwargs)
    return create_rule


@PATCHES.wrap("moto.elbv2.models:ELBv2Backend.create_load_balancer",
              "Application Load Balancers per Region (default 50): TooManyLoadBalancers past the quota (ELB's "
              "load-balancer-limits page)")
def _create_load_balancer(original):
    def create_load_balancer(self, name, *args, **kwargs):
        from moto.elbv2.exceptions import ELBClientError
        kind = kwargs.get("loadbalancer_type") or "application"
        if kind == "application" and name not in [b.name for b in self.load_balancers.values()]:
            used = len([b for b in self.load_balancers.values() if b.type == "application"])
            if used >= quotas(*_account_region(self))["load_balancers"]:
                raise ELBClientError("TooManyLoadBalancers", "You've reached the limit on the number of load "
                                                             "balancers for your AWS account.")
        return original(self, name, *args, **kwargs)
    return create_load_balancer


@PATCHES.wrap("moto.iam.models:IAMBackend.create_role",
              "IAM roles per account (default 1000, global: the account's quota in every region): LimitExceeded past "
              "it (IAM's quotas page)")
def _create_role(original):
    def create_role(self, role_name, *args, **kwargs):
        from moto.iam.exceptions import LimitExceededException
        quota = quotas(self.account_id, "us-east-1")["iam_roles"]      # any region: the account's
        if len(self.roles) >= quota:
            raise LimitExceededException("Cannot exceed quota for RolesPerAccount: %d" % quota)
        return original(self, role_name, *args, **kwargs)
    return create_role


@PATCHES.wrap("moto.elbv2.responses:ELBV2Response.describe_account_limits",
              "DescribeAccountLimits answers the limits in force: AWS's defaults, or what configure_quotas raised")
def _describe_account_limits(original):
    def describe_account_limits(self):
        result = original(self)
        in_force = quotas(self.current_account, self.region)
        names = {limit: in_force[name] for name, (limit, dummy) in ELB_LIMITS.items()}
        names["application-load-balancers"] = in_force["load_balancers"]
        for item in result.result["Limits"]:
            if item["Name"] in names:
                item["Max"] = names[item["Name"]]
        return result
    return describe_account_limits


@PATCHES.wrap("moto.ec2.models.route_tables:RouteTable.delete",
              "deleting a stack deletes its route tables, with their subnet associations", adds=True)
def _route_table_delete(dummy):
    def route_table_delete(self, account_id, region_name):
        backend = _backend(account_id, region_name)
        for association_id in list(self._associations):
            backend.disassociate_route_table(association_id)
        backend.delete_route_table(self.id)
    return route_table_delete


@PATCHES.wrap("moto.ec2.models.route_tables:Route.delete", "deleting a stack deletes its routes", adds=True)
def _route_delete(dummy):
    def route_delete(self, account_id, region_name):
        backend = _backend(account_id, region_name)
        if self.route_table.id in backend.route_tables:
            self.route_table._routes.pop(self.id, None)
    return route_delete


@PATCHES.wrap("moto.ec2.models.subnets:SubnetRouteTableAssociation.delete",
              "deleting a stack deletes its subnet route table associations", adds=True)
def _association_delete(dummy):
    def association_delete(self, account_id, region_name):
        backend = _backend(account_id, region_name)
        table = backend.route_tables.get(self.route_table_id)
        if table is not None:
            for association_id, subnet_id in list(table._associations.items()):
                if subnet_id == self.subnet_id:
                    backend.disassociate_route_table(association_id)
    return association_delete


def apply():
    PATCHES.apply()
