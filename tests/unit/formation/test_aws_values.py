# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make test-aws passes on paper: every value tests/aws sends satisfies the constraints of the templates it installs
(formation/rack.yml, formation/app.yml), checked the way the local endpoint - and CloudFormation - checks them
(tools/localaws/params.py), the template defaults included.  A value a template refuses would fail the real
account's first step."""

from __future__ import annotations

import ast
import os

import pytest
from localaws import params

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def sent(name):
    """The module-level constant ``name`` of tests/aws/test_lifecycle.py (read, not imported: it needs an account)."""
    with open(os.path.join(REPO, "tests", "aws", "test_lifecycle.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            target = node.target
        else:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == name:
            return ast.literal_eval(node.value)
    raise AssertionError("tests/aws/test_lifecycle.py defines no %s" % name)


def template(kind):
    from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template
    with open(os.path.join(REPO, "formation", "%s.yml" % kind)) as f:
        return dict(parse_template(f.read(), "formation/%s.yml" % kind))


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("kind, constant, fixed", [
    ("rack", "RACK_PARAMETERS", {"Version": "1"}),
    ("app", "APP_PARAMETERS", {"Version": "1", "Rack": "ci-rack"}),
])
def test_every_value_test_aws_sends_is_one_the_template_accepts(kind, constant, fixed):
    values = {k: str(v) for k, v in sent(constant).items()}
    values.update(fixed)
    tpl = template(kind)
    # the image parameter the collection fills is an SSM path or an image id the account has: not checked here
    params.check({"Parameters": {k: v for k, v in tpl["Parameters"].items()
                                 if not str(v.get("Type", "")).startswith("AWS::EC2::Image")}}, values,
                 "123456789012", "us-east-1")


@pytest.mark.usefixtures("aws")
def test_the_check_refuses_what_aws_refuses():
    with pytest.raises(Exception, match="Parameter 'InstanceCount' must be a number not less than 2"):
        params.check({"Parameters": template("rack")["Parameters"]}, {"InstanceCount": "1", "Version": "1"},
                     "123456789012", "us-east-1")
