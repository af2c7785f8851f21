# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enforce the module_utils layering: arrows point down the list only.

_errors <- _releases, _tags <- _channel, _templates <- _common <- _stack <- _managed <- _release, _app <- _rack
"""

from __future__ import annotations

import os
import re
import sys

LAYERS = {
    "_errors": set(),
    "_releases": {"_errors"},
    "_templates": {"_errors"},
    "_tags": {"_errors"},
    "_changes": set(),
    "_common": {"_errors"},
    "_channel": {"_errors", "_releases"},
    "_stack": {"_errors", "_common", "_templates"},
    "_release": {"_errors", "_releases", "_channel", "_common", "_templates", "_stack"},
    "_managed": {"_errors", "_common", "_templates", "_stack", "_channel", "_tags", "_changes"},
    "_app": {"_errors", "_common", "_templates", "_stack", "_managed", "_tags"},
    "_rack": {"_errors", "_releases", "_common", "_templates", "_stack", "_managed", "_app", "_info", "_tags",
              "_changes"},
    "_info": {"_errors", "_common", "_stack", "_tags"},
    "_fleet": {"_errors", "_common", "_stack", "_rack", "_channel"},
    "_module": {"_errors", "_common"},
    "_report": {"_errors"},
}

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins", "module_utils")
IMPORT = re.compile(r"plugins\.module_utils\.(_\w+)")


def main():
    bad = []
    for name in sorted(os.listdir(ROOT)):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        mod = name[:-3]
        with open(os.path.join(ROOT, name)) as f:
            used = set(IMPORT.findall(f.read())) - {mod}
        allowed = LAYERS.get(mod)
        if allowed is None:
            bad.append("%s: not in the layer table of tools/check_layers.py" % name)
            continue
        for dep in sorted(used - allowed):
            bad.append("%s imports %s, against the layering" % (name, dep))
        if mod != "_module" and "AnsibleModule" in open(os.path.join(ROOT, name)).read():
            bad.append("%s mentions AnsibleModule; managers take plain inputs" % name)
    for line in bad:
        print(line)
    print("layers: %d problem(s)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
