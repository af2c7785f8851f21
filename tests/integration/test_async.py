# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""async / poll (poll: 0 + async_status included) for rack and rack_app - Ansible's own async - with stack operations
that take real time (the local endpoint's real-duration mode)."""

from __future__ import annotations

import localaws
from conftest import target
from safety import write_channel


def test_async_and_poll(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    localaws.set_timing(aws.endpoint, seconds=3)
    rack = "async-rack"
    aws.playbook(target("async"), extra_vars={"channel": channel, "rack": rack},
                 env={"ANSIBLE_ASYNC_DIR": str(tmp_path / "async")})
    statuses = [t[3] for t in localaws.transitions(aws.endpoint)["transitions"] if t[2] == rack]
    assert statuses[:5] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS",
                            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"], statuses
