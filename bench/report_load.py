# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How fast the fleet report opens at fleet size: the page of 1,000 racks (4 orgs x 3 accounts x 3 regions, the
integration test's fleet) in Chromium, from navigation to the end of the load event (parsing, layout, the page's
script), median of ``--runs``.  The goal (docs/guide.md): well under 2 s.  Prints figures; asserts nothing.

    .venv/bin/python bench/report_load.py [--racks 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, "tests", "integration"), os.path.join(REPO, "tools"),
                os.path.join(REPO, ".venv", "collections")]

from test_drift_report import fleet_hostvars  # noqa: E402

from ansible_collections.convox.rack.plugins.filter.fleet_report import fleet_report_html, fleet_report_rows  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--racks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on this machine (Debian package chromium): nothing measured")
        return 1
    from playwright.sync_api import sync_playwright
    hostvars = fleet_hostvars(args.racks)
    rows = fleet_report_rows(sorted(hostvars), hostvars)
    with tempfile.TemporaryDirectory() as tmp:
        page_path = os.path.join(tmp, "fleet-report.html")
        with open(page_path, "w") as f:
            f.write(fleet_report_html(rows, generated="2026-12-01 00:00:00 UTC"))
        size = os.path.getsize(page_path)
        times = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            try:
                for dummy in range(args.runs):
                    page = browser.new_page(viewport={"width": 1366, "height": 768})
                    page.goto("file://" + page_path, wait_until="load")
                    times.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                    page.close()
            finally:
                browser.close()
    print("fleet report at %d racks (%d KB): loaded in %.0f ms (median of %d; min %.0f, max %.0f)"
          % (args.racks, size // 1024,
             statistics.median(times), len(times), min(times), max(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
