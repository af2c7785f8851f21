# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet at AWS speed, in the local endpoint's real-duration mode: every stack operation takes
T = 12 s and a busy stack refuses another.  40 racks over 3 orgs x 3 regions, default forks (5).

The test asserts the order of events the endpoint logged, not the wall time: every rack of a batch
is in progress at the same moment (whatever forks is), no rack starts step k+1 before its step k
completed, no required release is skipped, the canary goes first and a batch starts only after the
one before it has finished."""

from __future__ import annotations

import collections
import os

import localaws
from conftest import REPO
from fleets import write_fleet
from safety import entry, write_channel

T = 12
ORGS = ("acme", "globex", "initech")
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
RACKS = 40
BATCH = 20


def fleet(tmp_path, channel):
    hosts, groups = {}, collections.defaultdict(list)
    for i in range(RACKS):
        org, region = ORGS[i % 3], REGIONS[(i // 3) % 3]
        name = "%s-%02d" % (org, i)
        hosts[name] = {"rack_org": org, "rack_region": region}
        groups["org_" + org].append(name)
        groups["region_" + region.replace("-", "_")].append(name)
    return write_fleet(tmp_path / "fleet.yml", channel, hosts, canary="acme-00", groups=groups), hosts


def intervals(log, status_in, status_out):
    """{rack: [(start, end, version)]} of each operation, in order."""
    out = collections.defaultdict(list)
    started = {}
    for when, dummy, rack, status, version in log:
        if status == status_in:
            started[rack] = (when, version)
        elif status in status_out and rack in started:
            begin, begin_version = started.pop(rack)
            out[rack].append((begin, when, begin_version))
    return out


def test_a_batch_moves_at_once_and_steps_stay_in_order(aws, tmp_path):
    versions = [entry("1"), entry("2", required=True), entry("3", required=True), entry("4")]
    channel = write_channel(str(tmp_path / "channel"), versions)
    inventory, hosts = fleet(tmp_path, channel)
    localaws.set_timing(aws.endpoint, seconds=T)
    env = {"ANSIBLE_FORKS": "5"}

    # install: every rack at once
    aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=inventory, cwd=REPO, env=env)
    created = intervals(localaws.transitions(aws.endpoint)["transitions"], "CREATE_IN_PROGRESS", ("CREATE_COMPLETE",))
    assert sorted(created) == sorted(hosts)
    assert max(c[0][0] for c in created.values()) < min(c[0][1] for c in created.values()), \
        "not every rack was being created at the same moment"

    # update three steps ahead, through the two required releases: canary, then batches of 20
    localaws.set_timing(aws.endpoint, seconds=T)          # clears the log
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), inventory=inventory, cwd=REPO, env=env,
                       extra_vars={"rack_version": "latest", "convox_batch_size": BATCH})
    assert "0 failed, 40 updated, 0 up to date, 0 skipped" in out, out[-3000:]
    updates = intervals(localaws.transitions(aws.endpoint)["transitions"], "UPDATE_IN_PROGRESS",
                        ("UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"))
    assert sorted(updates) == sorted(hosts)
    for rack, ops in updates.items():
        assert [version for dummy, dummy2, version in ops] == ["2", "3", "4"], (rack, ops)   # no step skipped
        for (dummy, end, dummy2), (start, dummy3, dummy4) in zip(ops, ops[1:]):
            assert start >= end, (rack, ops)          # step k+1 only after step k completed

    # batches: the canary alone, then the others in groups that are each in progress together
    order = sorted(updates, key=lambda rack: updates[rack][0][0])
    assert order[0] == "acme-00"
    canary_done = updates["acme-00"][-1][1]
    rest = [r for r in order if r != "acme-00"]
    assert all(updates[r][0][0] >= canary_done for r in rest), "a rack started before the canary finished"
    batches = [rest[:BATCH], rest[BATCH:]]
    assert [len(b) for b in batches] == [20, 19]
    for batch in batches:
        first_steps = [updates[r][0] for r in batch]
        assert max(s for s, dummy, dummy2 in first_steps) < min(e for dummy, e, dummy2 in first_steps), \
            "the racks of a batch were not in UPDATE_IN_PROGRESS at the same time"
    assert min(updates[r][0][0] for r in batches[1]) >= max(updates[r][-1][1] for r in batches[0]), \
        "a batch started before the one before it had finished"
