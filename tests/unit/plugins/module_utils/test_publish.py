# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publishing (ReleaseManager) and release information (ReleaseInfo) on a file channel, and a module's
main() on a host (``_module.main`` through AnsibleAWSModule): check mode writes nothing, a published
release is immutable unless forced, withdrawing removes entry and templates, bad input fails first."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from corecompat import patch_module_args

from ansible_collections.convox.rack.plugins.module_utils.managers._publish import ReleaseManager
from ansible_collections.convox.rack.plugins.module_utils.managers._release_info import ReleaseInfo
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Releases
from ansible_collections.convox.rack.plugins.module_utils.runtime._module import main

RACK = {"Parameters": {"Version": {"Type": "String"}}, "Resources": {"Settings": {"Type": "AWS::S3::Bucket"}}}
APP = {"Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"}},
       "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}


def src(tmp_path, name="src", rack=None):
    path = tmp_path / name
    path.mkdir()
    (path / "rack.json").write_text(json.dumps(rack or RACK))
    (path / "app.yml").write_text("Parameters: {Rack: {Type: String}}\nResources:\n  Logs: {Type: 'AWS::Logs::LogGroup'}\n")
    return str(path)


def snapshot(root):
    """Every file of the channel directory and its content hash."""
    out = {}
    for base, dummy, files in os.walk(root):
        for name in files:
            with open(os.path.join(base, name), "rb") as f:
                out[os.path.relpath(os.path.join(base, name), root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def publish(channel, source, version="1", check=False, **params):
    return ReleaseManager(dict(channel=channel, version=version, src=source, **params), check_mode=check).present()


def test_publish_check_then_apply_then_idempotent(tmp_path):
    root = str(tmp_path / "channel")
    source = src(tmp_path)
    plan = publish(root, source, check=True, description="first", required=True)
    assert plan["changed"] and plan["templates_changed"] == ["rack", "app"]
    assert plan["release"] == {"version": "1", "description": "first", "published": True, "required": True}
    assert not os.path.exists(root)                                      # check mode wrote nothing

    res = publish(root, source, description="first", required=True)
    assert res["changed"] and res["releases"] == [plan["release"]]
    assert res["diff"] == {"before": {"release": None},
                           "after": {"release": plan["release"], "templates_changed": ["rack", "app"]}}
    assert json.load(open(os.path.join(root, "1", "rack.json"))) == RACK
    assert Releases.parse(open(os.path.join(root, "versions.json")).read()).get("1").required

    again = publish(root, source, description="first", required=True)
    assert not again["changed"] and again["templates_changed"] == []


def test_a_published_release_is_immutable_unless_forced(tmp_path):
    root = str(tmp_path / "channel")
    publish(root, src(tmp_path))
    other = src(tmp_path, "other", rack=dict(RACK, Outputs={"X": {"Value": "x"}}))
    before = snapshot(root)
    with pytest.raises(ConvoxError) as err:
        publish(root, other)
    assert err.value.msg == ("release 1 is already published in channel file://%s with other rack template; a "
                             "published release is immutable (racks on it are defined by it): publish a new version, "
                             "or set force: true to replace it." % root)
    assert snapshot(root) == before
    res = publish(root, other, force=True)
    assert res["changed"] and res["templates_changed"] == ["rack"]
    assert "Outputs" in json.load(open(os.path.join(root, "1", "rack.json")))
    # an unpublished entry may change its templates without force
    publish(root, src(tmp_path, "draft"), version="2", published=False)
    assert publish(root, other, version="2", published=False)["templates_changed"] == ["rack"]


def test_withdraw_check_then_apply(tmp_path):
    root = str(tmp_path / "channel")
    source = src(tmp_path)
    publish(root, source, version="1")
    publish(root, source, version="2")
    before = snapshot(root)
    plan = ReleaseManager({"channel": root, "version": "1", "state": "absent"}, check_mode=True).absent()
    assert plan["changed"] and plan["releases"] == [{"version": "2", "description": "", "published": True,
                                                     "required": False}]
    assert snapshot(root) == before
    res = ReleaseManager({"channel": root, "version": "1", "state": "absent"}).absent()
    assert res["changed"] and res["templates_changed"] == ["rack", "app"]
    assert not os.path.exists(os.path.join(root, "1"))
    assert not ReleaseManager({"channel": root, "version": "1", "state": "absent"}).absent()["changed"]


@pytest.mark.parametrize("params, message", [
    ({"channel": "https://releases.example/convox", "version": "1", "src": "SRC"},
     "channel https://releases.example/convox is read-only; publish to an s3:// or file:// channel."),
    ({"channel": "CHANNEL", "version": "1"}, "src is required to publish a release."),
    ({"channel": "CHANNEL", "version": "../x", "src": "SRC"},
     'version "../x" is not a valid release name (only letters, digits, ".", "_", "-" and "+" are allowed).'),
    ({"channel": "CHANNEL", "version": "latest", "src": "SRC"},
     'version "latest" is not a valid release name (latest, stable and edge are reserved).'),
    ({"channel": "CHANNEL", "version": "1", "src": "NOWHERE"}, "src NOWHERE has no rack.json or rack.yml."),
])
def test_bad_input_fails_before_any_write(tmp_path, params, message):
    root = str(tmp_path / "channel")
    publish(root, src(tmp_path), version="0")
    before = snapshot(root)
    source = src(tmp_path, "new")
    replace = {"CHANNEL": root, "SRC": source, "NOWHERE": str(tmp_path / "nowhere")}
    params = {k: replace.get(v, v) for k, v in params.items()}
    message = message.replace("NOWHERE", replace["NOWHERE"])
    with pytest.raises(ConvoxError) as err:
        ReleaseManager(params).present()
    assert err.value.msg == message
    assert snapshot(root) == before


def test_release_info_paths_and_readers(tmp_path):
    releases = Releases.from_list([
        {"version": v, "description": "", "published": True, "required": v == "2"} for v in ("1", "2", "3")])
    info = ReleaseInfo({"channel": "unused", "current": "1"}, releases=releases).run()
    assert (info["target"], info["path"], info["required"], info["next"]) == ("3", ["2", "3"], ["2"], "2")
    read = []

    class Reader:
        def version(self, name):
            read.append(name)
            return "2"

        def template(self, name):
            raise AssertionError("the template of a rack is read only for a republished release")

        def drift(self, name):
            return {"status": "IN_SYNC", "drifted": []}

    by_rack = ReleaseInfo({"channel": "unused", "rack": "prod", "drift": True}, releases=releases,
                          rack_reader=Reader()).run()
    assert read == ["prod"] and by_rack["path"] == ["3"] and by_rack["drift"]["status"] == "IN_SYNC"
    assert by_rack["changed"] is False
    with pytest.raises(ConvoxError, match="^drift needs rack: drift is detected on a rack's stack.$"):
        ReleaseInfo({"channel": "unused", "drift": True}, releases=releases).run()
    with pytest.raises(ConvoxError, match="^reading a rack needs AWS access.$"):
        ReleaseInfo({"channel": "unused", "rack": "prod"}, releases=releases).run()


def run_main(name, args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_:
        main(name)
    return exit_.value.code, json.loads(capsys.readouterr().out)


def test_a_module_main_runs_the_same_task_on_a_host(tmp_path, capsys):
    root = str(tmp_path / "channel")
    publish(root, src(tmp_path), version="1", required=True)
    publish(root, src(tmp_path, "two"), version="2")
    code, out = run_main("rack_release_info", {"channel": root, "current": "1", "region": "us-east-1"}, capsys)
    assert code == 0 and out["changed"] is False and out["path"] == ["2"] and out["latest"] == "2"
    # check mode and diff come from the module object; a failure is fail_json with the one-sentence message
    code, out = run_main("rack_release", {"channel": root, "version": "3", "src": src(tmp_path, "three"),
                                          "_ansible_check_mode": True, "_ansible_diff": True}, capsys)
    assert code == 0 and out["changed"] and out["diff"]["after"]["release"]["version"] == "3"
    assert not os.path.exists(os.path.join(root, "3"))
    code, out = run_main("rack_release", {"channel": root, "version": "bad/name", "src": str(tmp_path)}, capsys)
    assert code == 1 and out["failed"] and out["msg"].startswith('version "bad/name" is not a valid release name')
    code, out = run_main("rack_release", {"channel": root, "version": "4", "src": str(tmp_path), "colour": "red"}, capsys)
    assert code == 1 and "Unsupported parameters for (" in out["msg"] and "colour" in out["msg"]
