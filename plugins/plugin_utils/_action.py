# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a convox.rack manager in the controller process instead of shipping a module to a host.

Racks and apps are managed through AWS APIs, so the "host" of a task is only a name; running the
same code controller-side removes a Python + boto3 start-up per host per task. A task delegated to a host
reached by any connection other than ``local`` runs the module on that host instead.

Both paths validate against the same spec (``module_utils/_specs.py``) and run the same task
(``module_utils/_tasks.py``); this file adds only what the controller needs: the task's
environment and ``async`` without a module process.  Sessions and credentials (AWS options resolved by
amazon.aws, roles) are ``_sessions.py``'s.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from typing import Any, Mapping, NoReturn

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator, ValidationResult
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.convox.rack.plugins.module_utils._channel import CHANNEL_TIMEOUT
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._specs import SPEC_OPTIONS, SPECS
from ansible_collections.convox.rack.plugins.module_utils._tasks import run_task
from ansible_collections.convox.rack.plugins.plugin_utils._sessions import TemporaryEnviron, controller_client_factory

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local")


def validation_message(validated: ValidationResult, module: str) -> str:
    """The argument-spec errors of ``validated`` as the module would word them, in one message."""
    messages: list[str] = []
    for error in validated.errors:
        if isinstance(error, UnsupportedError):
            messages.append("Unsupported parameters for (%s) module: %s" % (module, error.msg))
        else:
            messages.append(error.msg)
    # an element's conversion error is repeated inside the option's own message: keep the latter
    return "; ".join(m for m in messages if not any(m in other and m != other for other in messages))


def deprecated_options(spec: Mapping[str, Any], args: Mapping[str, Any]) -> list[dict[str, str]]:
    """The deprecations a module would report for ``args`` (options whose spec has ``removed_in_version``)."""
    out = []
    for option, rule in sorted(spec.items()):
        if rule.get("removed_in_version") and args.get(option) is not None:
            out.append({"msg": "Param '%s' is deprecated. See the module docs for more information" % option,
                        "version": rule["removed_in_version"],
                        "collection_name": rule.get("removed_from_collection") or "convox.rack"})
    return out


class ConvoxAction(ActionBase):
    """Subclasses set NAME, the module's short name (its spec in ``_specs``, its run in ``_tasks``), and
    may adjust the validated parameters in ``prepare``."""

    NAME: str = ""
    deprecations: list[dict[str, str]] = []     # of the task's options (validate)
    TRANSFERS_FILES = False
    _requires_connection = False
    supports_diff = True
    _supports_async = True

    @property
    def module_fqcn(self) -> str:
        return "convox.rack.%s" % self.NAME

    def prepare(self, params: dict[str, Any]) -> dict[str, Any]:
        """Hook for controller-side argument adjustments (paths)."""
        return params

    def _controller_side(self) -> bool:
        if os.environ.get("CONVOX_RACK_CONTROLLER_SIDE", "true").lower() in ("0", "false", "no", "off"):
            return False        # run the module as any module runs (debugging, tests of the module path)
        return getattr(self._connection, "transport", "local") in LOCAL_CONNECTIONS

    def channel_timeout(self) -> float | None:
        """How long a release channel object may take to arrive in this task: within half the task's ``timeout``
        (so that a slow channel fails the task with its own message, not Ansible's), at most CHANNEL_TIMEOUT."""
        timeout = int(getattr(self._task, "timeout", 0) or 0)
        return min(CHANNEL_TIMEOUT, max(timeout / 2.0, 1.0)) if timeout > 0 else None

    def _task_environment(self) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for item in self._task.environment or []:
            item = self._templar.template(item)
            if isinstance(item, dict):
                env.update(item)
        return env

    def validate(self, name: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """(validated params, values to keep out of the result) of module ``name``; ConvoxError with the
        module's own wording when they are invalid.  A deprecated option that is set is reported as the module
        reports it (``self.deprecations``)."""
        spec = aws_argument_spec()
        spec.update(SPECS[name]())
        # a module gets its arguments as JSON: validating what JSON gives makes the values plain Python (not
        # the controller's tagged strings) and the messages the module's own ("is of type str")
        args = json.loads(json.dumps(dict(args), default=str))
        validated = ArgumentSpecValidator(spec, **SPEC_OPTIONS.get(name, {})).validate(args)
        if validated.error_messages:
            raise ConvoxError(validation_message(validated, "convox.rack.%s" % name))
        self.deprecations = deprecated_options(spec, args)
        return validated.validated_parameters, validated._no_log_values

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        if not self._controller_side():
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(module_name=self.module_fqcn, module_args=self._task.args,
                                               task_vars=task_vars, wrap_async=wrap_async))
            return result
        if self._task.async_val:
            result.update(self._run_async())
            return result
        result.update(self._run_here())
        return result

    def _run_here(self) -> dict[str, Any]:
        """Validate the task's arguments, run the module's task in this process (``_tasks``)."""
        warnings: list[str] = []
        with TemporaryEnviron(self._task_environment()):
            try:
                params, no_log_values = self.validate(self.NAME, self._task.args)
            except ConvoxError as exc:
                return {"failed": True, "msg": exc.msg}
            params = self.prepare(params)
            try:
                factory = controller_client_factory(params)
                factory.channel_timeout = self.channel_timeout()
            except ConvoxError as exc:
                return {"failed": True, "changed": False, "msg": exc.msg}
            check_mode = bool(self._play_context.check_mode)   # every module supports check mode
            out, secrets = run_task(self.NAME, params, check_mode, bool(self._task.diff), factory, warnings.append)
        if warnings:
            out["warnings"] = warnings
        if self.deprecations:
            out["deprecations"] = self.deprecations
        return remove_values(out, set(no_log_values) | secrets)

    def _run_async(self) -> dict[str, Any]:
        """``async``/``poll`` controller-side: the manager runs in a detached worker process that writes its
        result where ``async_status`` reads it (the async job file format of ``async_wrapper``); this task returns
        the job id at once.  ``async`` seconds bound the job: past them the task fails saying so, and - like any
        failure after a change - ``changed`` and where the stack is.  A watcher process outlives the worker: a
        worker that dies without a result (killed) is reported dead, not left "running" forever."""
        jid = "j%d.%d" % (random.randint(0, 999999999999), os.getpid())
        async_dir = os.path.expanduser(self.get_shell_option("async_dir", default="~/.ansible_async"))
        job_path = os.path.join(async_dir, jid)
        os.makedirs(async_dir, exist_ok=True)
        _write_job(job_path, {"started": True, "finished": False, "ansible_job_id": jid})
        limit = int(self._task.async_val)
        pid = os.fork()
        if pid == 0:                                  # the first child: detach, start the watcher, leave
            try:
                os.setsid()
                if os.fork():
                    os._exit(0)
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                worker = os.fork()
                if worker == 0:
                    self._async_worker(job_path, jid, limit)
                _watch_job(worker, job_path, jid, limit)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)                            # the first child exits as soon as it has forked
        # changed, as Ansible reports every async job it starts (ActionBase._execute_module with wrap_async)
        return {"started": True, "finished": False, "ansible_job_id": jid, "results_file": job_path, "changed": True}

    def _async_worker(self, job_path: str, jid: str, limit: int) -> NoReturn:
        """The async job itself: runs the task, writes its result, exits.  Its time limit interrupts the task
        where it is (``AsyncTimeLimit``), so the result still says what was changed."""
        try:
            def time_is_up(signum: int, frame: object) -> None:
                signal.alarm(0)
                raise AsyncTimeLimit("async task did not complete within the requested time - %ss; CloudFormation may "
                                     "still be working on the stack." % limit)

            # the worker's own pid, for the watcher and for anyone who must stop it
            _write_job(job_path, {"started": True, "finished": False, "ansible_job_id": jid, "pid": os.getpid()})
            signal.signal(signal.SIGALRM, time_is_up)
            signal.alarm(limit)
            try:
                out = self._run_here()
            except AsyncTimeLimit as exc:           # it struck outside a manager (nothing was changed yet)
                out = {"failed": True, "changed": False, "msg": exc.msg}
            except Exception as exc:  # pylint: disable=broad-except  # reported through the job file
                out = {"failed": True, "changed": False, "msg": "%s: %s" % (type(exc).__name__, exc)}
            signal.alarm(0)
            out["ansible_job_id"] = jid
            _write_job(job_path, out)
        finally:
            os._exit(0)


class AsyncTimeLimit(ConvoxError):
    """An async job's time limit, raised in the job where it is."""


# how long a watcher lets a worker run past its async limit (a call that cannot be interrupted) before killing it
ASYNC_GRACE = 120.0


def _watch_job(worker: int, job_path: str, jid: str, limit: int) -> None:
    """Wait for the async worker; when it ended without writing its result (killed, crashed) or outlived its
    limit by ASYNC_GRACE, write the job's failure: dead, and possibly changed."""
    deadline = time.monotonic() + limit + ASYNC_GRACE
    how = None
    while how is None:
        done, status = os.waitpid(worker, os.WNOHANG)
        if done:
            how = ("killed by signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status)
                   else "exited with status %d" % os.WEXITSTATUS(status))
        elif time.monotonic() > deadline:
            os.kill(worker, signal.SIGKILL)
            os.waitpid(worker, 0)
            how = "killed %d seconds past its async limit of %ds" % (ASYNC_GRACE, limit)
        else:
            time.sleep(0.5)
    try:
        with open(job_path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {"started": True}
    if data.get("started") and not data.get("finished"):
        _write_job(job_path, {"failed": True, "changed": True, "ansible_job_id": jid,
                              "msg": "async job %s died (%s) before it finished; it may have changed the stack, and "
                                     "CloudFormation may still be working on it: check the stack, then run again."
                                     % (jid, how)})


def _write_job(path: str, data: Mapping[str, Any]) -> None:
    """Write an async job file atomically, as ``async_wrapper`` does."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, default=str)
    os.rename(tmp, path)
