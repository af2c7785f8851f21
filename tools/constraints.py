# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One constraints file, exact versions, for every environment ``make`` builds (constraints.txt).

A dependency's new release must not turn main red overnight: every virtualenv of ``make setup-all`` installs with
``pip install -c <its constraints>`` and is then checked to hold exactly the pinned versions.  constraints.txt is a
valid pip constraints file as it is (the newest environment, ``.venv``); what another environment pins differently
is written below it as comments pip ignores, ``#[<environment>] name==version``:

* ``core-2.18``  ansible-core 2.18 (and what it needs older), the rest as .venv;
* ``checkov``    checkov's own virtualenv (checkov pins some of its dependencies older);
* ``importer``   galaxy-importer's own virtualenv (Galaxy's and Automation Hub's importer pins older attrs, flake8);
* ``oldest``     the floors' environment: the packages tools/floors.py names (ansible-core, boto3, botocore,
                 PyYAML) are exactly the floors it states; lines here pin what the floors need older (s3transfer,
                 resolvelib) and the patch release of ansible-core's floor series.

    python tools/constraints.py render ENV > FILE      # the constraints of ENV (main, core-2.18, checkov, oldest:
                                                       # its test harness, before the floors it cannot run on)
    python tools/constraints.py check ENV PYTHON       # every package PYTHON's environment holds is pinned, as pinned
    python tools/constraints.py freeze                 # rewrite constraints.txt from the environments as they are
                                                       # (after a deliberate upgrade: make deps-newest, then this)
    python tools/constraints.py diff PYTHON            # what PYTHON's environment has that the pins do not
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILE = os.path.join(REPO, "constraints.txt")
VENV = os.path.join(REPO, ".venv")
ENVIRONMENTS = {"main": VENV, "core-2.18": os.path.join(VENV, "core-2.18"), "checkov": os.path.join(VENV, "checkov"),
                "importer": os.path.join(VENV, "importer"), "oldest": os.path.join(VENV, "core-oldest")}
_LINE = re.compile(r"^(#\[(?P<env>[a-z0-9.-]+)\]\s*)?(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s;#]+)\s*$")
HEADER = """\
# Exact versions of every test and tool dependency, for every environment make builds (tools/constraints.py).
# A new release of a dependency changes nothing here until someone moves a pin on purpose: `make deps-newest`
# builds an environment of the newest versions, lists what would move and runs the endpoint and unit tests on it;
# `python tools/constraints.py freeze` then rewrites this file from the environments as they are.
# The lines "#[env] name==version" (comments to pip) pin what one environment holds differently.
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read(path: str = FILE) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, tuple[str, str]]]]:
    """(main pins, {environment: its own pins}), each {canonical name: (name, version)}."""
    main: dict[str, tuple[str, str]] = {}
    envs: dict[str, dict[str, tuple[str, str]]] = {}
    with open(path) as f:
        for raw in f:
            match = _LINE.match(raw.strip())
            if not match:
                continue
            target = envs.setdefault(match.group("env"), {}) if match.group("env") else main
            target[canonical(match.group("name"))] = (match.group("name"), match.group("version"))
    return main, envs


# a floor the test harness itself cannot run on (the local endpoint's cfn-lint needs PyYAML >= 6.0.3): the harness
# installs with .venv's version, then the floor goes in over it without its dependencies (make's oldest environment)
HARNESS_NEWER = {"pyyaml"}


def floors() -> dict[str, tuple[str, str]]:
    """The floors tools/floors.py states, {canonical name: (name, version)} ("2.17.*" for ansible-core's)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import floors as floors_tool
    lines, dummy = floors_tool.floors()
    out = {}
    for line in lines:
        name, dummy2, version = line.partition("==")
        out[canonical(name)] = (name, version)
    return out


def pins(env: str, harness: bool = True) -> dict[str, tuple[str, str]]:
    """What ``env`` pins; for the oldest environment, the floors themselves (``harness``: as the test harness
    installs, before the floors it cannot run on go in)."""
    if env not in ENVIRONMENTS:
        sys.exit("tools/constraints.py: no environment %r (one of %s)" % (env, ", ".join(ENVIRONMENTS)))
    main, envs = read()
    out = dict(main)
    if env == "oldest":
        for key, pin in floors().items():
            if pin[1].endswith("*"):            # ansible-core's floor is a series: its patch release is pinned below
                out.pop(key, None)
            elif not (harness and key in HARNESS_NEWER):
                out[key] = pin
    out.update(envs.get(env, {}))
    return out


def render(env: str) -> str:
    return "".join("%s==%s\n" % pin for dummy, pin in sorted(pins(env).items()))


def installed(python: str) -> dict[str, tuple[str, str]]:
    out = subprocess.run([python, "-m", "pip", "list", "--format", "freeze", "--exclude-editable",
                          "--disable-pip-version-check"], check=True, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        match = _LINE.match(line.strip())
        if match:
            found[canonical(match.group("name"))] = (match.group("name"), match.group("version"))
    return found


def differences(env: str, python: str) -> list[str]:
    wanted = pins(env, harness=False)
    out = []
    for key, (name, version) in sorted(installed(python).items()):
        if key not in wanted:
            out.append("%s==%s is installed but not pinned" % (name, version))
        elif wanted[key][1] != version:
            out.append("%s==%s is installed, %s is pinned" % (name, version, wanted[key][1]))
    return out


def freeze() -> str:
    """constraints.txt from the environments as they are: .venv's versions, then what each other one holds
    differently (the oldest environment's floors left to tools/floors.py)."""
    found = {env: installed(os.path.join(path, "bin", "python")) for env, path in ENVIRONMENTS.items()
             if os.path.exists(os.path.join(path, "bin", "python"))}
    if "main" not in found:
        sys.exit("tools/constraints.py: no .venv to freeze (make setup-all first)")
    main = dict(found["main"])
    for env, packages in found.items():               # a package only another environment has: pinned for all
        for key, pin in packages.items():
            if key not in main and env != "oldest":
                main[key] = pin
    lines = [HEADER] + ["%s==%s\n" % pin for dummy, pin in sorted(main.items())]
    skip = {key for key, pin in floors().items() if not pin[1].endswith("*")}
    for env in ("core-2.18", "checkov", "importer", "oldest"):
        for key, (name, version) in sorted(found.get(env, {}).items()):
            if key in main and main[key][1] == version:
                continue
            if env == "oldest" and key in skip:
                continue
            lines.append("#[%s] %s==%s\n" % (env, name, version))
    return "".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["render"] and len(argv) == 2:
        sys.stdout.write(render(argv[1]))
    elif argv[:1] == ["check"] and len(argv) == 3:
        problems = differences(argv[1], argv[2])
        if problems:
            print("tools/constraints.py: the %s environment differs from constraints.txt:\n  %s"
                  % (argv[1], "\n  ".join(problems)), file=sys.stderr)
            return 1
    elif argv == ["freeze"]:
        text = freeze()
        with open(FILE, "w") as f:
            f.write(text)
    elif argv[:1] == ["diff"] and len(argv) == 2:
        main_pins = pins("main")
        for key, (name, version) in sorted(installed(argv[1]).items()):
            if key not in main_pins:
                print("new      %s==%s" % (name, version))
            elif main_pins[key][1] != version:
                print("moved    %s %s -> %s" % (name, main_pins[key][1], version))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
