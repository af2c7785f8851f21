# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared per-region waiting of fleet runs: many racks waiting in one region cost one listing
per poll; a stack that leaves the listing is confirmed deleted; waits time out; and the batch
runner turns each rack's failure into that rack's result."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.convox.rack.plugins.module_utils.aws._stack import Stack, StackTimeout
from ansible_collections.convox.rack.plugins.module_utils.fleet import _fleet
from ansible_collections.convox.rack.plugins.module_utils.fleet._fleet import Batch, RegionWatcher, result_row
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError


class FakeStacks:
    """A region whose stacks finish at given times; counts listings (of the stacks in progress) and reads."""

    def __init__(self, finish_at):
        self.finish_at = dict(finish_at)      # name -> monotonic time it completes (None: deleted)
        self.listings = 0
        self.describes = 0

    def _stack(self, name):
        done = self.finish_at[name]
        status = "UPDATE_COMPLETE" if time.monotonic() >= done else "UPDATE_IN_PROGRESS"
        return Stack({"StackName": name, "StackId": "arn:%s" % name, "StackStatus": status})

    def moving(self):
        self.listings += 1
        stacks = [self._stack(n) for n, t in self.finish_at.items() if t is not None]
        return [s for s in stacks if s.status.endswith("_IN_PROGRESS")]

    def read(self, name):
        self.describes += 1
        name = name.replace("arn:", "")
        return self._stack(name) if self.finish_at.get(name) is not None else None


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(_fleet, "FIRST_POLL_DELAY", 0.01)


def test_many_racks_share_one_listing_per_poll():
    now = time.monotonic()
    stacks = FakeStacks({"r%d" % i: now + 0.3 + 0.01 * i for i in range(50)})
    watcher = RegionWatcher(stacks, "us-east-1", interval=0.1)
    results = {}

    def wait(name):
        results[name] = watcher.wait("arn:%s" % name, 10).status

    threads = [threading.Thread(target=wait, args=("r%d" % i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results.values()) == {"UPDATE_COMPLETE"} and len(results) == 50
    # 50 racks waited about 0.8 s: one listing (of the stacks in progress) per 0.1 s interval, not one per rack;
    # each rack then read its own stack once, when it left the listing
    assert stacks.listings <= 12, stacks.listings
    assert stacks.describes == 50


def test_a_stack_gone_from_the_listing_is_confirmed_deleted():
    stacks = FakeStacks({"gone": None})
    watcher = RegionWatcher(stacks, "us-east-1", interval=0.05)
    assert watcher.wait("arn:gone", 5) is None
    assert stacks.describes == 1


def test_a_wait_times_out_naming_the_stack():
    stacks = FakeStacks({"slow": time.monotonic() + 60})
    watcher = RegionWatcher(stacks, "us-east-1", interval=0.05)
    with pytest.raises(StackTimeout, match="stack slow is still UPDATE_IN_PROGRESS after 0 seconds"):
        watcher.wait("arn:slow", 0.3)


class FakeManager:
    def __init__(self, params, check_mode, client_factory, warn, watcher, quota_reader, list_resources=True,
                 shared_templates=None):
        assert list_resources is False         # a fleet batch skips the listing of resources after a change
        assert shared_templates.pins == {}     # no pinned release: nothing read for the batch
        self.params = params
        self.secret_values = {"s3cr3t"} if params.get("secret") else set()
        warn("careful with %s" % params["name"])

    def present(self):
        if self.params["name"] == "bad":
            raise ConvoxError("rack bad is broken.", changed=True, steps=[{"to": "2"}])
        if self.params["name"] == "crash":
            raise RuntimeError("boom")
        return {"changed": True, "plan": {"action": "update", "from_version": "1", "to_version": "2", "path": ["2"]},
                "steps": [{"to": "2"}]}


class Factory:
    def __init__(self, params):
        self.region = params.get("region")

    def __call__(self, service):
        return object()


def test_batch_results_are_per_rack():
    # validated rack params (the action plugin validates each host's against the rack spec)
    racks = [("good", {"name": "good", "state": "present", "secret": True}), ("bad", {"name": "bad", "state": "present"}),
             ("crash", {"name": "crash", "state": "present"}),
             ("invalid", ConvoxError("Unsupported parameters for (convox.rack.rack) module: colour."))]
    results = Batch(racks, False, Factory, manager=FakeManager).run()
    assert results["good"]["changed"] and results["good"]["warnings"] == ["careful with good"]
    assert results["good"]["_secret_values"] == ["s3cr3t"]
    assert results["bad"] == {"failed": True, "changed": True, "msg": "rack bad is broken.", "steps": [{"to": "2"}],
                              "warnings": ["careful with bad"], "_secret_values": []}
    assert results["crash"]["failed"] and results["crash"]["msg"] == "rack crash: RuntimeError: boom"
    assert results["invalid"]["msg"].startswith("Unsupported parameters")
    assert result_row("good", racks[0][1], results["good"], False)["result"] == "updated"
    assert result_row("bad", racks[1][1], results["bad"], False)["steps"] == 1
    assert result_row("x", ConvoxError("no"), {"failed": True, "msg": "no"}, True)["rack"] == "x"
    halted = result_row("h", racks[0][1], {"changed": False, "halted": True, "msg": "fleet halted: 2 racks failed"}, False)
    assert (halted["result"], halted["msg"], halted["steps"], halted["from"]) == (
        "skipped", "fleet halted: 2 racks failed", 0, "-")


class SlowStacks:
    """A listing that captures the status when it starts and answers later (a request in flight)."""

    def __init__(self):
        self.status = "UPDATE_COMPLETE"
        self.release = threading.Event()
        self.in_flight = threading.Event()
        self.first = True

    def moving(self):
        status = self.status
        if self.first:
            self.first = False
            self.in_flight.set()
            self.release.wait(5)
        return [Stack({"StackName": "x", "StackId": "arn:x", "StackStatus": status})] if "PROGRESS" in status else []

    def read(self, name):
        return Stack({"StackName": "x", "StackId": "arn:x", "StackStatus": self.status})


def test_a_listing_in_flight_when_a_rack_starts_waiting_is_not_its_answer():
    stacks = SlowStacks()
    watcher = RegionWatcher(stacks, "us-east-1", interval=0.05)
    seen = {}
    first = threading.Thread(target=lambda: seen.setdefault("first", watcher.wait("arn:x", 5).status))
    first.start()
    assert stacks.in_flight.wait(5)
    stacks.status = "UPDATE_IN_PROGRESS"          # the rack starts its update while the old listing is in flight

    def second():
        seen["second"] = watcher.wait("arn:x", 5).status
        seen["second_at"] = stacks.status

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.1)
    stacks.release.set()                          # the stale answer (UPDATE_COMPLETE) arrives now
    time.sleep(0.2)
    assert "second" not in seen                   # ... and is not taken for the update's end
    stacks.status = "UPDATE_COMPLETE"
    first.join()
    waiter.join()
    assert seen["first"] == "UPDATE_COMPLETE" and seen["second"] == "UPDATE_COMPLETE"


def test_a_batch_prints_a_line_each_time_a_rack_changes_state():
    lines = []

    class Waiting(FakeManager):
        def present(self):
            if self.params["name"] == "bad":
                raise ConvoxError("rack bad is broken.")
            self.watcher.wait("arn:%s" % self.params["name"], 5)
            return {"changed": True}

    now = time.monotonic()
    stacks = FakeStacks({"a": now + 0.2, "b": now + 0.4})

    def manager(params, check_mode, client_factory, warn, watcher, quota_reader, list_resources=True,
                shared_templates=None):
        made = Waiting(params, check_mode, client_factory, warn, watcher, quota_reader, list_resources, shared_templates)
        made.watcher = watcher
        return made

    batch = Batch([(n, {"name": n, "state": "present"}) for n in ("a", "b", "bad")], False, Factory,
                  manager=manager, progress=lines.append, label="batch 2/5")
    batch.watcher = lambda place, factory: RegionWatcher(stacks, "us-east-1", interval=0.05)
    results = batch.run()
    assert not results["a"].get("failed") and results["bad"]["failed"]
    assert lines[-1] == "batch 2/5: 3/3 done, 0 updating, 1 failed"
    assert "batch 2/5: 1/3 done, 2 updating, 1 failed" in lines or "batch 2/5: 0/3 done, 2 updating, 0 failed" in lines
    assert len(lines) == len(set(lines))                  # a line only when a count changes


def test_a_slice_of_a_sliced_awx_job_is_told_apart_from_a_workflow():
    from ansible_collections.convox.rack.plugins.module_utils.fleet._fleet import sliced_job
    sliced = {"awx_workflow_job_id": 7, "awx_workflow_job_name": "fleet", "awx_job_template_name": "fleet"}
    assert "one slice of a sliced AWX" in sliced_job(sliced)
    assert "one slice of a sliced AWX" in sliced_job({k.replace("awx", "tower"): v for k, v in sliced.items()})
    assert sliced_job(dict(sliced, awx_workflow_job_name="canary then fleet")) == ""      # a workflow of its own
    assert sliced_job({"awx_job_id": 3, "awx_job_template_name": "fleet"}) == ""          # a plain job
    assert sliced_job(dict(sliced, convox_not_a_sliced_job=True)) == ""                   # the override
    assert sliced_job({}) == ""
