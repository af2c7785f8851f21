# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sanity tests that depend on the Python version - ``compile`` and ``import`` - on every Python from 3.10 to 3.13
the machine has but the one the full sanity set runs on (``make sanity``).  An interpreter is a working
``python3.X`` on PATH or, failing that, pyenv's (``$(pyenv root)/versions/3.X.*``); a missing one is skipped with the
reason printed.

    python tools/sanity_pythons.py COLLECTION_DIR [--skip 3.11]
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
TESTS = ["compile", "import"]


def interpreter(version):
    """The bin directory of a working ``python<version>``, and how it was found; (None, why not) when there is none."""
    name = "python" + version
    tried = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
                return directory, "on PATH"
            tried.append(candidate)
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for candidate in sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin", name)), reverse=True):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return os.path.dirname(candidate), "from pyenv"
        tried.append(candidate)
    return None, "no working %s on PATH or under %s/versions (tried: %s)" % (name, root, ", ".join(tried) or "none")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("collection")
    parser.add_argument("--skip", action="append", default=[], help="a Python the full sanity set runs on")
    args = parser.parse_args(argv)
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    failed = []
    for version in PYTHONS:
        if version in args.skip:
            print("sanity %s on Python %s: with the full set (make sanity)" % ("/".join(TESTS), version))
            continue
        bindir, how = interpreter(version)
        if bindir is None:
            print("sanity %s on Python %s: skipped, %s" % ("/".join(TESTS), version, how))
            continue
        found = os.path.join(bindir, "python" + version)
        print("sanity %s on Python %s (%s, %s)" % ("/".join(TESTS), version, found, how), flush=True)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        cmd = [ansible_test, "sanity", "--python", version, "--requirements", "--color", "no"]
        for test in TESTS:
            cmd += ["--test", test]
        if subprocess.run(cmd, cwd=args.collection, env=env, check=False).returncode:
            failed.append(version)
    if failed:
        sys.exit("sanity %s failed on Python %s" % ("/".join(TESTS), ", ".join(failed)))


if __name__ == "__main__":
    main()
