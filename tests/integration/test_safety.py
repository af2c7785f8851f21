# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safety: nothing that is not ours is ever changed.  Each case runs the modules through
ansible-playbook against the local AWS endpoint, asserts the one-sentence message, and asserts
with boto3 that the foreign stack, bucket, object, rack or app is exactly as before (and, where
it matters, that the request recorder saw no mutating call)."""

from __future__ import annotations

import json
import os
import threading
import time

from conftest import REPO
from safety import APP_TEMPLATE, FOREIGN_TEMPLATE, RACK_TEMPLATE, app_stack, bucket_of, create_stack, entry, rack_stack, run_tasks, snapshot, write_channel


def rack_task(**args):
    return {"convox.rack.rack": args}


def app_task(**args):
    return {"convox.rack.rack_app": args}


def legacy_db(aws):
    """An ordinary stack: no convox tags, termination protection on, a retained bucket holding an object."""
    create_stack(aws, "legacy-db", FOREIGN_TEMPLATE, {"owner": "dba"}, protection=True)
    aws.client("s3").put_object(Bucket=bucket_of(aws, "legacy-db"), Key="dump.sql", Body=b"precious")


FOREIGN_MSG = ("stack legacy-db is not rack legacy-db: it lacks the tags Rack=legacy-db, System=convox, Type=rack "
               "(its tags: owner=dba), so nothing was changed; set adopt: true to take it over.")


def test_a_foreign_stack_is_never_uninstalled(aws, tmp_path):
    legacy_db(aws)
    before = snapshot(aws)
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        rack_task(name="legacy-db", state="absent"),
        rack_task(name="legacy-db", state="absent", force=True),
        dict(rack_task(name="legacy-db", state="absent"), check_mode=True),
    ])
    for res in results:
        assert res.get("failed") and not res.get("changed"), res
        assert res["msg"] == FOREIGN_MSG, res["msg"]
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before


def test_a_foreign_stack_with_a_version_parameter_is_never_updated_unless_adopted(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"])
    create_stack(aws, "billing", FOREIGN_TEMPLATE, {"owner": "finance"}, {"Version": "1"})
    before = snapshot(aws)
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        rack_task(name="billing", channel=channel, version="2"),
        rack_task(name="billing", parameters={"Version": "2"}),
        rack_task(name="billing", tags={"team": "x"}),
        dict(rack_task(name="billing", channel=channel, version="2"), check_mode=True),
    ], diff=True)
    for res in results:
        assert res.get("failed") and not res.get("changed"), res
        assert res["msg"].startswith("stack billing is not rack billing: it lacks the tags Rack=billing, "
                                     "System=convox, Type=rack (its tags: owner=finance)"), res["msg"]
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before

    # adopting on purpose: the tags it gains are in the plan and the diff; purge_tags false keeps owner
    results = run_tasks(aws, tmp_path, [
        dict(rack_task(name="billing", adopt=True, purge_tags=False), check_mode=True),
        rack_task(name="billing", adopt=True, purge_tags=False),
        rack_task(name="billing", purge_tags=False),
    ], diff=True)
    planned, adopted, again = results
    assert planned["changed"] and "gains the tags Rack=billing, System=convox, Type=rack" in planned["plan"]["note"]
    assert planned["diff"]["after"]["tags"] == {"owner": "finance", "System": "convox", "Type": "rack",
                                                "Rack": "billing"}
    assert adopted["changed"] and not adopted.get("failed"), adopted
    assert not again.get("failed") and not again["changed"], again            # ours now
    stack = aws.client("cloudformation").describe_stacks(StackName="billing")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {
        "owner": "finance", "System": "convox", "Type": "rack", "Rack": "billing"}
    assert json.loads(json.dumps(aws.client("cloudformation").get_template(StackName="billing")["TemplateBody"])) \
        == FOREIGN_TEMPLATE                                          # the template was not replaced


def test_rack_app_never_touches_a_rack(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    for name in ("team", "team-blue", "team2", "team2-blue"):
        rack_stack(aws, name)
    app_stack(aws, "team-blue", "site")
    before = snapshot(aws)
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        app_task(name="blue", rack="team", state="absent"),
        app_task(name="blue", rack="team", state="absent", adopt=True),
        app_task(name="blue", rack="team2", channel=channel),
        app_task(name="blue", rack="team2", channel=channel, adopt=True),
        dict(app_task(name="blue", rack="team2", channel=channel), check_mode=True),
    ])
    racks = ["team", "team", "team2", "team2", "team2"]
    for res, rack in zip(results, racks):
        assert res.get("failed") and not res.get("changed"), res
        assert res["msg"] == ("stack {r}-blue belongs to rack {r}-blue (its tags: Rack={r}-blue, System=convox, "
                              "Type=rack), not to app blue on rack {r}; a stack owned by another rack or app is never "
                              "adopted, re-tagged or deleted through another name, so nothing was "
                              "changed.".format(r=rack)), res["msg"]
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before


def test_an_app_whose_stack_is_foreign_is_refused_and_a_rack_must_be_ours(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    rack_stack(aws, "shop")
    create_stack(aws, "shop-web1", APP_TEMPLATE, {"owner": "web"}, {"Rack": "shop", "Version": "1"})
    create_stack(aws, "fake", RACK_TEMPLATE, {"System": "convox", "Type": "rack", "Rack": "other"}, {"Version": "1"})
    before = snapshot(aws)
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        app_task(name="web1", rack="shop", state="absent"),
        app_task(name="web1", rack="shop", channel=channel),
        app_task(name="web2", rack="fake", channel=channel),
    ])
    assert [r["msg"] for r in results] == [
        "stack shop-web1 is not app web1 on rack shop: it lacks the tags Name=web1, Rack=shop, System=convox, "
        "Type=app (its tags: owner=web), so nothing was changed; set adopt: true to take it over.",
    ] * 2 + [
        "stack fake is not rack fake: it lacks the tags System=convox, Type=rack, Rack=fake (its tags: Rack=other, "
        "System=convox, Type=rack), so no app is changed on it.",
    ]
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before


def test_adopt_never_crosses_ownership(aws, tmp_path):
    # racks prod + app web-apis and rack prod-web + app apis share the stack name prod-web-apis: whichever comes
    # second is refused, adopt or not, naming the owner; nothing is re-tagged or deleted
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    rack_stack(aws, "prod")
    app_stack(aws, "prod", "web-apis")
    rack_stack(aws, "prod-web")
    before = snapshot(aws)
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        app_task(name="apis", rack="prod-web", channel=channel),
        app_task(name="apis", rack="prod-web", channel=channel, adopt=True),
        app_task(name="apis", rack="prod-web", state="absent", adopt=True),
        dict(app_task(name="apis", rack="prod-web", channel=channel, adopt=True), check_mode=True),
        rack_task(name="prod-web-apis", state="absent", adopt=True),
        rack_task(name="prod-web-apis", state="absent", adopt=True, force=True),
        rack_task(name="prod-web-apis", channel=channel, adopt=True),
        dict(rack_task(name="prod-web-apis", state="absent", adopt=True), check_mode=True),
    ])
    labels = ["app apis on rack prod-web"] * 4 + ["rack prod-web-apis"] * 4
    for res, label in zip(results, labels):
        assert res.get("failed") and not res.get("changed"), res
        assert res["msg"] == (
            "stack prod-web-apis belongs to app web-apis of rack prod (its tags: Name=web-apis, Rack=prod, "
            "System=convox, Type=app), not to %s; a stack owned by another rack or app is never adopted, re-tagged or "
            "deleted through another name, so nothing was changed." % label), res["msg"]
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before


def test_force_uninstall_deletes_the_apps_found_by_their_tags_whatever_their_names(aws, tmp_path):
    rack_stack(aws, "scratch2")
    app_stack(aws, "scratch2", "api")                                  # a 3-letter name
    app_stack(aws, "scratch2", "odd", stack_name="oddly-named")         # not <rack>-<app> at all
    create_stack(aws, "scratch2-other", APP_TEMPLATE, {"owner": "x"}, {"Rack": "scratch2", "Version": "1"})
    info, refused, done = run_tasks(aws, tmp_path, [
        {"convox.rack.rack_info": {"name": "scratch2"}},
        rack_task(name="scratch2", state="absent"),
        rack_task(name="scratch2", state="absent", force=True),
    ])
    assert [a["name"] for a in info["racks"][0]["apps"]] == ["api", "odd"]
    assert refused["msg"] == ("rack scratch2 still has apps (api, odd); delete them first or set force: true to "
                              "delete them with the rack.")
    assert done["changed"] and not done.get("failed"), done
    assert done["plan"]["apps"] == ["api", "odd"]
    live = [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == ["scratch2-other"]                                   # the untagged look-alike is untouched


def test_uninstall_confirms_the_racks_it_deletes_not_the_hosts(aws, tmp_path):
    rack_stack(aws, "prod-critical", protection=True)
    rack_stack(aws, "scratch")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        "    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  hosts:\n    scratch:\n      rack_name: prod-critical\n    other:\n      rack_name: scratch\n"
        "    twin:\n      rack_name: scratch\n"
        "    regional:\n      rack_name: scratch\n      rack_region: us-east-1\n")
    uninstall = os.path.join(REPO, "playbooks", "uninstall.yml")
    before = snapshot(aws)
    rec = aws.recording.mark()
    out = aws.playbook(uninstall, "-l", "scratch", inventory=str(inventory), cwd=REPO,
                       extra_vars={"confirm": "scratch"}, expect_rc=2)
    assert ("confirm entry scratch names no rack this run would delete (123456789012/us-east-1/prod-critical) - a confirm "
            "names racks, not the hosts that stand for them; to confirm, pass -e confirm=prod-critical; nothing was "
            "deleted.") in " ".join(out.split()), out
    out = aws.playbook(uninstall, "-l", "other,twin", inventory=str(inventory), cwd=REPO,
                       extra_vars={"confirm": "scratch"}, expect_rc=2)
    assert ("hosts other, twin all resolve to rack scratch in us-east-1 of account 123456789012; one rack must be one "
            "host; no rack was changed.") in out, out
    site = os.path.join(REPO, "playbooks", "site.yml")
    out = aws.playbook(site, inventory=str(inventory), cwd=REPO, expect_rc=2)
    assert "hosts other, regional, twin all resolve to rack scratch in us-east-1" in out, out
    # a host without a region and one naming the default region are the same rack (AWS_REGION is us-east-1)
    for playbook in ("site.yml", "update.yml"):
        out = aws.playbook(os.path.join(REPO, "playbooks", playbook), "-l", "other,regional", inventory=str(inventory),
                           cwd=REPO, expect_rc=2)
        assert "hosts other, regional all resolve to rack scratch in us-east-1; one rack must be one host" in out, out
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before

    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  hosts: {}\n")
    for playbook in ("site.yml", "update.yml", "uninstall.yml"):
        out = aws.playbook(os.path.join(REPO, "playbooks", playbook), inventory=str(empty), cwd=REPO, expect_rc=2,
                           extra_vars={"confirm": "x"})
        assert "no rack is targeted: the inventory has no hosts" in out, (playbook, out)


def test_names_are_matched_whole(aws, tmp_path):
    rack_stack(aws, "prod")
    rec = aws.recording.mark()
    results = run_tasks(aws, tmp_path, [
        rack_task(name="prod\n", state="absent"),
        app_task(name="web1\n", rack="prod", state="absent"),
        {"convox.rack.rack_release": {"channel": str(tmp_path / "c"), "version": "1\n", "src": str(tmp_path)}},
    ])
    assert [r["msg"] for r in results] == [
        'rack name "prod\\n" is invalid: it must start with a letter and contain only letters, digits and hyphens '
        '(at most 64 characters).',
        'app name "web1\\n" is invalid: it must start with a letter, contain only letters, digits and hyphens, and be '
        '4 to 30 characters long.',
        'version "1\\n" is not a valid release name (only letters, digits, ".", "_", "-" and "+" are allowed).',
    ]
    assert rec.calls() == []


def test_termination_protection_omitted_is_left_as_it_is(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    results = run_tasks(aws, tmp_path, [
        rack_task(name="loose", channel=channel, termination_protection=False),
        rack_task(name="loose", parameters={"Size": "large"}),
        rack_task(name="loose"),
        rack_task(name="tight", channel=channel),
    ])
    assert [r.get("failed", False) for r in results] == [False] * 4, results
    assert [r["changed"] for r in results] == [True, True, False, True]
    cfn = aws.client("cloudformation")
    assert cfn.describe_stacks(StackName="loose")["Stacks"][0]["EnableTerminationProtection"] is False
    assert cfn.describe_stacks(StackName="tight")["Stacks"][0]["EnableTerminationProtection"] is True


def test_a_missing_template_on_the_path_fails_before_any_change(aws, tmp_path):
    versions = [entry(str(i), required=True) for i in range(1, 103)]   # 101 steps from 1 to 102
    channel = write_channel(str(tmp_path / "channel"), versions, skip=("3",))
    rack_stack(aws, "long")
    before = snapshot(aws)
    rec = aws.recording.mark()
    (res,) = run_tasks(aws, tmp_path, [rack_task(name="long", channel=channel, version="latest")])
    assert res["failed"] and not res["changed"] and not res.get("steps"), res
    assert res["msg"] == ('channel %s has no rack template for version "3" (3/rack.json and 3/formation.json are missing).'
                          % channel)
    assert rec.mutating(include_plan=True) == []
    assert snapshot(aws) == before


def test_a_later_step_that_fails_reports_changed_and_the_steps_done(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), [entry(str(i), required=True) for i in range(1, 5)])
    rack_stack(aws, "midway")
    aws.set_stack(stack_name="midway", fail_updates={"after": 2, "logical_id": "Logs", "type": "AWS::Logs::LogGroup",
                                                     "reason": "Resource limit exceeded"})
    (res,) = run_tasks(aws, tmp_path, [rack_task(name="midway", channel=channel, version="latest")])
    assert res["failed"] and res["changed"], res
    assert [(s["from"], s["to"], s["status"]) for s in res["steps"]] == [
        ("1", "2", "UPDATE_COMPLETE"), ("2", "3", "UPDATE_COMPLETE"), ("3", "4", "UPDATE_ROLLBACK_COMPLETE")]
    assert res["msg"] == ("updating from 3 to 4 failed for rack midway: AWS::Logs::LogGroup Logs (no physical id) "
                          "UPDATE_FAILED: Resource limit exceeded; the stack is now UPDATE_ROLLBACK_COMPLETE "
                          "(rack midway is on 3 after 2 of 3 steps).")


def test_a_stack_deleted_while_waited_on_fails_and_is_not_recreated(aws, tmp_path):
    channel = write_channel(str(tmp_path / "channel"), ["1"])
    rack_stack(aws, "waiter")
    aws.set_stack(stack_name="waiter", status="UPDATE_IN_PROGRESS")   # someone else's update, still running
    rec = aws.recording.mark()

    def delete_once_waited_on():
        deadline = time.time() + 120
        while time.time() < deadline:       # the task has read the stack (and found it busy): delete it
            if ("cloudformation", "DescribeStacks", "us-east-1") in rec.calls():
                time.sleep(0.5)
                aws.set_stack(stack_name="waiter", delete=True)
                return
            time.sleep(0.1)

    deleter = threading.Thread(target=delete_once_waited_on)
    deleter.start()
    try:
        (res,) = run_tasks(aws, tmp_path, [rack_task(name="waiter", channel=channel, parameters={"Size": "large"})])
    finally:
        deleter.join()
    assert res["failed"] and not res["changed"], res
    assert res["msg"] == ("rack waiter was deleted while this task waited for its UPDATE_IN_PROGRESS to finish; "
                          "nothing was changed, and it is not re-created from this task alone (run again to install it "
                          "anew).")
    assert [c for c in rec.mutating() if c[1] == "CreateStack"] == []
