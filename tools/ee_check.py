# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make ee`: the execution environment definition (docs/examples/awx/execution-environment.yml) builds its context
with `ansible-builder create`, and the Python requirements an EE would install - the collection's, amazon.aws's (both
from their meta/execution-environment.yml) and the definition's ansible-core and ansible-runner - resolve together
(`pip install --dry-run`, against the package index).  Prints what they resolve to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFINITION = os.path.join(REPO, "docs", "examples", "awx", "execution-environment.yml")


def collection_requirements(root):
    """The Python requirements a collection declares for an EE: its meta/execution-environment.yml, else its
    requirements.txt (ansible-builder's own fallback)."""
    meta = {"dependencies": {"python": "requirements.txt"}}
    if os.path.exists(os.path.join(root, "meta", "execution-environment.yml")):
        with open(os.path.join(root, "meta", "execution-environment.yml")) as f:
            meta = yaml.safe_load(f)
    python = (meta.get("dependencies") or {}).get("python")
    if python and not os.path.exists(os.path.join(root, python)):
        return []
    if not python:
        return []
    with open(os.path.join(root, python)) as f:
        return [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]


def main():
    bindir = os.path.dirname(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        context = os.path.join(tmp, "context")
        subprocess.run([os.path.join(bindir, "ansible-builder"), "create", "-f", DEFINITION, "-c", context],
                       check=True, cwd=os.path.dirname(DEFINITION))
        made = sorted(os.listdir(context))
        build = sorted(os.listdir(os.path.join(context, "_build")))
        if not {"Containerfile", "Dockerfile"} & set(made) or "requirements.yml" not in build:
            sys.exit("ee: ansible-builder create made %s (and _build: %s), not a build context" % (made, build))
        print("ee: build context made: %s; _build: %s" % (", ".join(made), ", ".join(build)))
        import ansible_collections.amazon.aws as amazon_aws  # a namespace package: its first path
        with open(DEFINITION) as f:
            definition = yaml.safe_load(f)
        deps = definition["dependencies"]
        wanted = collection_requirements(REPO) + collection_requirements(list(amazon_aws.__path__)[0]) + [
            deps["ansible_core"]["package_pip"], deps["ansible_runner"]["package_pip"]]
        report = os.path.join(tmp, "report.json")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                        "--report", report] + wanted, check=True)
        with open(report) as f:
            resolved = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                        for item in json.load(f)["install"]}
    names = ("ansible-core", "ansible-runner", "boto3", "botocore", "pyyaml")
    versions = ", ".join("%s %s" % (name, resolved.get(name, "?")) for name in names)
    print("ee: %s resolve together: %s" % (" ".join(wanted), versions))


if __name__ == "__main__":
    main()
