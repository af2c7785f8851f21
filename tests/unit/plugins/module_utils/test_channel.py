# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Channel I/O: file, s3 (moto in-process) and https (a local HTTP server)."""

from __future__ import annotations

import http.server
import json
import os
import threading

import pytest

from ansible_collections.convox.rack.plugins.module_utils.aws._channel import HttpsChannel, open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Release

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
    with pytest.raises(ConvoxError, match=r'release 1 of channel .* has no app template \(1/app.json is missing\): a '
                                          r'rack-only release, as Convox publishes them'):
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


# -- untrusted channels: redirects, slow servers, FIFOs, links, nesting ----------------------------------------------
def self_signed(tmp_path):
    """A certificate and key for 127.0.0.1 (the reading code is the same with a CA-issued one)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def https_server(tmp_path):
    """An https server on 127.0.0.1: /stable/... redirects to the URL in ``routes["redirect"]``; /slow/...
    sends its body a byte every 0.3 s; anything else is versions.json."""
    import ssl
    import time
    routes = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/slow/"):
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for dummy in range(100):       # 30 s at most
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.3)
                return
            if self.path.startswith("/stable/") and routes.get("redirect"):
                self.send_response(302)
                self.send_header("Location", routes["redirect"])
                self.end_headers()
                return
            body = json.dumps(VERSIONS).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tmp_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1], routes
    server.shutdown()


def test_an_https_channel_never_follows_a_redirect_to_http(https_server):
    url, routes = https_server
    channel = HttpsChannel(url + "/stable", validate_certs=False)
    routes["redirect"] = url + "/other/versions.json"           # https to https: followed
    assert channel.read_releases().to_list() == VERSIONS
    routes["redirect"] = "http://127.0.0.1:9/versions.json"
    with pytest.raises(ConvoxError) as err:
        channel.read_releases()
    assert err.value.msg == ("channel %s/stable redirected %s/stable/versions.json to http://127.0.0.1:9/versions.json, "
                             "which is not https:// (anyone on the network path could rewrite it), so it was refused."
                             % (url, url))


def test_a_read_is_bounded_however_slowly_the_bytes_arrive(https_server):
    url, dummy = https_server
    channel = HttpsChannel(url + "/slow", validate_certs=False, timeout=1.5)
    with pytest.raises(ConvoxError) as err:
        channel.read_releases()
    assert err.value.msg == ("%s/slow/versions.json did not arrive within 1.5 seconds, so it was refused; a channel read is "
                             "bounded by the task's timeout." % url)


def test_the_timeout_comes_from_the_client_factory():
    from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory
    factory = ClientFactory(lambda service: None, "us-east-1", channel_timeout=7)
    assert open_channel("https://example.invalid/x", factory).timeout == 7.0
    assert open_channel("https://example.invalid/x").timeout == 60.0


def test_a_file_channel_reads_regular_files_inside_its_root_only(tmp_path):
    root = tmp_path / "chan"
    write_channel(str(root))
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:top secret bytes")
    (root / "2").mkdir()
    (root / "2" / "rack.json").symlink_to(outside)                 # a link leaving the root
    (root / "1" / "app.json").symlink_to(root / "1" / "rack.json")  # a link inside it: fine
    os.mkfifo(str(root / "3"))                                       # not even a directory
    (root / "4").mkdir()
    os.mkfifo(str(root / "4" / "rack.json"))                          # a FIFO: a read would block forever
    channel = open_channel("file://%s" % root)
    assert channel.read_template("1", "app")[0] == '{"Resources": {}}'
    with pytest.raises(ConvoxError) as err:
        channel.read_template("2", "rack")
    assert err.value.msg == ("file://%s/2/rack.json leads out of the channel (a link to a place outside %s), so it was "
                             "refused unread." % (root, root))
    assert "top secret" not in err.value.msg
    answers = []
    reader = threading.Thread(target=lambda: answers.append(pytest.raises(ConvoxError, channel.read_template, "4", "rack")))
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "a FIFO blocked the read"
    assert answers[0].value.msg == "file://%s/4/rack.json is a FIFO, not a regular file, so it was refused unread." % root


def test_deeply_nested_versions_json_is_refused_naming_the_channel(tmp_path):
    root = tmp_path / "deep"
    root.mkdir()
    (root / "versions.json").write_text("[" * 200000 + "]" * 200000)
    with pytest.raises(ConvoxError) as err:
        open_channel(str(root)).read_releases()
    assert err.value.msg == "channel file://%s: versions.json is nested too deeply to be a list of releases." % root


def test_a_template_url_names_the_buckets_region_and_its_partitions_domain(aws):
    """The client is in us-east-1, the bucket in eu-west-1: the URL CloudFormation reads names eu-west-1 (looked up
    once, only when a template needs its URL), pinned to the version read; a template over the request limit goes by
    URL to a stack of any region of the aws partition, and needs template_bucket for a stack of another partition."""
    import boto3

    from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, botocore_config
    from ansible_collections.convox.rack.plugins.module_utils.aws._templates import MAX_TEMPLATE_BODY

    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="eu-chan", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket="eu-chan", VersioningConfiguration={"Status": "Enabled"})
    big = json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Metadata": {"x": "y" * MAX_TEMPLATE_BODY}}}})
    version_id = s3.put_object(Bucket="eu-chan", Key="stable/1/rack.json", Body=big.encode())["VersionId"]
    calls = []
    factory = ClientFactory(lambda service: boto3.client(service, region_name="us-east-1", config=botocore_config()),
                            "us-east-1")
    channel = open_channel("s3://eu-chan/stable", factory)
    text, url = channel.read_template("1", "rack")
    channel.client.meta.events.register("before-call.s3.GetBucketLocation", lambda **kw: calls.append(1))
    template = parse_template(text, "s3://eu-chan/stable/1/rack.json", url)
    assert template.request_source("eu-west-1") == {
        "TemplateURL": "https://eu-chan.s3.eu-west-1.amazonaws.com/stable/1/rack.json?versionId=%s" % version_id}
    assert template.request_source("us-east-1") == template.request_source("eu-west-1")   # aws: any region
    with pytest.raises(ConvoxError, match=r"CloudFormation in cn-north-1 \(partition aws-cn\) reads a template only "
                                          r"from a bucket in the stack's own region, and its channel's bucket is in "
                                          r"eu-west-1; set template_bucket \(host variable rack_template_bucket\)"):
        template.request_source("cn-north-1")
    assert calls == [1]                                   # one look-up per channel
    small = parse_template('{"Resources": {}}', "small", url)
    assert "TemplateBody" in small.request_source("us-east-1")          # within the limit: sent from anywhere


@pytest.mark.parametrize("region, domain", [("us-east-1", "amazonaws.com"), ("cn-north-1", "amazonaws.com.cn"),
                                            ("cn-southwest-9", "amazonaws.com.cn"), ("us-gov-west-1", "amazonaws.com"),
                                            ("us-isob-east-1", "sc2s.sgov.gov")])
def test_a_partitions_domain_comes_from_botocores_endpoint_data(region, domain):
    from ansible_collections.convox.rack.plugins.module_utils.aws._common import partition_dns_suffix
    assert partition_dns_suffix(region) == domain


def test_a_region_unknown_to_botocore_is_accepted_when_its_name_is_well_formed(monkeypatch):
    """A region newer than the installed botocore is reached through its partition's endpoint pattern; a name no
    region could have is refused before any request."""
    import boto3

    from ansible_collections.convox.rack.plugins.module_utils.aws import _common

    monkeypatch.setattr(_common, "_KNOWN_REGIONS", ["us-east-1"])           # an old botocore
    factory = _common.ClientFactory(lambda service: boto3.client(service, region_name="ap-southeast-9"),
                                    "ap-southeast-9")
    assert factory("cloudformation").meta.endpoint_url == "https://cloudformation.ap-southeast-9.amazonaws.com"
    for name in ("mars-north-1", "us_east_1", "eu-west", "US-EAST-1"):
        with pytest.raises(ConvoxError, match='^region "%s" is not an AWS region' % name):
            _common.ClientFactory(lambda service: None, name)("cloudformation")


def test_an_https_channel_served_by_s3_is_read_by_cloudformation_at_its_own_url():
    """Convox's https://convox.s3.amazonaws.com/release: its objects' URLs are what CloudFormation reads (TemplateURL),
    from any region of the aws partition, as the CLI passes them; an HTTPS host that is not S3 serves no URL."""
    from ansible_collections.convox.rack.plugins.module_utils.aws._channel import https_s3_url
    from ansible_collections.convox.rack.plugins.module_utils.aws._templates import MAX_TEMPLATE_BODY, NeedsStaging
    channel = open_channel("https://convox.s3.amazonaws.com/release")
    url = channel.template_url("20260421192651/rack.json", None)
    assert url.url() == "https://convox.s3.amazonaws.com/release/20260421192651/rack.json"
    assert (url.bucket, url.region(), url.partition()) == ("convox", "us-east-1", "aws")
    assert https_s3_url("https://s3.eu-west-1.amazonaws.com/acme/stable/1/rack.json").region() == "eu-west-1"
    assert https_s3_url("https://acme.s3.cn-north-1.amazonaws.com.cn/x").partition() == "aws-cn"
    assert open_channel("https://releases.example.com/stable").template_url("1/rack.json", None) is None
    big = parse_template(json.dumps({"Resources": {"L": {"Type": "AWS::Logs::LogGroup",
                                                         "Metadata": {"x": "y" * MAX_TEMPLATE_BODY}}}}), "big", url)
    assert big.request_source("ap-southeast-2") == {"TemplateURL": url.url()}
    with pytest.raises(NeedsStaging, match="set template_bucket"):
        big.request_source("us-gov-west-1")


def test_a_convox_release_is_read_from_formation_json_when_it_has_no_rack_json(tmp_path):
    root = tmp_path / "release"
    (root / "20160901022059").mkdir(parents=True)
    (root / "versions.json").write_text(json.dumps([{"version": "20160901022059", "description": "", "published": True,
                                                     "required": False}]))
    (root / "20160901022059" / "formation.json").write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')
    text, dummy = open_channel("file://%s" % root).read_template("20160901022059", "rack")
    assert json.loads(text)["Resources"]["Q"]["Type"] == "AWS::SQS::Queue"
    with pytest.raises(ConvoxError, match="has no rack template for version \"2\""):
        open_channel("file://%s" % root).read_template("2", "rack")
