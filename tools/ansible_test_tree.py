# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prepare an offline-capable ansible-test run.

1. Copy the collection (the files git knows, tracked or not ignored) to
   ``<root>/convox/rack`` and link amazon.aws (from the ``ansible`` package) beside it.
2. Seed ansible-test's pip bootstrap cache with a small script that bootstraps pip with
   ``ensurepip`` and installs the requested pip from the package index, because the host
   ansible-test downloads its get-pip script from is not reachable here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GET_PIP = '''"""Offline stand-in for get-pip.py, written by convox.rack tools/ansible_test_tree.py.

Bootstraps the pip bundled with Python (ensurepip), then installs the requested pip from a wheel
downloaded beforehand by the developer's own (working) pip, falling back to the package index.
"""
import ensurepip
import subprocess
import sys

WHEELS = %r
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel", "--no-pip"}
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
ensurepip.bootstrap(upgrade=True)
pip = [sys.executable, "-m", "pip", "install"]
if subprocess.call(pip + ["--no-index", "--find-links", WHEELS] + args) != 0:
    sys.exit(subprocess.call(pip + args))
'''


def tracked_files():
    out = subprocess.check_output(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    return [f for f in out.decode().split("\0") if f and os.path.exists(os.path.join(REPO, f))]


def copy_tree(root):
    dest = os.path.join(root, "convox", "rack")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for rel in tracked_files():
        src = os.path.join(REPO, rel)
        if os.path.isdir(src):
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target)
    import ansible_collections.amazon.aws as amazon_aws  # from the `ansible` package
    amazon = os.path.dirname(list(amazon_aws.__path__)[0])
    link = os.path.join(root, "amazon")
    if os.path.islink(link) or os.path.exists(link):
        if os.path.islink(link):
            os.unlink(link)
        else:
            shutil.rmtree(link)
    os.symlink(amazon, link)
    return dest


def seed_get_pip():
    import ansible_test
    source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(source) as f:
        versions = set(re.findall(r"pip='([0-9.]+)'", f.read()))
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    wheels = os.path.join(cache, "pip-wheels")
    for version in versions:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", wheels,
                               "pip==%s" % version])
        path = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
        with open(path, "w") as f:
            f.write(GET_PIP % wheels)


def main():
    root = os.path.abspath(sys.argv[1])
    dest = copy_tree(root)
    seed_get_pip()
    print(dest)


if __name__ == "__main__":
    main()
