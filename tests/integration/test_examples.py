# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES, run as one playbook (in a sensible order) against the local AWS
server, so the documentation users copy from is known to work."""

from __future__ import annotations

import ast
import os

import yaml
from conftest import REPO

ORDER = ["rack_release", "rack", "rack_release_info", "rack_app", "rack_info"]


def examples(module):
    with open(os.path.join(REPO, "plugins", "modules", module + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no EXAMPLES" % module)


def test_module_examples_run(aws, tmp_path):
    aws.client("s3").create_bucket(Bucket="acme-convox-releases")
    tasks = []
    for module in ORDER:
        found = examples(module)
        assert found, module
        tasks.extend(found)
    os.symlink(os.path.join(REPO, "formation"), str(tmp_path / "formation"))   # {{ playbook_dir }}/formation
    playbook = tmp_path / "examples.yml"
    text = yaml.safe_dump([{"name": "Module EXAMPLES", "hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                          sort_keys=False)
    # the examples' file channel, private to this test
    playbook.write_text(text.replace("file:///tmp/convox/channel", "file://%s/channel" % tmp_path))
    out = aws.playbook(str(playbook))
    assert "failed=0" in out
    racks = aws.client("cloudformation").describe_stacks(StackName="production")["Stacks"]
    assert racks[0]["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
