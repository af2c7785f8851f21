# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enforce the layering of plugins/: arrows point down only.

Between kinds of plugin: modules and filters use module_utils only; plugin_utils uses module_utils;
action and inventory plugins use plugin_utils and module_utils; nothing imports a module (argument
specs live in module_utils/model/_specs.py) and module_utils imports no other kind.  Within module_utils:

_errors <- _releases, _names, _tags, _templates, _statuses <- _common <- _accounts, _channel, _stack <- _managed <- _publish, _app <- _rack
_specs (pure, the defaults) <- _managed, _publish;  _rack, _app, _publish, _info <- _tasks <- _module

And no file under plugins/ imports an underscore name from amazon.aws or ansible-core, or reads a
private attribute of their objects, except the reads listed in PRIVATE with the reason.
"""

from __future__ import annotations

import os
import re
import sys

LAYERS = {
    "_errors": set(),
    "_releases": {"_errors"},
    "_templates": {"_errors", "_common"},
    "_tags": {"_errors"},
    "_changes": set(),
    "_image": set(),
    "_exports": set(),
    "_quotas": {"_common"},
    "_common": {"_errors"},
    "_accounts": {"_errors", "_common"},
    "_names": {"_errors"},
    "_channel": {"_errors", "_releases", "_common"},
    "_statuses": set(),
    "_stack": {"_errors", "_common", "_templates", "_statuses"},
    "_parameters": {"_errors", "_templates"},
    "_plan": set(),
    "_buckets": {"_errors"},
    "_alarms": set(),
    "_publish": {"_errors", "_specs", "_releases", "_channel", "_common", "_templates"},
    "_release_info": {"_errors", "_specs", "_releases", "_channel", "_common", "_templates"},
    "_managed": {"_errors", "_specs", "_common", "_templates", "_stack", "_channel", "_tags", "_changes", "_parameters",
                 "_buckets", "_plan", "_alarms"},
    "_app": {"_errors", "_common", "_names", "_templates", "_stack", "_managed", "_tags", "_parameters", "_plan",
             "_info", "_quotas"},
    "_rack": {"_errors", "_releases", "_common", "_names", "_templates", "_stack", "_managed", "_app", "_info", "_tags",
              "_changes", "_parameters", "_plan", "_image", "_exports", "_quotas", "_accounts"},
    "_info": {"_errors", "_common", "_stack", "_tags", "_parameters", "_templates"},
    "_fleet": {"_errors", "_common", "_accounts", "_stack", "_managed", "_rack", "_channel", "_releases", "_quotas",
               "_templates", "_alarms"},
    "_specs": set(),
    "_tasks": {"_errors", "_common", "_accounts", "_managed", "_app", "_info", "_rack", "_publish", "_release_info"},
    "_module": {"_errors", "_common", "_accounts", "_specs", "_tasks"},
    "_report": {"_errors", "_statuses"},
}

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins")
ROOT = os.path.join(PLUGINS, "module_utils")
# an import of a module_utils file: ...module_utils.<package>._name, or from ...module_utils.<package> import _name
IMPORT = re.compile(r"plugins\.module_utils\.\w+(?:\.|\s+import\s+)(_\w+)")
# the layer packages of module_utils, lowest first; fleet and runtime are both the top (neither imports the other)
PACKAGES = {"model": 0, "aws": 1, "managers": 2, "fleet": 3, "runtime": 3}
KIND_IMPORT = re.compile(r"ansible_collections\.convox\.rack\.plugins\.(\w+)")
# kind of plugin -> the kinds it may import
KINDS = {
    "modules": {"module_utils"},
    "module_utils": {"module_utils"},
    "plugin_utils": {"module_utils", "plugin_utils"},
    "action": {"module_utils", "plugin_utils"},
    "inventory": {"module_utils", "plugin_utils"},
    "filter": {"module_utils"},
    "doc_fragments": set(),
}
FOREIGN_IMPORT = re.compile(r"^\s*from\s+(ansible(?:\.[\w.]+)?|ansible_collections\.amazon\.aws[\w.]*)\s+import\s+\(?([^)\n]*)",
                            re.M)
PRIVATE_READ = re.compile(r"(?<![\w.])(?!self\b|cls\b)([A-Za-z]\w*)\._([a-z]\w*)")
# (file, private read) -> why no public route exists
PRIVATE = {
    ("module_utils/runtime/_module.py", "module._diff"):
        "AnsibleModule offers diff mode only as _diff (amazon.aws's modules read it the same way)",
    ("plugin_utils/_action.py", "validated._no_log_values"):
        "ArgumentSpecValidator's result offers the task's no_log values only as _no_log_values (AnsibleModule reads "
        "the same attribute); the fleet engine keeps every rack's no_log values out of its results as a module does",
}
ALLOWED_OBJECTS = {"os"}          # os._exit is public


def plugin_problems():
    """Imports between kinds of plugin, and private names of ansible-core or amazon.aws, in plugins/."""
    bad = []
    for kind in sorted(os.listdir(PLUGINS)):
        folder = os.path.join(PLUGINS, kind)
        if not os.path.isdir(folder) or kind.startswith("__"):
            continue
        paths = sorted(os.path.relpath(os.path.join(where, name), folder)
                       for where, dummy, names in os.walk(folder) for name in names if name.endswith(".py"))
        for name in paths:
            rel = "%s/%s" % (kind, name)
            with open(os.path.join(folder, name)) as f:
                text = f.read()
            code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
            for used in sorted(set(KIND_IMPORT.findall(code)) - KINDS.get(kind, set())):
                bad.append("%s imports from plugins/%s, against the layering" % (rel, used))
            for source, names in FOREIGN_IMPORT.findall(code):
                private = [n.strip() for n in names.split(",") if n.strip().startswith("_") and n.strip() != "annotations"]
                if any(part.startswith("_") for part in source.split(".")) or private:
                    bad.append("%s imports a private name of %s: %s" % (rel, source, ", ".join(private) or source))
            # a private helper (an underscore name of another file; importing the file itself, a package's
            # private module, is how the layers are used)
            for source, names in re.findall(r"^\s*from\s+ansible_collections\.convox\.rack\.plugins\.([\w.]+)\s+"
                                            r"import\s+(\([^)]*\)|[^\n]*)", code, re.M):
                if "." not in source:
                    continue
                private = [n.strip() for n in names.strip("()").replace("\n", ",").split(",")
                           if n.strip().startswith("_") and n.split()[0] not in module_utils_files()]
                if private:
                    bad.append("%s imports a private helper of another file: %s" % (rel, ", ".join(private)))
            for obj, attr in PRIVATE_READ.findall(code):
                read = "%s._%s" % (obj, attr)
                if obj in ALLOWED_OBJECTS or (rel, read) in PRIVATE:
                    continue
                bad.append("%s reads a private attribute: %s" % (rel, read))
    return bad


def module_utils_files() -> dict[str, tuple[str, str]]:
    """{module name: (package, path)} of every file of module_utils; a file outside a layer package is named."""
    out = {}
    for package in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, package)
        if package.endswith(".py") and package != "__init__.py":
            out[package[:-3]] = ("", folder)
        if not os.path.isdir(folder) or package.startswith("__"):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py") and name != "__init__.py":
                out[name[:-3]] = (package, os.path.join(folder, name))
    return out


def main():
    bad = []
    files = module_utils_files()
    for mod, (package, path) in sorted(files.items()):
        name = "%s/%s.py" % (package, mod) if package else "%s.py" % mod
        if package not in PACKAGES:
            bad.append("module_utils/%s: not in a layer package (%s)" % (name, ", ".join(PACKAGES)))
            continue
        with open(path) as f:
            text = f.read()
        used = set(IMPORT.findall(text)) - {mod}
        allowed = LAYERS.get(mod)
        if allowed is None:
            bad.append("%s: not in the layer table of tools/check_layers.py" % name)
            continue
        for dep in sorted(used - allowed):
            bad.append("%s imports %s, against the layering" % (name, dep))
        for dep in sorted(used):
            dep_package = files.get(dep, ("", ""))[0]
            if dep_package != package and PACKAGES.get(dep_package, 99) >= PACKAGES[package]:
                bad.append("%s imports %s/%s, a package at or above its own layer" % (name, dep_package, dep))
        if mod != "_module" and "AnsibleModule" in text:
            bad.append("%s mentions AnsibleModule; managers take plain inputs" % name)
    bad.extend(plugin_problems())
    for line in bad:
        print(line)
    print("layers: %d problem(s)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
