# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``make test``'s parts: the short ones in lanes side by side, then the playbook scenarios alone.

Most short parts (mypy, ansible-lint, antsibull-docs, galaxy-importer, pylint in sanity, molecule) use one core; on
two cores two lanes of them take the time of the longer lane, not of all of them.  The integration suite runs alone
after them: its four workers keep both cores busy.  Each part's output goes to ``.tmp/test-logs/<part>.log`` and is
printed whole when the part ends, so the lanes' lines never interleave; the first failure stops the run, its
output printed last.  Parts that share a directory are in one lane (ansible-test units and sanity copy the tree to
the same place; lint's mypy cache sits beside what galaxy builds).  The last parts print as they run.

    python tools/test_parts.py LANE [LANE ...] -- LAST ...      (a lane: parts joined by commas)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGS = os.path.join(REPO, ".tmp", "test-logs")


class Runner:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed: list[tuple[str, str]] = []

    def part(self, name: str, stream: bool = False) -> bool:
        """Run ``make <name>``: its output in its log, printed when it ends (``stream``: as it comes), and its time."""
        log = os.path.join(LOGS, "%s.log" % name)
        start = time.monotonic()
        if stream:
            code = subprocess.run(["make", "--no-print-directory", name], cwd=REPO, check=False).returncode
            text = "(printed above)"
        else:
            with open(log, "w") as out:
                code = subprocess.run(["make", "--no-print-directory", name], cwd=REPO, stdout=out,
                                      stderr=subprocess.STDOUT, check=False).returncode
            with open(log) as f:
                text = f.read()
        took = int(time.monotonic() - start)
        with self.lock:
            if code:
                self.failed.append((name, text))
                print("make test: %s FAILED after %d s" % (name, took), flush=True)
            else:
                if not stream:
                    sys.stdout.write(text)
                print("make test: %s took %d s" % (name, took), flush=True)
        return code == 0

    def lane(self, parts: list[str], stream: bool = False) -> None:
        for name in parts:
            if self.failed or not self.part(name, stream):
                return


def main(argv: list[str]) -> int:
    lanes, last = argv, []
    if "--" in argv:
        lanes, last = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    os.makedirs(LOGS, exist_ok=True)
    runner = Runner()
    start = time.monotonic()
    threads = [threading.Thread(target=runner.lane, args=(lane.split(","),)) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not runner.failed:
        print("make test: the short parts, in %d lanes, took %d s" % (len(lanes), int(time.monotonic() - start)),
              flush=True)
        runner.lane(last, stream=True)
    for name, text in runner.failed:
        print("\n==== make %s failed ====\n%s" % (name, text[-60000:]), flush=True)
    if runner.failed:
        return 1
    print("make test: all suites passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
