# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rack_release / rack_release_info through ansible-playbook against the local AWS server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest
from conftest import HERE, target

FILES = os.path.join(HERE, "files")
PUBLISH = target("rack_release", "publish_one.yml")


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_publish_and_read(aws, tmp_path, kind):
    if kind == "s3":
        aws.client("s3").create_bucket(Bucket="convox-releases")
        channel = "s3://convox-releases/stable"
    else:
        channel = "file://%s" % (tmp_path / "channel")
    aws.playbook(target("rack_release"), extra_vars={"channel": channel, "files": FILES})
    if kind == "s3":
        body = aws.client("s3").get_object(Bucket="convox-releases", Key="stable/versions.json")["Body"].read()
        assert [e["version"] for e in json.loads(body)] == [
            "20240101000000", "20240201000000", "20240301000000", "20240315000000", "20240401000000"]
        assert aws.client("s3").get_object(Bucket="convox-releases", Key="stable/20240101000000/rack.json")


def test_a_relative_src_is_found_under_the_plays_files_then_beside_the_playbook(aws, tmp_path):
    """rack_release is an ordinary module; its action plugin only finds a relative src on the controller, as copy
    does, wherever ansible-playbook was started (here: another directory)."""
    import shutil
    play = tmp_path / "play"
    shutil.copytree(FILES + "/release-a", str(play / "files" / "rel-1"))
    shutil.copytree(FILES + "/release-a", str(play / "rel-2"))
    (play / "publish.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - convox.rack.rack_release: {channel: 'file://%s/c', version: '1', src: rel-1}\n"
        "    - convox.rack.rack_release: {channel: 'file://%s/c', version: '2', src: rel-2}\n" % (tmp_path, tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    aws.playbook(str(play / "publish.yml"), cwd=str(elsewhere))
    assert [e["version"] for e in json.loads((tmp_path / "c" / "versions.json").read_text())] == ["1", "2"]
    assert (tmp_path / "c" / "1" / "rack.json").exists() and (tmp_path / "c" / "2" / "app.json").exists()


def test_check_mode_writes_nothing(aws):
    """Counted with the moto recorder: a --check publish makes only reads."""
    aws.client("s3").create_bucket(Bucket="convox-releases")
    rec = aws.recording.mark()
    out = aws.playbook(PUBLISH, extra_vars={"channel": "s3://convox-releases", "src": FILES + "/release-a",
                                            "version": "1"}, check=True)
    calls = rec.calls()
    assert "changed=1" in out
    assert [c for c in calls if c[0] == "s3"], "the check run read the channel"
    assert rec.mutating() == [], rec.mutating()
    rec.mark()
    aws.playbook(PUBLISH, extra_vars={"channel": "s3://convox-releases", "src": FILES + "/release-a", "version": "1"})
    assert sorted(a for dummy, a, dummy2 in rec.mutating()) == ["PutObject", "PutObject", "PutObject"]
    rec.mark()
    out = aws.playbook(PUBLISH, extra_vars={"channel": "s3://convox-releases", "src": FILES + "/release-a",
                                            "version": "1"})
    assert "changed=0" in out and rec.mutating() == []


def test_concurrent_publishers_keep_each_others_entries(aws, tmp_path):
    """Four ansible-playbook processes publish different versions at the same moment."""
    aws.client("s3").create_bucket(Bucket="convox-releases")
    for channel in ("s3://convox-releases/c", "file://%s" % (tmp_path / "c")):
        versions = ["2024010%d000000" % n for n in range(1, 5)]
        procs = []
        for version in versions:
            cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                   os.path.join(HERE, "inventory.yml"), PUBLISH, "-e",
                   json.dumps({"channel": channel, "src": FILES + "/release-b", "version": version})]
            procs.append(subprocess.Popen(cmd, env=aws.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True, cwd=tempfile.gettempdir()))
        for proc in procs:
            out = proc.communicate(timeout=300)[0]
            assert proc.returncode == 0, out
        out = aws.playbook(target("rack_release", "list.yml"), extra_vars={"channel": channel})
        listed = json.loads(out.split("RELEASES=", 1)[1].split("\n", 1)[0].strip().rstrip('"').replace('\\"', '"'))
        assert sorted(listed) == versions
