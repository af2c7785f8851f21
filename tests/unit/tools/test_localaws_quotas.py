# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The quota table is stated by the collection (module_utils/aws/_quotas.py: what it reads and names) and by the
local endpoint (tools/localaws/ec2.py: what it answers and enforces, as AWS does). They are kept apart on purpose -
the endpoint is the oracle the collection is tested against, and a wrong quota code copied into both would pass -
so this test holds them to one statement: the same quotas, service codes, quota codes and names, and the same
defaults but the one the endpoint answers as an established account has it (vCPUs)."""

from __future__ import annotations

from localaws import ec2

from ansible_collections.convox.rack.plugins.module_utils.aws import _quotas


def test_the_endpoint_and_the_collection_state_the_same_quotas():
    assert sorted(ec2.QUOTAS) == sorted(_quotas.QUOTAS)
    for name, (service, code, title, default) in _quotas.QUOTAS.items():
        endpoint = ec2.QUOTAS[name]
        assert endpoint[:3] == (service, code, title), name
        if name != "vcpus":
            assert endpoint[3] == default, name
    # AWS publishes 5 vCPUs and raises most accounts' quota on its own: the collection assumes the published value
    # when it cannot read the quota, the endpoint answers an established account's
    assert _quotas.QUOTAS["vcpus"][3] == 5 and ec2.QUOTAS["vcpus"][3] > 5
