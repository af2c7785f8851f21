# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Channel I/O: file, s3 (moto in-process) and https (a local HTTP server)."""

from __future__ import annotations

import http.server
import json
import os
import threading

import pytest

from ansible_collections.convox.rack.plugins.module_utils._channel import HttpsChannel, open_channel
from ansible_collections.convox.rack.plugins.module_utils._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils._releases import Release
from ansible_collections.convox.rack.plugins.module_utils._templates import parse_template

VERSIONS = [{"version": "1", "description": "one", "published": True, "required": False},
            {"version": "2", "description": "two", "published": True, "required": True}]


def write_channel(root):
    os.makedirs(os.path.join(root, "1"))
    with open(os.path.join(root, "versions.json"), "w") as f:
        json.dump(VERSIONS, f)
    with open(os.path.join(root, "1", "rack.json"), "w") as f:
        f.write('{"Resources": {}}')


@pytest.mark.parametrize("form", ["bare", "file"])
def test_file_channel_reads(tmp_path, form):
    root = str(tmp_path / "chan")
    write_channel(root)
    url = root if form == "bare" else "file://" + root
    ch = open_channel(url)
    assert ch.read_releases().to_list() == VERSIONS
    assert ch.read_template("1", "rack")[0] == '{"Resources": {}}'
    with pytest.raises(ConvoxError, match=r'has no app template for version "1" \(1/app.json is missing\)\.$'):
        ch.read_template("1", "app")


def test_missing_versions_json(tmp_path):
    with pytest.raises(ConvoxError, match=r"^channel file://.*/nothing has no versions.json.$"):
        open_channel(str(tmp_path / "nothing")).read_releases()


@pytest.mark.parametrize("url, message", [
    ("", "channel must be a non-empty URL"),
    ("ftp://host/x", 'has an unsupported scheme "ftp"'),
    ("s3:///prefix", "has no bucket name"),
    ("file://host/x", "must be file:///absolute/path"),
    ("https:///x", "has no host"),
])
def test_malformed_channel_urls(url, message):
    with pytest.raises(ConvoxError, match=message):
        open_channel(url)


@pytest.mark.parametrize("round_", range(5))
def test_file_update_is_concurrency_safe(tmp_path, round_):
    """12 publishers at once, same-size entries: none may be lost (the token must not repeat
    within a coarse filesystem clock tick)."""
    ch = open_channel(str(tmp_path / "chan"))
    barrier = threading.Barrier(12)

    def publish(n):
        other = open_channel(str(tmp_path / "chan"))
        barrier.wait()
        other.update_releases(lambda rels: rels.upsert(Release("v%02d" % n)))

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.version for r in ch.read_releases().releases) == sorted("v%02d" % n for n in range(12))


def test_s3_channel(factory):
    s3 = factory("s3")
    s3.create_bucket(Bucket="releases")
    s3.put_object(Bucket="releases", Key="stable/versions.json", Body=json.dumps(VERSIONS))
    s3.put_object(Bucket="releases", Key="stable/1/rack.json", Body=b'{"Resources": {}}')
    ch = open_channel("s3://releases/stable", factory)
    assert ch.read_releases().to_list() == VERSIONS
    assert ch.read_template("1", "rack")[0] == '{"Resources": {}}'
    with pytest.raises(ConvoxError, match="has no app template"):
        ch.read_template("1", "app")
    with pytest.raises(ConvoxError, match="has no versions.json"):
        open_channel("s3://releases/other", factory).read_releases()
    with pytest.raises(ConvoxError, match="is unreachable: bucket nope does not exist"):
        open_channel("s3://nope", factory).read_releases()


def test_s3_conditional_write_detects_a_concurrent_writer(factory):
    factory("s3").create_bucket(Bucket="releases")
    ch = open_channel("s3://releases", factory)
    assert ch.put_if("versions.json", b"[]", None) is True
    assert ch.put_if("versions.json", b"[]", None) is False          # exists now
    dummy, token = ch.get("versions.json")
    assert ch.put_if("versions.json", b"[ ]", token) is True
    assert ch.put_if("versions.json", b"[  ]", token) is False        # stale token

    # update_releases re-reads and retries after a conflict
    calls = []

    def edit(rels):
        if not calls:
            ch.put("versions.json", json.dumps([VERSIONS[0]]).encode())   # someone else writes
        calls.append(1)
        return rels.upsert(Release("9"))

    dummy, after, changed = ch.update_releases(edit)
    assert changed and len(calls) == 2
    assert [r.version for r in ch.read_releases().releases] == ["1", "9"]


@pytest.fixture
def http_channel(tmp_path):
    root = str(tmp_path / "www")
    write_channel(root)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def test_https_channel_reads_and_is_read_only(http_channel):
    # the reading logic over a plain local server (open_channel itself refuses http://, below)
    ch = HttpsChannel(http_channel)
    assert ch.read_releases().to_list() == VERSIONS
    with pytest.raises(ConvoxError, match="has no app template"):
        ch.read_template("1", "app")
    with pytest.raises(ConvoxError, match="is read-only"):
        ch.update_releases(lambda rels: rels.upsert(Release("3")))


def test_unreachable_https_channel():
    with pytest.raises(ConvoxError, match=r"^channel https://127.0.0.1:9/x is unreachable"):
        open_channel("https://127.0.0.1:9/x").read_releases()


def test_plain_http_channel_is_refused(http_channel):
    with pytest.raises(ConvoxError, match=r'^channel "http://127.0.0.1:\d+" uses plain http://'):
        open_channel(http_channel)


def test_yaml_template_with_short_tags():
    tpl = parse_template("""
Parameters:
  Private: {Type: String, Default: "No", AllowedValues: ["Yes", "No"]}
Conditions:
  IsPrivate: !Equals [!Ref Private, "Yes"]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Sub "${AWS::Region}"
      Tags: [{Key: Name, Value: !GetAtt Other.Arn}]
      EnableDnsSupport: true
""", "t.yml")
    assert tpl["Conditions"]["IsPrivate"] == {"Fn::Equals": [{"Ref": "Private"}, "Yes"]}
    assert tpl["Parameters"]["Private"]["Default"] == "No"
    props = tpl["Resources"]["Vpc"]["Properties"]
    assert props["CidrBlock"] == {"Fn::Sub": "${AWS::Region}"}
    assert props["Tags"][0]["Value"] == {"Fn::GetAtt": ["Other", "Arn"]}
    assert props["EnableDnsSupport"] is True


@pytest.mark.parametrize("text, message", [
    ("", "is empty"), ("{bad", "is not valid JSON"), ("a: [", "is not valid YAML"),
    ('{"a": 1}', "is not a CloudFormation template"),
])
def test_bad_templates(text, message):
    with pytest.raises(ConvoxError, match=message):
        parse_template(text, "x")
