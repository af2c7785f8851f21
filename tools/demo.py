# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: start the local AWS endpoint, publish demo releases, converge the demo fleet,
dry-run and run a fleet update, write the fleet report (playbooks/inventory/fleet-report/fleet-report.html,
beside the demo inventory) and stop the
endpoint again (KEEP=1 leaves it running).

Each playbook runs with the JSON callback; the demo prints what a person reads - the channel,
the per-rack plans, the fleet summary tables and each play recap.  VERBOSE=1 prints everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import localaws  # noqa: E402

STATE = os.path.join(REPO, ".tmp", "localaws")
BIN = os.path.dirname(sys.executable)
INVENTORY = ["-i", "playbooks/inventory/demo"]
SHOWN = ("Show the channel", "Show the plan of each rack", "Fleet summary", "Channel releases",
         "How far behind each rack is", "Where the report is")


def banner(text):
    print("\n" + "=" * 100 + "\n" + text + "\n" + "=" * 100, flush=True)


def render(report):
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            for host, result in sorted(task.get("hosts", {}).items()):
                if result.get("failed") and not result.get("ignore_errors"):
                    print("FAILED %s | %s: %s" % (host, name, result.get("msg")))
                if name not in SHOWN or result.get("skipped"):
                    continue
                items = result.get("results") or [result]
                for item in items:
                    msg = item.get("msg")
                    if isinstance(msg, list):
                        print("\n".join(msg))
                    elif msg:
                        print(msg)
    stats = report.get("stats", {})
    if stats:
        print("\nrecap: " + "; ".join(
            "%s ok=%d changed=%d failed=%d" % (h, s.get("ok", 0), s.get("changed", 0), s.get("failures", 0))
            for h, s in sorted(stats.items()) if h != "localhost"))


def playbook(env, path, *args):
    shown = " ".join([os.path.relpath(path, REPO)] + list(args))
    print("$ ansible-playbook " + shown, flush=True)
    verbose = os.environ.get("VERBOSE") == "1"
    run_env = dict(env)
    if not verbose:
        run_env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_JSON_INDENT="0")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), path] + list(args), cwd=REPO, env=run_env,
                          stdout=None if verbose else subprocess.PIPE, stderr=None if verbose else subprocess.PIPE,
                          text=True, check=False)
    if not verbose:
        try:
            render(json.loads(proc.stdout[proc.stdout.index("{"):]))
        except ValueError:
            print(proc.stdout)
            print(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit("demo step failed: ansible-playbook %s (exit %d)" % (shown, proc.returncode))


def pb(name):
    return os.path.join(REPO, "playbooks", name)


def main():
    keep = os.environ.get("KEEP") == "1"
    endpoint = localaws.start(STATE)
    env = dict(os.environ)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_URL"):
        env.pop(var, None)
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="localaws-demo-key-id",
               AWS_SECRET_ACCESS_KEY="localaws-demo-secret-key", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_DEPRECATION_WARNINGS="false", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_NOCOLOR="1")
    banner("Local AWS endpoint: %s" % endpoint)
    try:
        banner("1. Publish the first demo release")
        playbook(env, pb("demo/publish.yml"), "-e", "demo_count=1")
        banner("2. Converge the fleet (6 racks, 2 orgs, 2 regions, apps on 4): site.yml")
        playbook(env, pb("site.yml"), *INVENTORY)
        banner("3. Converge again: nothing to do (changed=0 everywhere)")
        playbook(env, pb("site.yml"), *INVENTORY)
        banner("4. Two new releases come out; the middle one is required")
        playbook(env, pb("demo/publish.yml"))
        banner("5. How far behind is each rack: releases.yml")
        playbook(env, pb("releases.yml"), *INVENTORY)
        banner("6. Dry run of the fleet update: update.yml --check --diff")
        playbook(env, pb("update.yml"), *(INVENTORY + ["--check", "--diff"]))
        banner("7. Fleet update: canary first, then batches: update.yml")
        playbook(env, pb("update.yml"), *INVENTORY)
        banner("8. Someone suspends versioning on a bucket of acme-prod by hand (simulated); the fleet report,\n"
               "   with drift detection: report.yml -e convox_detect_drift=true")
        localaws.post(endpoint, "/_localaws/stack", {"stack_name": "acme-prod", "drift": {"Settings": {
            "status": "MODIFIED", "differences": [{"path": "/VersioningConfiguration/Status", "expected": "Enabled",
                                                   "actual": "Suspended", "type": "NOT_EQUAL"}]}}})
        playbook(env, pb("report.yml"), *(INVENTORY + ["-e", "convox_detect_drift=true"]))
    finally:
        if keep:
            print("\nLocal AWS left running at %s (stop it with `make localaws-stop`)." % endpoint)
        else:
            localaws.stop(STATE)
            print("\nLocal AWS stopped.")


if __name__ == "__main__":
    main()
