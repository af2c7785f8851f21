# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make galaxy``: the built tarball through galaxy-importer, the code Galaxy and Automation Hub run on an upload.

Builds the collection (``ansible-galaxy collection build``), then imports it with galaxy-importer configured as
Automation Hub runs it - ansible-doc on every plugin, ansible-lint (offline), the changelog checked, tags required,
version 1.0.0 or greater - except ansible-test, which needs a container engine this machine does not have (make test
runs ansible-test sanity itself).  The documentation must render without amazon.aws installed, as there.  Prints the
importer's output and each documented plugin; fails on any ERROR line, on a failed import, or when a module, the
inventory plugin or the role has no documentation.

    python tools/galaxy_import.py [IMPORTER_PYTHON]       # default: .venv/importer/bin/python
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = """[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
CHECK_REQUIRED_TAGS = True
REQUIRE_V1_OR_GREATER = True
RUN_ANSIBLE_TEST = False
RUN_FLAKE8 = False
ANSIBLE_LOCAL_TMP = {tmp}/ansible-tmp
"""
EXPECTED = {"module": {"rack", "rack_app", "rack_batch", "rack_batch_bake", "rack_batch_preflight", "rack_batch_result",
                       "rack_info", "rack_release", "rack_release_info"},
            "inventory": {"racks"}, "role": {"rack"}}


def main(argv: list[str]) -> int:
    python = argv[0] if argv else os.path.join(REPO, ".venv", "importer", "bin", "python")
    bindir = os.path.dirname(python)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-galaxy"), "collection", "build", REPO,
                        "--output-path", tmp], check=True, capture_output=True, text=True,
                       env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=tmp))
        tarball, = glob.glob(os.path.join(tmp, "convox-rack-*.tar.gz"))
        config = os.path.join(tmp, "galaxy-importer.cfg")
        with open(config, "w") as f:
            f.write(CONFIG.format(tmp=tmp))
        # only the importer's own environment: no collection but the one imported (no amazon.aws), its ansible-doc
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON"))}
        env.update(GALAXY_IMPORTER_CONFIG=config, PATH=bindir + os.pathsep + env.get("PATH", ""))
        result = os.path.join(tmp, "result.json")
        proc = subprocess.run([python, "-m", "galaxy_importer.main", tarball, "--print-result"], env=env, cwd=tmp,
                              capture_output=True, text=True, timeout=900, check=False)
        start = proc.stdout.find("\n{")
        log = (proc.stdout[:start] if start >= 0 else proc.stdout) + proc.stderr
        output = log
        # the importer's log (its JSON result, printed after it, is read below, not shown)
        print("\n".join(line for line in log.splitlines() if not line.startswith("Loading ")))
        data = {}
        if start >= 0:
            try:
                data = json.loads(proc.stdout[start + 1:])
            except ValueError:
                data = {}
        with open(result, "w") as f:
            json.dump(data, f)
    problems = [line for line in output.splitlines() if line.startswith("ERROR") or " ERROR " in line]
    if proc.returncode or "Importer processing completed successfully" not in output:
        problems.append("the import did not complete (exit %d)" % proc.returncode)
    contents = data.get("contents") or []
    documented = {(c.get("content_type"), c.get("name")) for c in contents if c.get("description") or c.get("doc_strings")}
    docs = (data.get("docs_blob") or {}).get("contents") or []
    with_docs = {(d.get("content_type"), d.get("content_name")) for d in docs if d.get("doc_strings")}
    for kind, names in EXPECTED.items():
        for name in sorted(names):
            if kind != "role" and (kind, name) not in with_docs:
                problems.append("%s %s has no documentation in the import" % (kind, name))
            if kind == "role" and (kind, name) not in documented and (kind, name) not in with_docs:
                problems.append("role %s is not in the import" % name)
    print("\nmake galaxy: %d plugins and roles documented: %s" % (len(with_docs), ", ".join(
        "%s %s" % item for item in sorted(with_docs, key=str))))
    if problems:
        print("make galaxy: the importer refuses or degrades the collection:\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 1
    print("make galaxy: galaxy-importer accepts the collection")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
