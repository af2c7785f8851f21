# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safety of release channels, which are untrusted input: version names checked on read as on
publish, plain http refused, YAML without alias expansion, templates capped in size, a template
over CloudFormation's request limit passed by URL from S3 (or refused), and published releases
immutable unless forced."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO
from safety import APP_TEMPLATE, FOREIGN_TEMPLATE, RACK_TEMPLATE, create_stack, entry, rack_stack, run_tasks, write_channel

BOMB = """Parameters:
  Version: {Type: String}
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
Resources:
  Data: {Type: "AWS::S3::Bucket", Metadata: {laughs: *i}}
"""


def rack_task(**args):
    return {"convox.rack.rack": args}


@pytest.mark.parametrize("version", ["../outside", " 1", "v/2"])
def test_a_version_name_from_a_channel_is_checked_as_publishing_checks_it(aws, tmp_path, version):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "rack.json").write_text(json.dumps(RACK_TEMPLATE))       # what ../outside would reach
    channel = write_channel(str(tmp_path / "channel"), ["1", version])
    rec = aws.recording.mark()
    install, info = run_tasks(aws, tmp_path, [
        rack_task(name="victim", channel=channel, version=version),
        {"convox.rack.rack_release_info": {"channel": channel}},
    ])
    message = "channel %s: versions.json entry 1 has the invalid version %s (only letters" % (channel, json.dumps(version))
    assert install["failed"] and install["msg"].startswith(message), install["msg"]
    assert info["failed"] and info["msg"].startswith(message), info["msg"]
    assert rec.mutating(include_plan=True) == []


def test_plain_http_channels_are_refused(aws, tmp_path):
    rec = aws.recording.mark()
    (res,) = run_tasks(aws, tmp_path, [rack_task(name="victim", channel="http://127.0.0.1:9/stable")])
    assert res["failed"] and res["msg"] == ('channel "http://127.0.0.1:9/stable" uses plain http://, which anyone on '
                                            'the network path can rewrite; use https://, s3:// or file://.')
    assert rec.mutating(include_plan=True) == []


def test_a_yaml_bomb_fails_fast_in_little_memory(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"], rack=BOMB)
    play = tmp_path / "bomb.yml"
    play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - convox.rack.rack: {name: bomb, channel: '%s'}\n      ignore_errors: true\n" % channel)
    # the largest resident set of ansible-playbook and every process under it (the worker, the module)
    measure = ("import json, resource, subprocess, sys\n"
               "proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
               "print(json.dumps(dict(rc=proc.returncode, out=proc.stdout,\n"
               "                      maxrss_kb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))\n")
    env = aws.env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([sys.executable, "-c", measure, os.path.join(os.path.dirname(sys.executable),
                                                                       "ansible-playbook"),
                           "-i", os.path.join(REPO, "tests", "integration", "inventory.yml"), str(play)],
                          env=env, capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(proc.stdout)
    out = report["out"]
    task = json.loads(out[out.index("{\n"):])["plays"][0]["tasks"][0]
    res = task["hosts"]["localhost"]
    assert res["failed"] and "YAML aliases (*a) are not allowed in templates" in res["msg"], res["msg"]
    started, ended = (datetime.datetime.fromisoformat(task["task"]["duration"][k].replace("Z", "+00:00"))
                      for k in ("start", "end"))
    seconds = (ended - started).total_seconds()
    # not a speed goal: an alias expanded would take minutes and gigabytes (the memory bound below is the guard);
    # the bound leaves room for a module start on a loaded machine
    assert seconds < 60, seconds
    assert report["maxrss_kb"] < 200 * 1024, report["maxrss_kb"]
    print("yaml bomb: failed in %.2f s, largest process %d MB" % (seconds, report["maxrss_kb"] // 1024))


def test_an_oversized_channel_object_is_refused_unread(aws, tmp_path):
    big = dict(RACK_TEMPLATE, Metadata={"padding": "x" * (1024 * 1024 + 1)})
    channel = write_channel(str(tmp_path / "channel"), ["1"], rack=big)
    rec = aws.recording.mark()
    (res,) = run_tasks(aws, tmp_path, [rack_task(name="huge", channel=channel)])
    assert res["failed"] and res["msg"] == ("%s/1/rack.json is larger than 1048576 bytes; a channel object that large "
                                            "is refused unread." % channel), res["msg"]
    assert rec.mutating(include_plan=True) == []


def padded(size):
    """The rack template grown past CloudFormation's 51,200-byte request limit (within S3's 1 MB)."""
    return dict(RACK_TEMPLATE, Resources=dict(RACK_TEMPLATE["Resources"], Logs=dict(
        RACK_TEMPLATE["Resources"]["Logs"], Metadata={"padding": "x" * size})))


def test_a_template_over_the_request_limit_goes_by_url_from_s3_or_is_refused(aws, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "rack.json").write_text(json.dumps(padded(60000)))
    (src / "app.json").write_text(json.dumps(APP_TEMPLATE))
    aws.client("s3").create_bucket(Bucket="releases")
    file_channel = write_channel(str(tmp_path / "channel"), ["1"], rack=padded(60000))
    rec = aws.recording.mark()
    published, from_file = run_tasks(aws, tmp_path, [
        {"convox.rack.rack_release": {"channel": "s3://releases/stable", "version": "1", "src": str(src)}},
        rack_task(name="big", channel=file_channel),
    ])
    assert published["changed"] and not published.get("failed"), published
    assert from_file["failed"] and from_file["msg"].startswith(
        "template %s/1/rack.json is " % file_channel) and from_file["msg"].endswith(
        "bytes, over CloudFormation's limit of 51200 bytes for a template sent in the request, and no S3 object of its "
        "channel can be read by CloudFormation; set template_bucket (host variable rack_template_bucket) to an S3 "
        "bucket in us-east-1, where the collection stages it (keyed by its digest)."), from_file["msg"]
    assert [c for c in rec.mutating() if c[0] == "cloudformation"] == []

    (installed,) = run_tasks(aws, tmp_path, [rack_task(name="big", channel="s3://releases/stable")])
    assert installed["changed"] and not installed.get("failed"), installed
    body = aws.client("cloudformation").get_template(StackName="big")["TemplateBody"]
    body = body if isinstance(body, dict) else json.loads(body)
    assert len(body["Resources"]["Logs"]["Metadata"]["padding"]) == 60000


def test_a_published_release_is_immutable_unless_forced(aws, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for src, retention in ((first, 7), (second, 30)):
        src.mkdir()
        rack = json.loads(json.dumps(RACK_TEMPLATE))
        rack["Resources"]["Logs"]["Properties"]["RetentionInDays"] = retention
        (src / "rack.json").write_text(json.dumps(rack))
        (src / "app.json").write_text(json.dumps(APP_TEMPLATE))
    channel = str(tmp_path / "channel")

    def publish(src, **extra):
        return {"convox.rack.rack_release": dict(channel=channel, version="1", src=str(src), **extra)}

    results = run_tasks(aws, tmp_path, [
        publish(first), publish(first), publish(second), dict(publish(second), check_mode=True),
        publish(second, force=True),
        {"convox.rack.rack_release": {"channel": channel, "version": "2", "src": str(first), "published": False}},
        {"convox.rack.rack_release": {"channel": channel, "version": "2", "src": str(second), "published": False}},
    ])
    assert [r["changed"] for r in results] == [True, False, False, False, True, True, True], results
    for res in results[2:4]:
        assert res["failed"] and res["msg"] == (
            "release 1 is already published in channel file://%s with other rack template; a published release is "
            "immutable (racks on it are defined by it): publish a new version, or set force: true to replace it."
            % channel), res["msg"]
    with open(os.path.join(channel, "1", "rack.json")) as f:
        assert json.load(f)["Resources"]["Logs"]["Properties"]["RetentionInDays"] == 30    # forced


def test_release_info_reads_the_version_of_a_rack_only(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry("1"), entry("2")])
    rack_stack(aws, "real")
    create_stack(aws, "payroll", FOREIGN_TEMPLATE, {"owner": "hr"}, {"Version": "1"})
    real, foreign = run_tasks(aws, tmp_path, [
        {"convox.rack.rack_release_info": {"channel": channel, "rack": "real"}},
        {"convox.rack.rack_release_info": {"channel": channel, "rack": "payroll"}},
    ])
    assert real["current"] == "1" and real["path"] == ["2"], real
    assert foreign["failed"] and foreign["msg"] == ("stack payroll is not rack payroll: it lacks the tags "
                                                    "System=convox, Type=rack, Rack=payroll (its tags: owner=hr).")
