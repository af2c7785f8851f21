# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real AWS, against the local endpoint that refuses what AWS refuses: the image of a rack's instances never changes
without the plan saying so; ..."""

from __future__ import annotations

import copy
import json
import os

import localaws
from conftest import REPO
from safety import RACK_TEMPLATE, run_tasks, snapshot, write_channel

SSM_PATH = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
OTHER_PATH = "/acme/images/hardened"


def imaged(path=SSM_PATH, ssm_typed=False, instance_type=False):
    """A rack template whose instances' launch template takes its image from ``path``: the collection resolving it
    (Metadata Convox::Image and a plain parameter) or, ``ssm_typed``, CloudFormation (an SSM-typed parameter)."""
    template = copy.deepcopy(RACK_TEMPLATE)
    if ssm_typed:
        template["Parameters"]["Ami"] = {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": path}
    else:
        template["Parameters"]["Ami"] = {"Type": "AWS::EC2::Image::Id"}
        template["Metadata"] = {"Convox::Image": {"Parameter": "Ami", "Ssm": path}}
    template["Parameters"]["InstanceType"] = {"Type": "String", "Default": "t3.small"}
    template["Resources"]["LaunchTemplate"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
        "ImageId": {"Ref": "Ami"}, "InstanceType": {"Ref": "InstanceType"}}}}
    return template


def rack(**args):
    return {"convox.rack.rack": dict({"name": "imaged", "termination_protection": False}, **args)}


def stack_parameters(aws, name="imaged"):
    stack = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ResolvedValue", p["ParameterValue"]) for p in stack["Parameters"]}


def images(aws):
    ids = [i["ImageId"] for i in aws.client("ec2").describe_images()["Images"]]
    return ids[0], ids[1]


def test_the_image_changes_only_with_a_release_or_the_user_and_the_plan_says_when(aws, tmp_path):
    ssm = aws.client("ssm")
    first, second = images(aws)
    localaws.publish_parameter(aws.endpoint, SSM_PATH, first)
    ssm.put_parameter(Name=OTHER_PATH, Value=second, Type="String")
    channel = write_channel(str(tmp_path / "channel"), ["1", "2", "3"],
                            racks={"1": imaged(), "2": imaged(), "3": imaged(OTHER_PATH)})
    install, = run_tasks(aws, tmp_path, [rack(channel=channel, version="1")])
    assert install["plan"]["parameter_changes"]["Ami"] == {"before": None, "after": first}      # resolved, and shown
    assert stack_parameters(aws)["Ami"] == first
    # AWS publishes a new image: no update of the rack takes it unannounced - not a tag change, not a release that
    # keeps the image's source
    localaws.publish_parameter(aws.endpoint, SSM_PATH, second)
    plan, tagged, moved = run_tasks(aws, tmp_path, [
        dict(rack(channel=channel, version="2"), check_mode=True), rack(tags={"team": "a"}),
        rack(channel=channel, version="2")], diff=True, name="keep.yml")
    assert "instances_replaced" not in plan["plan"] and "Ami" not in plan["plan"]["parameter_changes"], plan["plan"]
    assert tagged["changed"] and moved["changed"] and stack_parameters(aws)["Ami"] == first
    # a release that names another source, and the user's own image, are changes the plan shows
    plan, = run_tasks(aws, tmp_path, [dict(rack(channel=channel, version="3"), check_mode=True)], diff=True,
                      name="plan3.yml")
    assert plan["plan"]["instances_replaced"] == [
        {"step": "2 -> 3", "reasons": ["image %s -> %s" % (first, second)]}], plan["plan"]
    assert plan["diff"]["after"]["instances_replaced"] == ["2 -> 3: image %s -> %s" % (first, second)]
    assert stack_parameters(aws)["Ami"] == first
    run_tasks(aws, tmp_path, [rack(channel=channel, version="3")], name="move3.yml")
    assert stack_parameters(aws)["Ami"] == second
    plan, = run_tasks(aws, tmp_path, [dict(rack(parameters={"InstanceType": "t3.large", "Ami": first}),
                                           check_mode=True)], name="user.yml")
    assert plan["plan"]["instances_replaced"] == [{"step": "3 (in place)", "reasons": [
        "image %s -> %s" % (second, first), "parameter InstanceType t3.small -> t3.large"]}]


def test_a_rack_on_an_ssm_typed_image_is_told_and_keeps_its_image_moving_to_a_plain_one(aws, tmp_path):
    first, second = images(aws)
    localaws.publish_parameter(aws.endpoint, SSM_PATH, first)
    channel = write_channel(str(tmp_path / "channel"), ["1", "2"],
                            racks={"1": imaged(ssm_typed=True), "2": imaged()})
    run_tasks(aws, tmp_path, [rack(channel=channel, version="1")])
    assert stack_parameters(aws)["Ami"] == first
    localaws.publish_parameter(aws.endpoint, SSM_PATH, second)
    # on the old template any update rolls the instances to the new image: the plan says so
    plan, = run_tasks(aws, tmp_path, [dict(rack(tags={"team": "a"}), check_mode=True)], name="tags.yml")
    reason = "image %s -> %s (CloudFormation resolves %s again on any update of this template)" % (
        first, second, SSM_PATH)
    assert plan["plan"]["instances_replaced"] == [{"step": "1 (in place)", "reasons": [reason]}]
    # the release that makes the image a plain parameter keeps the image the rack runs
    plan, moved = run_tasks(aws, tmp_path, [dict(rack(channel=channel, version="2"), check_mode=True),
                                            rack(channel=channel, version="2")], name="plain.yml")
    assert "instances_replaced" not in plan["plan"], plan["plan"]
    assert moved["changed"] and stack_parameters(aws)["Ami"] == first
    assert json.loads(json.dumps(moved["rack"]["parameters"]))["Ami"] == first


def publish_formation(aws, tmp_path, channel):
    run_tasks(aws, tmp_path, [{"convox.rack.rack_release": {"channel": channel, "version": "1",
                                                            "src": os.path.join(REPO, "formation")}}], name="pub.yml")


def test_an_export_an_app_imports_is_never_changed_under_it(aws, tmp_path):
    """Toggling Private replaces the rack's balancer (its Scheme is create-only), so the listener its apps import
    changes: the dry run says so, a real run refuses before any call, naming the export and the app."""
    channel = "file://%s" % (tmp_path / "channel")
    publish_formation(aws, tmp_path, channel)
    run_tasks(aws, tmp_path, [rack(name="edge", channel=channel), {"convox.rack.rack_app": {
        "name": "web1", "rack": "edge", "channel": channel}}], name="install.yml")
    before = snapshot(aws)
    rec = aws.recording.mark()
    plan, refused = run_tasks(aws, tmp_path, [
        dict(rack(name="edge", parameters={"Private": True}), check_mode=True),
        rack(name="edge", parameters={"Private": True})], name="toggle.yml")
    found = {f["export"]: f for f in plan["plan"]["exports_in_use"]}
    assert found["edge:BalancerListener"] == {
        "step": "1 (in place)", "export": "edge:BalancerListener", "importers": ["edge-web1"],
        "reason": "AWS::ElasticLoadBalancingV2::Listener BalancerListener is replaced: its LoadBalancerArn changes "
                  "(Balancer is replaced)"}
    assert any("would change export edge:BalancerListener" in w for w in plan["warnings"])
    assert refused["failed"] and not refused["changed"]
    assert refused["msg"].startswith("rack edge: step 1 (in place) would change export edge:BalancerListener (AWS::"
                                     "ElasticLoadBalancingV2::Listener BalancerListener is replaced: its "
                                     "LoadBalancerArn changes (Balancer is replaced)), which stack edge-web1 imports")
    assert "CloudFormation refuses to change an export in use" in refused["msg"]
    assert rec.mutating() == []
    assert snapshot(aws) == before


def test_a_region_full_by_its_quotas_refuses_installs_before_any_change(aws, tmp_path):
    """AWS's default quotas leave room for four public racks in a region (five VPCs, the default one included):
    a fleet run installs four of five at once and refuses the fifth, changing nothing for it, naming the quota; the
    module refuses a sixth; a raised quota is honoured; update.yml's preflight prints each region's quotas."""
    channel = "file://%s" % (tmp_path / "channel")
    publish_formation(aws, tmp_path, channel)
    names = ["q1", "q2", "q3", "q4", "q5"]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "rack_channel": channel, "rack_termination_protection": False, "convox_poll_interval": 1},
        "hosts": dict.fromkeys(names)}}))
    out = aws.playbook(os.path.join(REPO, "playbooks", "site.yml"), inventory=str(inventory), cwd=REPO, expect_rc=2)
    cfn = aws.client("cloudformation")
    installed = sorted(s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackStatus"] == "CREATE_COMPLETE")
    refused = sorted(set(names) - set(installed))
    assert len(installed) == 4 and len(refused) == 1, out[-3000:]
    assert ("rack %s cannot be installed: region us-east-1 has room for 0 more racks like this one (VPCs per Region: "
            "5 of 5 used; Internet gateways per Region: 5 of 5 used); nothing was changed" % refused[0]) in out, out[-3000:]
    assert len(aws.client("ec2").describe_vpcs()["Vpcs"]) == 5
    res, = run_tasks(aws, tmp_path, [rack(name="sixth", channel=channel)], name="sixth.yml")
    assert res["failed"] and not res["changed"] and "room for 0 more racks" in res["msg"]
    localaws.set_quotas(aws.endpoint, "us-east-1", vpcs=10, internet_gateways=10)    # the increase came through
    res, = run_tasks(aws, tmp_path, [dict(rack(name="sixth", channel=channel), check_mode=True)], name="raised.yml")
    assert res["changed"] and res["plan"]["region_room"] == 4, res
    out = aws.playbook(os.path.join(REPO, "playbooks", "update.yml"), "-l", "q1", inventory=str(inventory), cwd=REPO,
                       extra_vars={"convox_report_dir": str(tmp_path / "report")})
    assert "region us-east-1: VPCs per Region 5 of 10, Internet gateways per Region 5 of 10, EC2-VPC Elastic IPs 0 of 5, " \
           "NAT gateways per Availability Zone 0 of 5, Stack count 4 of 2000" in out, out[-3000:]


def test_a_region_out_of_vcpus_refuses_an_install_naming_the_quota(aws, tmp_path):
    """The vCPU quota in force (Service Quotas) against what runs (EC2) and what the rack's instances take (3 x
    t3.small: 6 vCPUs, EC2 DescribeInstanceTypes): the second rack does not fit and nothing of it is made."""
    channel = "file://%s" % (tmp_path / "channel")
    publish_formation(aws, tmp_path, channel)
    localaws.set_quotas(aws.endpoint, "us-east-1", vcpus=10)
    first, = run_tasks(aws, tmp_path, [rack(name="v1", channel=channel)], name="v1.yml")
    assert not first.get("failed"), first.get("msg")
    running = [i for r in aws.client("ec2").describe_instances()["Reservations"] for i in r["Instances"]]
    assert [i["InstanceType"] for i in running] == ["t3.small"] * 3
    second, = run_tasks(aws, tmp_path, [rack(name="v2", channel=channel)], name="v2.yml")
    assert second["failed"] and not second["changed"]
    assert ("rack v2 cannot be installed: region us-east-1 has room for 0 more racks like this one (Running On-Demand "
            "Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs): 6 of 10 used); nothing was changed") \
        in second["msg"], second["msg"]
    assert [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]] == ["v1"]


def test_a_large_template_is_read_by_url_as_the_partition_allows(aws, tmp_path):
    """CloudFormation reads a template over its 51,200-byte request limit by URL: in the aws partition from a bucket of
    any region (as Convox's CLI passes its us-east-1 bucket from every region); the URL names the bucket's region
    (GetBucketLocation), not the client's; in aws-cn (the stack's region only) the template is refused before any call,
    naming template_bucket; a template within the limit goes in the request from anywhere."""
    from test_safety_channel import padded
    src = tmp_path / "src"
    src.mkdir()
    (src / "rack.json").write_text(json.dumps(padded(60000)))
    (src / "app.json").write_text(json.dumps(RACK_TEMPLATE))
    small = tmp_path / "small"
    small.mkdir()
    (small / "rack.json").write_text(json.dumps(RACK_TEMPLATE))
    (small / "app.json").write_text(json.dumps(RACK_TEMPLATE))
    aws.client("s3", "eu-west-1").create_bucket(
        Bucket="eu-releases", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    channel = "s3://eu-releases/stable"
    run_tasks(aws, tmp_path, [{"convox.rack.rack_release": {"channel": channel, "version": "1", "src": str(src)}},
                              {"convox.rack.rack_release": {"channel": channel, "version": "2", "src": str(small)}}],
              name="publish.yml")
    rec = aws.recording.mark()
    far, near, small_far, china = run_tasks(aws, tmp_path, [
        rack(name="far", channel=channel, version="1", region="us-east-1"),
        rack(name="near", channel=channel, version="1", region="eu-west-1"),
        rack(name="small", channel=channel, version="2", region="us-east-1"),
        rack(name="china", channel=channel, version="1", region="cn-north-1")])
    assert far["changed"] and not far.get("failed"), far.get("msg")
    assert china["failed"] and not china["changed"]
    assert ("CloudFormation in cn-north-1 (partition aws-cn) reads a template only from a bucket in the stack's own "
            "region, and its channel's bucket is in eu-west-1; set template_bucket") in china["msg"], china["msg"]
    creates = rec.params("CreateStack")
    assert [c["StackName"] for c in creates] == ["far", "near", "small"], creates
    assert creates[0]["TemplateURL"].startswith("https://eu-releases.s3.eu-west-1.amazonaws.com/stable/1/rack.json")
    assert creates[1]["TemplateURL"] == creates[0]["TemplateURL"]
    assert "TemplateBody" in creates[2]
    assert near["changed"] and not near.get("failed") and small_far["changed"] and not small_far.get("failed")
    body = aws.client("cloudformation", "eu-west-1").get_template(StackName="near")["TemplateBody"]
    body = body if isinstance(body, dict) else json.loads(body)
    assert len(body["Resources"]["Logs"]["Metadata"]["padding"]) == 60000
    assert aws.client("cloudformation", "cn-north-1").describe_stacks()["Stacks"] == []


SERVICE_APP = {
    "Parameters": {"Rack": {"Type": "String"}, "Version": {"Type": "String"}, "Count": {"Type": "Number"}},
    "Resources": {
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": {"Fn::Sub": "${AWS::StackName}"},
            "ContainerDefinitions": [{"Name": "web", "Image": "nginx", "Memory": 128}]}},
        "Web": {"Type": "AWS::ECS::Service", "Properties": {
            "Cluster": {"Ref": "Cluster"}, "TaskDefinition": {"Ref": "Task"}, "DesiredCount": {"Ref": "Count"}}},
    },
}


def test_a_step_that_replaces_instances_names_the_apps_that_run_a_single_task(aws, tmp_path):
    ssm = aws.client("ssm")
    first, dummy = images(aws)
    localaws.publish_parameter(aws.endpoint, SSM_PATH, first)
    ssm.put_parameter(Name=OTHER_PATH, Value=first, Type="String")
    channel = write_channel(str(tmp_path / "channel"), ["1"], racks={"1": imaged()})
    run_tasks(aws, tmp_path, [dict(rack(channel=channel, version="1"), ignore_errors=False)])
    cfn = aws.client("cloudformation")
    for app, count in (("web", "1"), ("api", "2")):
        cfn.create_stack(StackName="imaged-%s" % app, TemplateBody=json.dumps(SERVICE_APP),
                         Parameters=[{"ParameterKey": "Rack", "ParameterValue": "imaged"},
                                     {"ParameterKey": "Version", "ParameterValue": "1"},
                                     {"ParameterKey": "Count", "ParameterValue": count}],
                         Tags=[{"Key": k, "Value": v} for k, v in
                               (("System", "convox"), ("Type", "app"), ("Rack", "imaged"), ("Name", app))])
    plan, same = run_tasks(aws, tmp_path, [
        dict(rack(parameters={"InstanceType": "t3.large"}), check_mode=True),
        dict(rack(tags={"team": "a"}), check_mode=True)], name="downtime.yml")
    assert plan["plan"]["single_task_apps"] == [{"app": "web", "service": "Web", "parameter": "Count"}], plan["plan"]
    warning = ("rack imaged, step 1 (in place) replaces its instances: app web runs a single task (service Web, Count: "
               "1) and is down while its instance is replaced; run at least two copies of anything critical.")
    assert warning in plan["plan"]["warnings"] and warning in plan["warnings"]
    assert "single_task_apps" not in same["plan"]            # no instance replaced: no warning


def test_an_app_past_the_load_balancers_listener_rules_is_refused_before_any_change(aws, tmp_path):
    """Each app adds a listener rule to its rack's load balancer (Rules per Application Load Balancer: 100 unless
    raised, ELB's DescribeAccountLimits): with room for two, the third app is refused naming the rack, the count and
    the quota, and nothing of it is made; with the endpoint past the quota too, CloudFormation would refuse it with
    TooManyRules and roll back (tests/unit/tools/test_localaws_rules.py)."""
    channel = "file://%s" % (tmp_path / "channel")
    publish_formation(aws, tmp_path, channel)
    localaws.set_quotas(aws.endpoint, "us-east-1", rules_per_load_balancer=2)

    def app(name, priority):
        return {"convox.rack.rack_app": {"name": name, "rack": "ruled", "channel": channel,
                                         "parameters": {"Priority": priority}}}
    results = run_tasks(aws, tmp_path, [rack(name="ruled", channel=channel), app("web1", 11), app("web2", 12)],
                        name="two.yml")
    assert all(not r.get("failed") for r in results), [r.get("msg") for r in results]
    rec = aws.recording.mark()
    planned, third = run_tasks(aws, tmp_path, [dict(app("web3", 13), check_mode=True), app("web3", 13)],
                               name="third.yml")
    for res in (planned, third):
        assert res["failed"] and not res["changed"]
        assert res["msg"] == ("rack ruled's load balancer has 2 listener rules of the 2 its account allows (Rules per "
                              "Application Load Balancer), and app web3 adds 1, so it was not created; remove an app "
                              "from the rack or ask AWS for a higher quota."), res["msg"]
    assert rec.mutating(include_plan=True) == []
    stacks = sorted(s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"])
    assert stacks == ["ruled", "ruled-web1", "ruled-web2"]
    localaws.set_quotas(aws.endpoint, "us-east-1", rules_per_load_balancer=3)   # the increase came through
    res, = run_tasks(aws, tmp_path, [app("web3", 13)], name="raised.yml")
    assert res["changed"] and not res.get("failed"), res.get("msg")
