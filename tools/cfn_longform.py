# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rewrite a CloudFormation YAML template from short intrinsic tags (!Ref, !Sub, ...) to the
long form (Ref:, Fn::Sub:), which every YAML parser (yamllint, ansible-test) understands.

    python tools/cfn_longform.py formation/rack.yml [...]
"""

from __future__ import annotations

import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".venv", "collections"))

from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template  # noqa: E402


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def main(paths):
    for path in paths:
        with open(path) as f:
            text = f.read()
        header = []
        for line in text.splitlines():
            if line.startswith("#"):
                header.append(line)
            else:
                break
        data = parse_template(text, path)
        body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=120, default_flow_style=False)
        with open(path, "w") as f:
            f.write("\n".join(header + [""]) if header else "")
            f.write(body)


if __name__ == "__main__":
    main(sys.argv[1:])
