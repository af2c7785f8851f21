# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 as AWS documents it, where moto differs: a stack's route tables, routes and subnet associations are
deleted with it (moto left them, so the VPC of any real template could never be deleted)."""

from __future__ import annotations

from .patching import Patches

PATCHES = Patches("ec2")


def _backend(account_id, region_name):
    from moto.ec2.models import ec2_backends
    return ec2_backends[account_id][region_name]


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


def reset():
    """Nothing of this part keeps state between tests."""
