# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A batch of racks moving at once: every rack of the batch runs its own RackManager in a thread
(at most ``max_concurrent`` at a time), each takes its release steps one after another and starts
the next as soon as its own step completes, and the waiting is shared per account and region: one ListStacks of
the stacks in progress per poll serves every rack waiting there, and a rack reads its own stack once it has left that
list.  While racks wait, a line says how far the batch got each time a rack changes state (``progress``).

Knows nothing of Ansible: the ``rack_batch`` action plugin builds the racks' params from the
inventory and turns the results into per-host task results.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws import _stack as cfn
from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import check_account_params, role_account, verify_account
from ansible_collections.convox.rack.plugins.module_utils.aws._channel import open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, describe_aws_error, is_aws_error, is_transient
from ansible_collections.convox.rack.plugins.module_utils.aws._quotas import QuotaReader
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template, template_digest
from ansible_collections.convox.rack.plugins.module_utils.managers._managed import run_manager
from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError, still_in_progress
from ansible_collections.convox.rack.plugins.module_utils.model._releases import RESERVED, Releases

DEFAULT_POLL_INTERVAL = 30.0   # the longest gap between two reads of a region
MIN_POLL_INTERVAL = 1.5        # the shortest
POLL_FRACTION = 0.1            # between them: a tenth of how long the oldest waiting rack has waited
FIRST_POLL_DELAY = 0.5         # a wave of racks that start waiting together is served by one read
PREFETCH_MAX_AGE = 30.0      # seconds the listing a batch starts from may serve a stack's first read


class RegionWatcher:
    """Polls one account-region's stacks for every rack waiting on it: one ListStacks of the stacks in progress per
    poll (its cost follows the stacks that are moving, not the region's 2,000), and only while someone waits; a
    waited stack no longer in progress is then read alone (DescribeStacks by id), once.  The gap between two polls is a tenth of how long the oldest rack
    has been waiting, between ``min_interval`` and ``interval``: an operation is seen to end within
    about 10 % of its duration (a 20-second step within 2 s, a 15-minute one within 30 s) at a
    fraction of a read per second.  ``wait`` has the contract of ``Stacks.wait``: the stack once it
    leaves IN_PROGRESS (or ``until(stack)``), None once deleted."""

    def __init__(self, stacks: cfn.Stacks, region: str | None, interval: float = DEFAULT_POLL_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, min_interval: float = MIN_POLL_INTERVAL) -> None:
        self.stacks = stacks
        self.region = region
        self.interval = float(interval)
        self.min_interval = min(float(min_interval), self.interval)
        self.since: dict[object, float] = {}     # waiting thread -> when it started waiting
        self.clock = clock
        self.cond = threading.Condition()
        self.snapshot: dict[str, cfn.Stack] = {}  # stack id and name -> Stack
        self.generation = 0         # the poll whose answer is the current snapshot
        self.started = 0            # the last poll started
        self.waiters = 0
        self.error: BaseException | None = None
        self.polls = 0
        self.last_poll: float | None = None
        self.thread: threading.Thread | None = None
        self.initial: dict[str, cfn.Stack] | None = None    # the listing the batch starts from (prefetch)
        self.initial_at = 0.0
        self.taken: set[str] = set()

    # -- the poller ---------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="convox-watch-%s" % self.region, daemon=True)
            self.thread.start()

    def _run(self) -> None:
        first = True
        while True:
            with self.cond:
                if not self.waiters:
                    self.thread = None
                    return
                gap = FIRST_POLL_DELAY if first else self.gap()
                if self.last_poll is not None:
                    gap = max(gap, self.gap() - (self.clock() - self.last_poll))
            first = False
            time.sleep(max(gap, 0.0))
            with self.cond:
                self.started += 1          # a waiter that registered before this moment can use its answer
                seq = self.started
            try:
                listing = self.stacks.moving()
                error = None
            except Exception as exc:  # pylint: disable=broad-except  # handed to the waiters
                listing, error = None, exc
            with self.cond:
                self.polls += 1
                self.last_poll = self.clock()
                if listing is not None:
                    snapshot: dict[str, cfn.Stack] = {}
                    for stack in listing:
                        snapshot[stack.stack_id] = stack
                        snapshot[stack.name] = stack
                    self.snapshot = snapshot
                self.error = error
                self.generation = seq
                self.cond.notify_all()

    def gap(self) -> float:
        """Seconds between two polls now (called with the lock held)."""
        oldest = min(self.since.values()) if self.since else self.clock()
        return min(max((self.clock() - oldest) * POLL_FRACTION, self.min_interval), self.interval)

    # -- the listing a batch starts from ---------------------------------------------------------------
    def prefetch(self) -> None:
        """One paginated listing of the region as the batch starts: each stack's first read is served
        from it (``take``), instead of one DescribeStacks per rack and app."""
        snapshot: dict[str, cfn.Stack] = {}
        for stack in self.stacks.live():
            snapshot[stack.stack_id] = stack
            snapshot[stack.name] = stack
        with self.cond:
            self.initial = snapshot
            self.initial_at = self.clock()
            self.taken = set()

    def take(self, name: str) -> tuple[bool, cfn.Stack | None]:
        """(True, the Stack or None) for a stack's first read after ``prefetch``; (False, None) after."""
        with self.cond:
            initial = self.initial
            # a read later in the run (an app after its rack's update) is a fresh DescribeStacks
            if initial is None or name in self.taken or self.clock() - self.initial_at > PREFETCH_MAX_AGE:
                return False, None
            self.taken.add(name)
            return True, initial.get(name)

    # -- a rack waiting -------------------------------------------------------------------------------
    def wait(self, name: str, timeout: float, until: Callable[[cfn.Stack], bool] | None = None) -> cfn.Stack | None:
        deadline = self.clock() + timeout
        me = object()
        with self.cond:
            self.waiters += 1
            self.since[me] = self.clock()
            self._start()
            # only a poll started after this moment reflects what the caller just did (an update it
            # started): a listing already in flight may still show the stack as it was before
            seen = self.started
            try:
                while True:
                    while self.generation <= seen:
                        remaining = deadline - self.clock()
                        if remaining <= 0:
                            if self.error is not None:     # the endpoint has not answered since (see below)
                                raise cfn.unreachable_timeout(name, timeout, self.error)
                            last = self.snapshot.get(name)
                            raise cfn.StackTimeout(still_in_progress(last.name if last else name,
                                                                     last.status if last else "in progress", timeout))
                        self.cond.wait(min(remaining, self.interval * 2))
                    seen = self.started
                    if self.error is not None:
                        if is_transient(self.error):
                            continue       # the endpoint did not answer this poll: wait for a later one
                        raise self.error
                    stack = self.snapshot.get(name)
                    if stack is None or (until is not None and until(stack)):
                        break                      # no longer in progress: read it, outside the lock
            finally:
                self.waiters -= 1
                self.since.pop(me, None)
        # the listing names stacks in progress only: one missing has finished (or was deleted): its full description
        stack = self.stacks.read(name)
        if stack is None or (until(stack) if until else stack.status not in cfn.IN_PROGRESS):
            return stack
        return self.wait(name, max(deadline - self.clock(), 0.001), until)


class Batch:
    """Run ``present()`` (or ``absent()``) for every rack of a batch at once.

    ``racks`` is a list of (key, params) with params validated like the rack module's; a params
    value that is a ConvoxError is that rack's validation failure.  ``factory_for`` maps a rack's params
    to the client factory of its account and region (the same factory for racks of one account-region).  Clients,
    shared waits and quota reservations are per (account, region): ``place(params)``.  With ``account_id``, the
    credentials' account is checked once per factory before any rack of it is read.  Returns {key: result}, each the
    rack module's result, or ``failed``/``msg`` (and the details of the failure) for a rack that failed."""

    def __init__(self, racks: Iterable[tuple[str, dict[str, Any] | ConvoxError]], check_mode: bool,
                 factory_for: Callable[[dict[str, Any]], ClientFactory], max_concurrent: int = 0,
                 poll_interval: float = DEFAULT_POLL_INTERVAL, manager: Callable[..., Any] = RackManager,
                 releases: Mapping[str, list[dict[str, Any]]] | None = None,
                 progress: Callable[[str], None] | None = None, label: str = "batch",
                 pins: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.racks = list(racks)
        self.check_mode = check_mode
        self.factory_for = factory_for
        self.max_concurrent = int(max_concurrent or 0)
        self.poll_interval = float(poll_interval or DEFAULT_POLL_INTERVAL)
        self.manager = manager
        self.releases = dict(releases or {})      # channel -> its releases, as the run read them when it started
        self.watchers: dict[str, RegionWatcher] = {}
        self.quotas: dict[str, QuotaReader] = {}
        self.verified: dict[tuple[int, str], ConvoxError | None] = {}     # id(factory) -> the account check's refusal, if any
        self.lock = threading.Lock()
        self.warnings: dict[str, list[str]] = {}
        self.progress = progress          # called with a line each time a rack changes state (None: silent)
        self.label = label
        self.states: dict[str, str] = {}  # rack -> waiting, updating, done, failed
        self.last_line = ""
        # the rack templates of the run's target releases, as its start pinned them (digests): read once for the
        # batch when a rack first needs one, checked, and handed to every rack of the batch
        self.templates = PinnedTemplates(pins or {})

    def mark(self, key: str, state: str) -> None:
        """Record that rack ``key`` is now ``state``; report the batch's counts when they change."""
        with self.lock:
            if self.states.get(key) == state or (state == "updating" and self.states.get(key) in ("done", "failed")):
                return
            self.states[key] = state
            counts = {name: list(self.states.values()).count(name) for name in ("done", "updating", "failed")}
            line = "%s: %d/%d done, %d updating, %d failed" % (
                self.label, counts["done"] + counts["failed"], len(self.states), counts["updating"], counts["failed"])
            if line == self.last_line or self.progress is None:
                return
            self.last_line = line
        try:
            self.progress(line)
        except Exception:  # pylint: disable=broad-except  # a progress line never fails a rack
            pass

    def quota_reader(self, place: str, factory: ClientFactory) -> QuotaReader:
        """One quota reader per account-region for the batch: racks installed at once share its room."""
        with self.lock:
            if place not in self.quotas:
                self.quotas[place] = QuotaReader(factory)
            return self.quotas[place]

    def watcher(self, place: str, factory: ClientFactory) -> RegionWatcher:
        if place not in self.watchers:
            self.watchers[place] = RegionWatcher(cfn.Stacks(factory), factory.region or place,
                                                 interval=self.poll_interval)
        return self.watchers[place]

    def verify(self, factory: ClientFactory, params: dict[str, Any]) -> None:
        """The account check of ``params`` (account_id), once per factory and account."""
        key = (id(factory), str(params.get("account_id") or ""))
        if key[1] and key not in self.verified:
            try:
                verify_account(factory, params)
                self.verified[key] = None
            except ConvoxError as exc:
                self.verified[key] = exc
        refusal = self.verified.get(key)
        if refusal is not None:
            raise refusal

    def run(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        jobs: list[tuple[str, dict[str, Any], ClientFactory, RegionWatcher]] = []
        with self.lock:
            self.states = {key: "waiting" for key, dummy in self.racks}
        for key, params in self.racks:
            try:
                if isinstance(params, ConvoxError):
                    raise params
                factory = self.prepare(params)
            except ConvoxError as exc:
                results[key] = dict(failed=True, changed=False, msg=exc.msg, **exc.details)
                continue
            jobs.append((key, params, factory, self.watcher(place(params, factory), factory)))
        for watcher in self.watchers.values():
            try:
                watcher.prefetch()
            except Exception:  # pylint: disable=broad-except  # each rack then reads its own stack
                pass
        if jobs:
            workers = min(len(jobs), self.max_concurrent) if self.max_concurrent > 0 else len(jobs)
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convox-rack") as pool:
                futures = {pool.submit(self.one, key, params, factory, watcher): key
                           for key, params, factory, watcher in jobs}
                for future in concurrent.futures.as_completed(futures):
                    results[futures[future]] = future.result()
        for key, dummy in self.racks:       # those that failed before they started, then the last line
            if key in results:
                self.mark(key, "failed" if rack_failed(results[key]) else "done")
        return results

    def prepare(self, params: dict[str, Any]) -> ClientFactory:
        """A rack's clients, made here in one thread (a boto3 session is not thread-safe), its account checked and
        its channel's releases shared; ConvoxError (an AWS error worded) when that fails."""
        try:
            check_account_params(params)
            factory = self.factory_for(params)
            self.verify(factory, params)
            for service in ("cloudformation", "s3"):
                factory(service)
            self.share_releases(params, factory)
            self.templates.reader(str(params.get("channel") or ""), factory)
        except ConvoxError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            if not is_aws_error(exc):
                raise
            raise ConvoxError(describe_aws_error(exc, "reading the channel")) from exc
        return factory

    def share_releases(self, params: dict[str, Any], factory: ClientFactory) -> None:
        """Each channel's versions.json is read once: for the whole run when the run's preflight read it
        (``releases``), else for the whole batch."""
        channel = params.get("channel")
        if not channel or params.get("releases") is not None or params.get("state") == "absent":
            return
        if channel not in self.releases:
            self.releases[channel] = open_channel(channel, factory).read_releases().to_list()
        params["releases"] = self.releases[channel]

    def one(self, key: str, params: dict[str, Any], factory: ClientFactory, watcher: RegionWatcher) -> dict[str, Any]:
        warnings = self.warnings.setdefault(key, [])
        secrets: set[str] = set()
        try:
            manager = self.manager(params, check_mode=self.check_mode, client_factory=factory, warn=warnings.append,
                                   quota_reader=self.quota_reader(place(params, factory), factory),
                                   watcher=_Tracked(watcher, lambda: self.mark(key, "updating")), list_resources=False,
                                   shared_templates=self.templates)
            result = run_manager(manager, secrets)
        except ConvoxError as exc:
            if exc.details.get("republished") and not exc.details.get("changed"):
                result = {"changed": False, "halted": True, "republished": True, "msg": exc.msg}   # a gate, not a fault
            else:
                result = dict(failed=True, msg=exc.msg, **exc.details)
                result.setdefault("changed", False)
        except Exception as exc:  # pylint: disable=broad-except  # one rack's failure is that rack's result
            name = params.get("name")
            if not is_aws_error(exc):
                message = "rack %s: %s: %s" % (name, type(exc).__name__, exc)
            else:
                message = describe_aws_error(exc, "converging rack %s" % name)
            result = {"failed": True, "changed": False, "msg": message}
        if warnings:
            result["warnings"] = list(warnings)
        result["_secret_values"] = sorted(secrets)
        self.mark(key, "failed" if rack_failed(result) else "done")
        return result


class PinnedTemplates:
    """The rack templates a fleet run pinned when it started ({channel: {version: sha256}}), as a batch's racks read
    them (``get((channel, version, kind))``, the managers' shared templates): each is read once for the whole batch,
    the first time a rack needs it (a rack with nothing to do reads none), with the credentials of a rack that uses
    the channel, and checked against its pin.  A release republished since the run started is refused to every rack of
    the batch (ConvoxError with ``republished``): the canary and earlier batches ran the pinned bytes."""

    def __init__(self, pins: Mapping[str, Mapping[str, str]]) -> None:
        self.pins = {str(c): dict(v) for c, v in pins.items()}
        self.factories: dict[str, ClientFactory] = {}
        self.read: dict[tuple[str, str], tuple[str, Any] | ConvoxError] = {}
        self.lock = threading.Lock()

    def reader(self, channel: str, factory: ClientFactory) -> None:
        """The credentials the batch reads ``channel``'s pinned templates with: those of its first rack."""
        if channel in self.pins:
            self.factories.setdefault(channel, factory)

    def get(self, key: tuple[str, str, str], default: tuple[str, Any] | None = None) -> tuple[str, Any] | None:
        channel, version, kind = key
        digest = self.pins.get(channel, {}).get(version)
        if kind != "rack" or digest is None or channel not in self.factories:
            return default
        with self.lock:
            if (channel, version) not in self.read:
                self.read[(channel, version)] = self._read(channel, version, digest)
            found = self.read[(channel, version)]
        if isinstance(found, ConvoxError):
            raise ConvoxError(found.msg, **found.details)
        return found

    def _read(self, channel: str, version: str, digest: str) -> tuple[str, Any] | ConvoxError:
        try:
            text, url = open_channel(channel, self.factories[channel]).read_template(version, "rack")
            now = template_digest(parse_template(text, "%s/%s/rack.json" % (channel, version), url))
        except ConvoxError as exc:
            now, text, url = "unreadable (%s)" % exc.msg.rstrip("."), "", None
        if now == digest:
            return text, url
        return ConvoxError(
            "release %s of channel %s changed during this run: its rack template is not the one the run pinned when it "
            "started (sha256 %s, now %s), which the canary and earlier batches ran; this batch was stopped and none of "
            "its racks was changed (run again to plan from the channel as it is now)."
            % (version, channel, digest[:12], now[:12] if len(now) == 64 else now), republished=True)


def rack_failed(result: Mapping[str, Any]) -> bool:
    """A rack's result is a failure - not a rack left alone because its approved plan is stale or missing."""
    return bool(result.get("failed")) and not result.get("stale") and not result.get("not_moved")


class _Tracked:
    """A rack's view of its region's watcher: waiting on it means the rack has an operation in progress."""

    def __init__(self, watcher: RegionWatcher, waiting: Callable[[], None]) -> None:
        self.watcher = watcher
        self.waiting = waiting

    def wait(self, name: str, timeout: float, until: Callable[[cfn.Stack], bool] | None = None) -> cfn.Stack | None:
        self.waiting()
        return self.watcher.wait(name, timeout, until)

    def take(self, name: str) -> tuple[bool, cfn.Stack | None]:
        return self.watcher.take(name)


def place(params: Mapping[str, Any], factory: ClientFactory | None = None) -> str:
    """Where a rack is, as the fleet shares work: ``region``, or ``account/region`` for a rack given an account
    (``account_id``, or the account of ``assume_role_arn``)."""
    region = (factory.region if factory is not None else None) or params.get("region") or "default"
    account = params.get("account_id") or role_account(params.get("assume_role_arn"))
    return "%s/%s" % (account, region) if account else str(region)


def result_row(host: str, params: Any, result: Mapping[str, Any], check_mode: bool) -> dict[str, Any]:
    """One line of the fleet summary for a rack's result."""
    params = params if isinstance(params, dict) else {}
    plan = result.get("plan") or {}
    failed = bool(result.get("failed"))
    if failed:
        outcome = "failed"
    elif result.get("halted") or result.get("not_moved"):
        outcome = "skipped"
    elif result.get("changed") and plan.get("action") == "uninstall":
        outcome = "planned" if check_mode else "uninstalled"
    elif result.get("changed"):
        outcome = "planned" if check_mode else "updated"
    else:
        outcome = "ok"
    path = list(plan.get("path") or [])
    steps = len(path) if check_mode and not failed else len(result.get("steps") or [])
    done = [s for s in result.get("steps") or [] if isinstance(s, dict)]
    failed_step = ("%s -> %s (%s)" % (done[-1].get("from") or "-", done[-1].get("to") or "-", done[-1].get("status"))
                   if failed and done else "")
    return {"host": host, "rack": params.get("name") or host, "org": params.get("org") or "",
            "account": params.get("account_id") or role_account(params.get("assume_role_arn")) or "",
            "region": params.get("region") or "", "from": plan.get("from_version") or "-",
            "to": plan.get("to_version") or "-", "path": path, "steps": steps, "result": outcome,
            "msg": result.get("msg", "") if failed or result.get("halted") or result.get("not_moved") else "",
            "halted": bool(result.get("halted")), "republished": bool(result.get("republished")),
            "failed_step": failed_step,
            "stateful": len(plan.get("stateful_changes") or []),
            "fingerprint": plan.get("fingerprint") or "", "fingerprint_of": plan.get("fingerprint_of") or {},
            "single_task_apps": sorted({str(a.get("app")) for a in plan.get("single_task_apps") or []}),
            "security": len(plan.get("security_changes") or []),
            "drifted": len((result.get("drift") or {}).get("drifted") or [])}


# -- before a fleet run changes anything ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Target:
    """The rack a host resolves to: its name, its region after defaults, its account (None: the account of the
    credentials the run uses), and what it is to become (state, channel, version)."""

    host: str
    rack: str
    region: str | None
    account: str | None = None
    state: str = "present"
    channel: str | None = None
    version: str | None = None


def clashes(targets: Iterable[Target], default_account: str | None = None) -> list[str]:
    """One sentence per rack that more than one host resolves to: the same name, the same region (after defaults)
    and the same account (``default_account`` for a host that names none)."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for target in targets:
        key = (target.rack, target.region or "", target.account or default_account or "")
        seen.setdefault(key, []).append(target.host)
    return ["hosts %s all resolve to rack %s in %s%s; one rack must be one host" % (
        ", ".join(sorted(hosts)), rack, region or "the default region", " of account %s" % account if account else "")
        for (rack, region, account), hosts in sorted(seen.items()) if len(hosts) > 1]


AWX_PREFIXES = ("awx", "tower")      # AWX / Automation Platform sets each of its job variables under both


def sliced_job(variables: Mapping[str, Any]) -> str:
    """Why a run looks like one slice of a sliced AWX / Automation Platform job ("" when it does not): AWX runs a job
    template with ``job_slice_count`` > 1 as a workflow job named after the template, each slice a job of that template
    inside it, so a slice sees ``awx_workflow_job_name`` equal to ``awx_job_template_name``."""
    if str(variables.get("convox_not_a_sliced_job", "")).lower() in ("1", "true", "yes", "on"):
        return ""
    for prefix in AWX_PREFIXES:
        workflow = variables.get("%s_workflow_job_name" % prefix)
        template = variables.get("%s_job_template_name" % prefix)
        if variables.get("%s_workflow_job_id" % prefix) is not None and workflow and workflow == template:
            return ("this run looks like one slice of a sliced AWX / Automation Platform job (its workflow job %s "
                    "is named after its job template): a fleet run decides the canary, the batches and the failure "
                    "budget for the whole fleet, which one slice cannot see; set the job template's job slicing to "
                    "1 (or, for a workflow of your own named like the template, -e convox_not_a_sliced_job=true); "
                    "no rack was changed." % workflow)
    return ""


def qualified(target: Mapping[str, Any]) -> str:
    """``account/region/rack``: how uninstall.yml names a rack it would delete (``-`` for an unknown account)."""
    return "%s/%s/%s" % (target.get("account") or "-", target.get("region") or "default", target.get("rack"))


def confirm_name(target: Mapping[str, Any], targets: list[Mapping[str, Any]]) -> str:
    """The shortest name that confirms ``target`` alone: its rack name, else ``region/rack``, else
    ``account/region/rack``."""
    for name in (str(target.get("rack")), "%s/%s" % (target.get("region"), target.get("rack"))):
        if sum(1 for t in targets if name in names_of(t, targets)) == 1:
            return name
    return qualified(target)


def names_of(target: Mapping[str, Any], targets: list[Mapping[str, Any]]) -> set[str]:
    """What a confirm entry may say to name ``target``: its rack name, ``region/rack``, ``account/region/rack``, and -
    only as a qualifier, when its rack name is shared with another targeted rack - its host name (a host's name alone
    never confirms the deletion of a rack of another name that it stands for)."""
    names = {str(target.get("rack")), "%s/%s" % (target.get("region"), target.get("rack")), qualified(target)}
    if sum(1 for t in targets if t.get("rack") == target.get("rack")) > 1 and target.get("host"):
        names.add(str(target["host"]))
    return names


def confirm_problem(confirm: Any, targets: Iterable[Mapping[str, Any]]) -> str:
    """Why ``confirm`` (uninstall.yml's ``-e confirm=``, a comma list) does not name exactly the racks ``targets``
    would delete ("" when it does).  Each entry names one rack: its rack name, ``region/rack``,
    ``account/region/rack``, or - for a rack whose name another targeted rack shares - its host name; an entry that
    matches several racks is refused as ambiguous, one that matches none as unknown, and every targeted rack must be
    named."""
    rows: list[Mapping[str, Any]] = [dict(t) for t in targets]
    targets = rows
    listed = ", ".join(sorted(qualified(t) for t in targets))
    hint = "pass -e confirm=%s" % ",".join(sorted(confirm_name(t, targets) for t in targets))
    if confirm is None or not str(confirm).strip():
        return "uninstall.yml deletes racks: it would delete %s; to confirm, %s." % (listed, hint)
    named: set[int] = set()
    for entry in [e.strip() for e in str(confirm).split(",") if e.strip()]:
        matches = [i for i, t in enumerate(targets) if entry in names_of(t, targets)]
        if len(matches) > 1:
            both = ", ".join(sorted(qualified(targets[i]) for i in matches))
            return ("confirm entry %s is ambiguous: it matches %s; name each rack as account/region/rack (or by its "
                    "host name); nothing was deleted." % (entry, both))
        if not matches:
            return ("confirm entry %s names no rack this run would delete (%s) - a confirm names racks, not the hosts "
                    "that stand for them; to confirm, %s; nothing was deleted." % (entry, listed, hint))
        named.add(matches[0])
    missing = sorted(qualified(t) for i, t in enumerate(targets) if i not in named)
    if missing:
        return ("confirm does not name %s, which this run would also delete; to confirm, %s (or limit the run with -l); "
                "nothing was deleted." % (", ".join(missing), hint))
    return ""


def plan_key(rack: str, region: str | None, account: str | None) -> str:
    """How a plan file names a rack: ``account/region/rack`` (``region/rack`` without an account)."""
    return "/".join(str(p) for p in (account, region or "default", rack) if p)


def approved_plans(data: Any, source: str) -> dict[str, dict[str, Any]]:
    """The approved plans of a plan file (what update.yml --check wrote, ``{"mode": "check", "plans": [row, ...]}``)
    keyed by ``plan_key``: the racks it planned without failing.  ConvoxError naming the file when it is not one."""
    rows = data.get("plans") if isinstance(data, dict) else None
    if not isinstance(rows, list) or data.get("mode") != "check":
        raise ConvoxError("%s is not a plan file written by update.yml --check -e convox_plan_file=...; no rack was "
                          "changed." % source)
    plans = {}
    for row in rows:
        if isinstance(row, dict) and row.get("fingerprint") and row.get("result") in ("planned", "ok"):
            plans[plan_key(str(row.get("rack")), row.get("region"), row.get("account"))] = row
    return plans


def needs_default_account(targets: Iterable[Target]) -> bool:
    """Whether telling the racks apart needs the account of the run's own credentials: some hosts name an account
    and others do not."""
    accounts = {target.account for target in targets}
    return None in accounts and len(accounts) > 1


def run_releases(targets: Iterable[Target], read: Callable[[str, Target], Releases]
                 ) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, Any]]]]:
    """The run's view of its channels, read once each (``read(channel, a target using it)``) for the targets that
    are to be present: ({channel: {alias: version}} - what ``latest`` / ``stable`` / ``edge`` mean for this run -,
    {channel: its releases}), so every batch plans from the same releases.  (A rack without a version keeps the
    release it runs.)"""
    versions: dict[str, dict[str, str]] = {}
    releases: dict[str, Releases] = {}
    for target in targets:
        if target.state != "present" or not target.channel:
            continue
        if target.channel not in releases:
            releases[target.channel] = read(target.channel, target)
        if target.version in RESERVED:
            versions.setdefault(target.channel, {})[target.version] = releases[target.channel].resolve(target.version)
    return versions, {channel: rels.to_list() for channel, rels in releases.items()}


def run_pins(targets: Iterable[Target], versions: Mapping[str, Mapping[str, str]],
             releases: Mapping[str, list[dict[str, Any]]], digest: Callable[[str, str, Target], str]
             ) -> dict[str, dict[str, str]]:
    """{channel: {version: digest}}: the rack template of every release the run's present targets go to, read once
    each (``digest(channel, version, a target using it)``) when the run starts, so every batch - the canary's
    included - gets exactly those bytes, and a release republished meanwhile stops the batches after it.  A version
    the channel does not list is left to its racks (each fails naming it)."""
    pins: dict[str, dict[str, str]] = {}
    for target in targets:
        if target.state != "present" or not target.channel or not target.version:
            continue
        version = pinned_version(target.channel, target.version, versions)
        listed = {str(entry.get("version")) for entry in releases.get(target.channel) or []}
        if not version or version not in listed or version in pins.get(target.channel, {}):
            continue
        pins.setdefault(target.channel, {})[version] = digest(target.channel, version, target)
    return pins


def pinned_version(channel: str | None, version: str | None, versions: Mapping[str, Mapping[str, str]] | None) -> str | None:
    """``version`` with an alias replaced by the release the run resolved it to at its start (``versions``, from
    ``run_versions``); any other version as it is."""
    if channel and version in RESERVED:
        return (versions or {}).get(channel, {}).get(version, version)
    return version
