# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: start the local AWS endpoint, publish the demo releases, run the fleet playbooks,
and stop the endpoint again (unless KEEP=1)."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import localaws  # noqa: E402

STATE = os.path.join(REPO, ".tmp", "localaws")
BIN = os.path.dirname(sys.executable)


def banner(text):
    print("\n" + "=" * 78 + "\n" + text + "\n" + "=" * 78, flush=True)


def playbook(path, *args, env=None):
    cmd = [os.path.join(BIN, "ansible-playbook"), path] + list(args)
    print("$ " + " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd[0:1]) + " "
          + " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd[1:]), flush=True)
    proc = subprocess.run(cmd, cwd=REPO, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit("demo step failed: %s (exit %d)" % (os.path.basename(path), proc.returncode))


def main():
    keep = os.environ.get("KEEP") == "1"
    endpoint = localaws.start(STATE)
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="localaws-demo-key-id", AWS_SECRET_ACCESS_KEY="localaws-demo-secret-key",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_DEPRECATION_WARNINGS="false", ANSIBLE_DISPLAY_SKIPPED_HOSTS="false")
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(var, None)
    banner("Local AWS endpoint: %s" % endpoint)
    try:
        banner("1. Publish three demo releases (the middle one required)")
        playbook(os.path.join(REPO, "playbooks", "demo", "publish.yml"), env=env)
        for step, title, path, args in STEPS:
            if os.path.exists(os.path.join(REPO, path)):
                banner(title)
                playbook(os.path.join(REPO, path), *args, env=env)
    finally:
        if keep:
            print("\nLocal AWS left running at %s (stop it with `make localaws-stop`)." % endpoint)
        else:
            localaws.stop(STATE)
            print("\nLocal AWS stopped.")


INVENTORY = ["-i", "playbooks/inventory/demo"]
STEPS = [
    (2, "2. Converge the fleet: site.yml", "playbooks/site.yml", INVENTORY),
    (3, "3. Dry run of the fleet update: update.yml --check --diff", "playbooks/update.yml",
     INVENTORY + ["--check", "--diff"]),
    (4, "4. Fleet update: update.yml", "playbooks/update.yml", INVENTORY),
]

if __name__ == "__main__":
    main()
