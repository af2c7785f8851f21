# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials and NoEcho parameter values never appear in task output or logs, even at -vvv."""

from __future__ import annotations

import json

import yaml
from conftest import REPO, target

SECRET_ONE = "s3cr3t-token-one-8c1f"
SECRET_TWO = "s3cr3t-token-two-77aa"


def template_with_no_echo(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rack = yaml.safe_load(open(REPO + "/formation/rack.yml"))
    rack["Parameters"]["ApiToken"] = {"Type": "String", "NoEcho": True, "Default": "unset"}
    (src / "rack.json").write_text(json.dumps(rack))
    (src / "app.yml").write_text(open(REPO + "/formation/app.yml").read())
    return str(src)


def test_no_secret_in_output(aws, tmp_path):
    log = tmp_path / "ansible.log"
    env = {"ANSIBLE_LOG_PATH": str(log), "AWS_SECRET_ACCESS_KEY": "aws-secret-key-do-not-print-42"}
    out = aws.playbook(target("secrets"), "-vvv", diff=True, env=env, extra_vars={
        "channel": "file://%s" % (tmp_path / "channel"), "src": template_with_no_echo(tmp_path),
        "secret_one": SECRET_ONE, "secret_two": SECRET_TWO})
    text = out + log.read_text()
    assert "AnsiballZ" in text                 # the modules ran as modules (their arguments are in the -vvv log)
    assert "****" in text
    for secret in (SECRET_ONE, SECRET_TWO, "aws-secret-key-do-not-print-42"):
        assert secret not in text, secret
