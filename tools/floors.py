# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "oldest" environment: exactly the floors the collection states, so that the floors are tested, not only
claimed.  Prints pip requirement lines:

* ansible-core: the oldest meta/runtime.yml admits (requires_ansible), its newest patch release;
* boto3, botocore, PyYAML: the floors of requirements.txt (``>=X`` becomes ``==X``);
* amazon.aws: the floor galaxy.yml declares, from the ``ansible`` package release that bundles it (there is no
  Galaxy here; the map below says which release that is - extend it when the floor moves).

    python tools/floors.py                          # the requirement lines
    python tools/floors.py --bundle                 # the ansible package release that bundles amazon.aws's floor
    python tools/floors.py --collections DIR        # DIR/ansible_collections: amazon.aws at its floor (taken from
                                                    # that release's wheel) and this collection (a link)
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# amazon.aws release -> the ansible package release that bundles exactly it
ANSIBLE_BUNDLING = {"9.0.0": "11.0.0"}


def _found(pattern, path):
    """The first group of ``pattern`` in the file ``path`` (relative to the repository); exits naming both if absent."""
    with open(os.path.join(REPO, path)) as f:
        match = re.search(pattern, f.read())
    if match is None:
        sys.exit("tools/floors.py: %s states no floor (%s)" % (path, pattern))
    return match.group(1)


def floors():
    core = _found(r'requires_ansible: ">=(\d+\.\d+)', os.path.join("meta", "runtime.yml"))
    lines = ["ansible-core==%s.*" % core]
    with open(os.path.join(REPO, "requirements.txt")) as f:
        for line in f:
            match = re.match(r"^([A-Za-z0-9_.-]+)>=([0-9.]+)\s*(#.*)?$", line.strip())
            if match:
                lines.append("%s==%s" % (match.group(1), match.group(2)))
    aws = _found(r'amazon\.aws:\s*">=([0-9.]+)', "galaxy.yml")
    if aws not in ANSIBLE_BUNDLING:
        sys.exit("tools/floors.py: no ansible package release known to bundle amazon.aws %s; add it to ANSIBLE_BUNDLING"
                 % aws)
    return lines, "ansible==%s" % ANSIBLE_BUNDLING[aws]


def install_collections(target):
    """amazon.aws exactly at the floor galaxy.yml declares, into ``target``/ansible_collections (from the wheel of the
    ansible release that bundles it: only that collection is unpacked, and ansible.posix of the same release, whose
    json callback the integration tests read results with), and this collection linked beside it."""
    dummy, bundle = floors()
    root = os.path.join(target, "ansible_collections")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "-d", tmp, bundle], check=True)
        wheel, = glob.glob(os.path.join(tmp, "*.whl"))
        for namespace in ("amazon", "ansible"):
            shutil.rmtree(os.path.join(root, namespace), ignore_errors=True)
        wanted = ("ansible_collections/amazon/aws/", "ansible_collections/ansible/posix/")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target, [n for n in archive.namelist() if n.startswith(wanted)])
    os.makedirs(os.path.join(root, "convox"), exist_ok=True)
    link = os.path.join(root, "convox", "rack")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(REPO, link)


if __name__ == "__main__":
    pinned, bundle = floors()
    if sys.argv[1:] == ["--bundle"]:
        print(bundle)
    elif sys.argv[1:2] == ["--collections"] and len(sys.argv) == 3:
        install_collections(sys.argv[2])
    else:
        print("\n".join(pinned))
