# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make deps-newest``: try the newest releases of every dependency before a pin moves (not part of make test).

Builds .venv/newest from requirements-dev.txt and requirements.txt with no constraints (the ranges only), lists the
packages whose newest release differs from constraints.txt, then runs on it the local endpoint's own tests
(tests/unit/tools), the unit tests and the least-privilege lifecycle (the tests a new moto, boto3 or ansible-core
breaks first), and ends with one line per part: passed, or failed with its last lines.  Nothing is changed in
constraints.txt: when everything passes, `python tools/constraints.py freeze` (after `make setup-all` on the new
versions) moves the pins on purpose.

    python tools/deps_newest.py [--keep]        # --keep: reuse .venv/newest if it exists
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEWEST = os.path.join(REPO, ".venv", "newest")
PARTS = [
    ("the local endpoint's tests", ["tests/unit/tools"]),
    ("the unit tests", ["tests/unit", "--ignore", "tests/unit/tools"]),
    ("the least-privilege lifecycle", ["tests/integration/test_least_privilege.py"]),
]


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PIP_CONSTRAINT="")               # the ranges alone, whatever pip's configuration says
    return subprocess.run(cmd, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False, **kwargs)  # type: ignore[call-overload]


def build() -> None:
    python = os.path.join(NEWEST, "bin", "python")
    if "--keep" not in sys.argv or not os.path.exists(python):
        shutil.rmtree(NEWEST, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", NEWEST], check=True)
        for args in (["--upgrade", "pip"], ["--upgrade", "-r", "requirements-dev.txt", "-r", "requirements.txt"]):
            proc = run([python, "-m", "pip", "install", "--quiet"] + args)
            if proc.returncode:
                sys.exit("make deps-newest: the newest versions do not install together:\n" + proc.stdout[-4000:])


def main() -> int:
    started = time.time()
    build()
    python = os.path.join(NEWEST, "bin", "python")
    moved = run([sys.executable, "tools/constraints.py", "diff", python]).stdout.strip()
    print("make deps-newest: what the newest releases move (constraints.txt -> newest)")
    print(moved or "  nothing: every pin is the newest release")
    results = []
    for name, args in PARTS:
        began = time.time()
        proc = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"] + args)
        tail = "\n    ".join(proc.stdout.strip().splitlines()[-8:])
        results.append((name, proc.returncode, time.time() - began, tail))
    print("\nmake deps-newest: results on the newest versions (%d s)" % (time.time() - started))
    for name, code, seconds, tail in results:
        verdict = "passed" if code == 0 else "FAILED"
        print("  %-32s %s (%d s)%s" % (name, verdict, seconds, "" if code == 0 else "\n    " + tail))
    return 1 if any(code for dummy, code, dummy2, dummy3 in results) else 0


if __name__ == "__main__":
    sys.exit(main())
