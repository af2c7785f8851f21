# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: fleet cost of convox.rack against the local AWS endpoint, side by side with
Ansible's own floors and with the same converge written with amazon.aws.cloudformation.

    python bench/run.py [--racks 100] [--runs 3] [--forks 10] [--scale 25,50,100,200]
                        [--latency 0.05] [--skip-scale] [--skip-latency]
                        [--aws-speed-sizes 50,200] [--aws-speed-seconds 20] [--aws-speed-rate 5]
                        [--check-racks 400] [--only-aws-speed] [--skip-aws-speed] [--aws-speed-accounts 3]
                        [--watch-stacks 2000] [--watch-moving 50] [--only-watch]

"Fleet at AWS speed" runs the fleet playbooks with the local endpoint in real-duration mode (every
stack operation takes --aws-speed-seconds, busy stacks refuse updates, CloudFormation answers
Throttling past --aws-speed-rate requests per second and region), 3 orgs x 3 regions, default
forks (5), the racks spread over --aws-speed-accounts accounts, each reached through its role: site.yml installs,
update.yml goes 3 release steps ahead (2 required releases on the way), beside the policy ideal (batches x steps x T).

"Waiting at region scale" (--watch-stacks): one account-region of 2,000 stacks, 50 of them moving, waited for by one
shared watcher under the rate limit: read requests per poll, failed waits, and what listing the whole region costs.

Prints tables and writes bench/results/<timestamp>.json (and a PNG chart of the scaling run).
Medians of --runs runs; each ratio pairs runs made one after the other in the same process.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))

import localaws  # noqa: E402

from ansible_collections.convox.rack.plugins.module_utils.aws._templates import canonical, load_template_file  # noqa: E402

BIN = os.path.dirname(sys.executable)
WORK = os.path.join(REPO, ".tmp", "bench")
STATE = os.path.join(WORK, "localaws")
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
ORGS = ["acme", "globex"]
BUCKET = "convox-bench-releases"
CHANNEL = "s3://%s/stable" % BUCKET
V1, V2, V3 = "20260101000000", "20260201000000", "20260301000000"
V4 = "20260401000000"
SPEED_ORGS = ["acme", "globex", "initech"]
SPEED_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
SPEED_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
ROLE = "arn:aws:iam::%s:role/convox-fleet"


class Bench:
    def __init__(self, args):
        self.args = args
        self.endpoint = None

    # -- environment ---------------------------------------------------------------------------
    def env(self):
        env = dict(os.environ)
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_URL"):
            env.pop(var, None)
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="bench-key", AWS_SECRET_ACCESS_KEY="bench-secret",
                   AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_DEPRECATION_WARNINGS="false",
                   ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_FORKS=str(self.args.forks),
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        return env

    def client(self, service, region="us-east-1"):
        import boto3
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint,
                            aws_access_key_id="bench-key", aws_secret_access_key="bench-secret")

    def faults(self, **spec):
        localaws.post(self.endpoint, "/_localaws/faults", spec)

    # -- fleet set-up (not measured) ------------------------------------------------------------
    def racks(self, n):
        out = []
        for i in range(n):
            org = ORGS[i % 2]
            region = REGIONS[(i // 2) % len(REGIONS)]
            out.append({"name": "%s-r%03d" % (org, i), "org": org, "region": region,
                        "apps": ["web1"] if i % 3 == 0 else []})
        return out

    def publish(self, releases):
        """A fresh local AWS with the channel: formation/ published as each (version, required)."""
        localaws.reset(self.endpoint)
        localaws.set_timing(self.endpoint, 0)
        self.faults()
        for account in (None,) + SPEED_ACCOUNTS:              # fleet accounts: their quota increases approved
            for region in set(REGIONS) | set(SPEED_REGIONS):
                localaws.set_quotas(self.endpoint, region, account=account, vpcs=1000, internet_gateways=1000,
                                    elastic_ips=3000, nat_gateways_per_az=1000, load_balancers=1000,
                                    iam_roles=10000)
        # each fleet account's role, trusting the bench's own account (its credentials expire as AWS's do)
        localaws.set_accounts(self.endpoint, [{"account": a, "name": "convox-fleet", "trusts": "123456789012"}
                                              for a in SPEED_ACCOUNTS])
        s3 = self.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        rack = load_template_file(os.path.join(REPO, "formation"), "rack")
        app = load_template_file(os.path.join(REPO, "formation"), "app")
        versions = []
        for version, required in releases:
            s3.put_object(Bucket=BUCKET, Key="stable/%s/rack.json" % version, Body=canonical(rack))
            s3.put_object(Bucket=BUCKET, Key="stable/%s/app.json" % version, Body=canonical(app))
            versions.append({"version": version, "description": "", "published": True, "required": required})
        s3.put_object(Bucket=BUCKET, Key="stable/versions.json", Body=json.dumps(versions).encode())
        return rack, app

    def setup(self, n):
        rack, app = self.publish(((V1, False), (V2, True), (V3, False)))
        os.makedirs(WORK, exist_ok=True)
        for kind, tpl in (("rack", rack), ("app", app)):
            with open(os.path.join(WORK, "%s.json" % kind), "wb") as f:
                f.write(canonical(tpl))
        racks = self.racks(n)
        rack_body, app_body = json.dumps(rack), json.dumps(app)

        # the rack template takes its instances' image as a parameter (Metadata Convox::Image names the SSM parameter
        # the collection reads at install): a rack made here gets the image the collection would have set
        source = rack["Metadata"]["Convox::Image"]
        images = {region: self.client("ssm", region).get_parameter(Name=source["Ssm"])["Parameter"]["Value"]
                  for region in sorted({r["region"] for r in racks})}

        def create(r):
            cfn = self.client("cloudformation", r["region"])
            cfn.create_stack(StackName=r["name"], TemplateBody=rack_body, Capabilities=["CAPABILITY_IAM"],
                             Parameters=[{"ParameterKey": "Version", "ParameterValue": V1},
                                         {"ParameterKey": source["Parameter"], "ParameterValue": images[r["region"]]}],
                             Tags=[{"Key": k, "Value": v} for k, v in sorted({
                                 "System": "convox", "Type": "rack", "Rack": r["name"], "Org": r["org"]}.items())],
                             EnableTerminationProtection=True)
            for a in r["apps"]:
                cfn.create_stack(StackName="%s-%s" % (r["name"], a), TemplateBody=app_body,
                                 Capabilities=["CAPABILITY_IAM"],
                                 Parameters=[{"ParameterKey": "Rack", "ParameterValue": r["name"]},
                                             {"ParameterKey": "Version", "ParameterValue": V1}],
                                 Tags=[{"Key": k, "Value": v} for k, v in sorted({
                                     "System": "convox", "Type": "app", "Rack": r["name"], "Name": a}.items())])
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(create, racks))
        return self.inventory(racks)

    def inventory(self, racks):
        path = os.path.join(WORK, "inventory-%d" % len(racks))
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(os.path.join(path, "group_vars"))
        groups = collections.defaultdict(list)
        hosts = {}
        for r in racks:
            groups["org_" + r["org"]].append(r["name"])
            groups["region_" + r["region"].replace("-", "_")].append(r["name"])
            hosts[r["name"]] = {"rack_org": r["org"], "rack_region": r["region"],
                                "rack_apps": [{"name": a} for a in r["apps"]]}
            if r.get("account"):        # a rack in another account, reached through its role
                hosts[r["name"]].update(rack_account_id=r["account"], rack_assume_role_arn=ROLE % r["account"])
                groups["account_" + r["account"]].append(r["name"])
        groups["canary"] = [racks[0]["name"]]
        data = {"all": {"hosts": hosts, "children": {g: {"hosts": dict.fromkeys(m)}
                                                     for g, m in groups.items()}}}
        with open(os.path.join(path, "hosts.yml"), "w") as f:
            json.dump(data, f)
        with open(os.path.join(path, "group_vars", "all.yml"), "w") as f:
            json.dump({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                       "rack_channel": CHANNEL, "rack_version": V1, "rack_termination_protection": True,
                       "bench_dir": WORK, "bench_version": V1}, f)
        return path

    # -- measuring --------------------------------------------------------------------------------
    def playbook(self, inventory, path, *args):
        t0 = time.monotonic()
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, path] + list(args),
                              cwd=REPO, env=self.env(), capture_output=True, text=True, check=False)
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise SystemExit("bench: %s failed:\n%s" % (os.path.basename(path), proc.stdout[-4000:]))
        return wall

    def median(self, inventory, path, *args):
        return statistics.median(self.playbook(inventory, path, *args) for dummy in range(self.args.runs))

    def calls(self, inventory, path, *args):
        rec = localaws.Recording(STATE).mark()
        self.playbook(inventory, path, *args)
        return rec.calls()

    def noop_table(self, inventory, n):
        site = os.path.join(REPO, "playbooks", "site.yml")
        pairs = {"debug": [], "ping": [], "site": [], "peer": [], "per_host": [], "aws_module": []}
        for dummy in range(self.args.runs):   # interleaved, so the ratios pair runs made together
            pairs["debug"].append(self.playbook(inventory, os.path.join(HERE, "floor_debug.yml")))
            pairs["ping"].append(self.playbook(inventory, os.path.join(HERE, "floor_ping.yml")))
            pairs["site"].append(self.playbook(inventory, site))
            pairs["peer"].append(self.playbook(inventory, os.path.join(HERE, "peer.yml")))
            pairs["per_host"].append(self.playbook(inventory, os.path.join(HERE, "per_host.yml")))
            pairs["aws_module"].append(self.playbook(inventory, os.path.join(HERE, "aws_module.yml")))
        med = {k: statistics.median(v) for k, v in pairs.items()}
        # the same with one rack: what a run costs before any rack (start-up, warm-up, channel read),
        # and so what each further rack adds
        one = ("-l", self.racks(n)[0]["name"])
        single = {"debug": [], "site": []}
        for dummy in range(self.args.runs):
            single["debug"].append(self.playbook(inventory, os.path.join(HERE, "floor_debug.yml"), *one))
            single["site"].append(self.playbook(inventory, site, *one))
        one_med = {k: statistics.median(v) for k, v in single.items()}
        per_rack_ms = {k: round((med[k] - one_med[k]) / max(n - 1, 1) * 1000, 1) for k in one_med}
        return {"racks": n, "wall": med, "runs": pairs, "one_rack": one_med, "per_rack_ms": per_rack_ms,
                "site_vs_module_floor": med["site"] / med["ping"], "site_vs_dispatch_floor": med["site"] / med["debug"],
                "peer_vs_site": med["peer"] / med["site"], "per_host_vs_aws_module": med["per_host"] / med["aws_module"]}

    def call_table(self, inventory, n, path, *args):
        calls = self.calls(inventory, path, *args)
        by = collections.Counter("%s:%s" % (s, a) for s, a, dummy in calls)
        mutating = [c for c in calls if localaws.is_mutating(c[1])]
        return {"total": len(calls), "per_rack": len(calls) / float(n),
                "cloudformation_per_rack": len([c for c in calls if c[0] == "cloudformation"]) / float(n),
                "channel_reads": by.get("s3:GetObject", 0), "by_action": dict(sorted(by.items())),
                "mutating": len(mutating)}

    # -- fleet at AWS speed ------------------------------------------------------------------------
    def speed_setup(self, n):
        """A channel with four releases (the two in the middle required) and an inventory of ``n`` racks
        over 3 orgs x 3 regions, none installed yet."""
        self.publish(((V1, False), (V2, True), (V3, True), (V4, False)))
        accounts = SPEED_ACCOUNTS[:self.args.aws_speed_accounts] if self.args.aws_speed_accounts > 1 else ()
        racks = [{"name": "%s-s%03d" % (SPEED_ORGS[i % 3], i), "org": SPEED_ORGS[i % 3],
                  "region": SPEED_REGIONS[(i // 3) % 3], "apps": [],
                  "account": accounts[(i // 9) % len(accounts)] if accounts else None} for i in range(n)]
        path = self.inventory(racks)
        with open(os.path.join(path, "group_vars", "all.yml")) as f:
            group_vars = json.load(f)
        group_vars.update(rack_termination_protection=False)
        with open(os.path.join(path, "group_vars", "all.yml"), "w") as f:
            json.dump(group_vars, f)
        return path

    @staticmethod
    def policy_batches(n, batch="25%"):
        """update.yml's batches for n racks: the canary, then serial batches of the rest."""
        rest = n - 1
        size = max(int(rest * int(batch.rstrip("%")) / 100.0), 1)
        return 1 + -(-rest // size)

    def listing_reads(self, mark):
        """DescribeStacks calls without a StackName (the shared per-region reads), per region."""
        counts = collections.Counter()
        with open(mark.path, "rb") as f:
            f.seek(mark.offset)
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                service, action, region = localaws.parse_call(entry)
                if service == "cloudformation" and action == "DescribeStacks" and "StackName" not in (
                        entry.get("body") or "") + entry.get("url", ""):
                    counts[region] += 1
        return dict(counts)

    def aws_speed(self):
        seconds = self.args.aws_speed_seconds
        env_forks = self.args.forks
        self.args.forks = 5                       # default forks: the batch, not forks, sets the pace
        rows = []
        runs = [(int(n), 0.0) for n in self.args.aws_speed_sizes.split(",")]
        if self.args.aws_speed_rate:              # and the largest fleet again, throttled past the rate
            runs.append((runs[-1][0], self.args.aws_speed_rate))
        try:
            for n, rate in runs:
                inventory = self.speed_setup(n)
                site = os.path.join(REPO, "playbooks", "site.yml")
                update = os.path.join(REPO, "playbooks", "update.yml")
                localaws.set_timing(self.endpoint, seconds, rate=rate)
                install = self.playbook(inventory, site)
                install_log = localaws.transitions(self.endpoint)
                localaws.set_timing(self.endpoint, seconds, rate=rate)      # clears the log
                mark = localaws.Recording(STATE).mark()
                t0 = time.monotonic()
                proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, update,
                                       "-e", "rack_version=latest"], cwd=REPO, env=self.env(), capture_output=True,
                                      text=True, check=False)
                wall = time.monotonic() - t0
                failed = 0 if "0 failed, %d updated" % n in proc.stdout else n
                log = localaws.transitions(self.endpoint)
                reads = self.listing_reads(mark)
                batches = self.policy_batches(n)
                ideal = batches * 3 * seconds
                rows.append({"racks": n, "seconds": seconds, "rate": rate, "install": install, "update": wall,
                             "accounts": max(self.args.aws_speed_accounts, 1),
                             "batches": batches, "ideal": ideal, "ratio": wall / ideal, "failed": failed,
                             "update_rc": proc.returncode, "listing_reads": reads,
                             "reads_per_region_per_minute": max(reads.values() or [0]) / (wall / 60.0),
                             "throttled": log.get("throttled", {}),
                             "operations": len([t for t in log["transitions"] if t[3] == "UPDATE_IN_PROGRESS"]),
                             "install_delays": self.delays(install_log, "CREATE"),
                             "update_delays": self.delays(log, "UPDATE"),
                             "install_endpoint": install_log.get("load"), "update_endpoint": log.get("load")})
                if proc.returncode != 0:          # the summary says which racks failed and why
                    start = proc.stdout.find("TASK [Fleet summary]")
                    print(proc.stdout[start:start + 6000] if start >= 0 else proc.stdout[-3000:])
        finally:
            localaws.set_timing(self.endpoint, 0)
            self.args.forks = env_forks
        return rows

    # -- waiting at region scale ------------------------------------------------------------------------
    def watch_scale(self):
        """One account-region holding ``--watch-stacks`` stacks (2,000: the default quota), ``--watch-moving`` of
        them moving and finishing one after another over about 20 s, waited for by as many racks through one
        RegionWatcher (rack_batch's shared wait), with CloudFormation limited to ``--aws-speed-rate`` requests per
        second in the account-region: read requests per poll (ListStacks of the stacks in progress; AWS pages a
        listing at 1 MB, so the bytes say how many pages AWS would answer with), the reads of finished stacks,
        throttled requests and failed waits; beside it, what one listing of the whole region (DescribeStacks, the
        watcher's previous poll) costs."""
        import threading

        import boto3
        import botocore.config

        from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory
        from ansible_collections.convox.rack.plugins.module_utils.aws._stack import Stacks
        from ansible_collections.convox.rack.plugins.module_utils.fleet._fleet import RegionWatcher

        n, m = self.args.watch_stacks, self.args.watch_moving
        localaws.reset(self.endpoint)
        localaws.set_timing(self.endpoint, 0)
        self.faults()
        localaws.set_quotas(self.endpoint, "us-east-1", stacks=n + 100)
        body = json.dumps({
            "Parameters": {k: {"Type": "String", "Default": "x" * 20} for k in ("Version", "Private", "Type", "Count")},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {k: {"Value": "y" * 40} for k in ("Endpoint", "Cluster", "Vpc", "Subnets", "Balancer")}})
        tags = [{"Key": k, "Value": v} for k, v in (("System", "convox"), ("Type", "rack"), ("Org", "acme"))]
        names = ["watch-%04d" % i for i in range(n)]
        t0 = time.monotonic()

        def create(name):
            self.client("cloudformation").create_stack(StackName=name, TemplateBody=body, Tags=tags)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, names))
        setup = time.monotonic() - t0
        moving = names[::max(n // m, 1)][:m]
        for name in moving:
            localaws.post(self.endpoint, "/_localaws/stack", {"stack_name": name, "status": "UPDATE_IN_PROGRESS"})
        localaws.set_timing(self.endpoint, 0, rate=self.args.aws_speed_rate)
        sizes = collections.Counter()
        requests = collections.Counter()

        def count(http_response=None, model=None, **kwargs):
            requests[model.name] += 1
            sizes[model.name] += len(getattr(http_response, "content", b"") or b"")

        cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=self.endpoint,
                           aws_access_key_id="bench-key", aws_secret_access_key="bench-secret",
                           config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 6}))
        cfn.meta.events.register("after-call.cloudformation", count)
        factory = ClientFactory(lambda service: cfn, "us-east-1")
        watcher = RegionWatcher(Stacks(factory), "us-east-1", interval=30.0)
        results, failures = {}, []

        def wait(name):
            try:
                results[name] = watcher.wait(name, 300).status
            except Exception as exc:  # pylint: disable=broad-except  # counted
                failures.append("%s: %s" % (name, exc))

        threads = [threading.Thread(target=wait, args=(name,)) for name in moving]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for name in moving:                        # one finishes every 20/m seconds
            time.sleep(20.0 / len(moving))
            localaws.post(self.endpoint, "/_localaws/stack", {"stack_name": name, "status": "UPDATE_COMPLETE"})
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        polls = max(watcher.polls, 1)
        during = dict(requests)
        listing_bytes = sizes["ListStacks"] / float(max(requests["ListStacks"], 1))
        throttled = sum(localaws.transitions(self.endpoint).get("throttled", {}).values())
        localaws.set_timing(self.endpoint, 0)
        sizes.clear()
        Stacks(factory).live()                     # the whole region, as the watcher's previous poll read it
        mb = 1024 * 1024.0
        return {"stacks": n, "moving": m, "setup_seconds": round(setup, 1), "wall": round(wall, 1),
                "polls": polls, "list_requests": during.get("ListStacks", 0),
                "reads_per_poll": during.get("ListStacks", 0) / float(polls),
                "finished_reads": during.get("DescribeStacks", 0), "finished": len(results),
                "listing_kb": round(listing_bytes / 1024.0, 1),
                "listing_pages_at_1mb": max(int(-(-listing_bytes // mb)), 1),
                "whole_region_kb": round(sizes["DescribeStacks"] / 1024.0, 1),
                "whole_region_pages_at_1mb": max(int(-(-sizes["DescribeStacks"] // mb)), 1),
                "throttled": throttled, "failed": len(failures), "failures": failures[:5],
                "rate": self.args.aws_speed_rate}

    @staticmethod
    def delays(log, kind):
        """Where a fleet run's time beyond the operations themselves went, from the endpoint's status log:
        ``start_spread``, per wave of racks starting together (the first step of a batch, or the install), the
        seconds from its first rack's start to its last's; ``next_step``, the seconds from a rack's step
        completing to its next step starting (the poll that sees it end, the rack's calls, the endpoint's
        turn); ``between_batches``, from the last step of a batch completing to the next batch's first start
        (the poll that sees it end, the batch's per-host results, the next batch's start).  Medians and
        maxima; ``endpoint_busy`` (from the endpoint's own accounting) says how much of the run the endpoint
        spent serving CloudFormation, one request at a time."""
        rows = log.get("transitions") or []
        started, ended = kind + "_IN_PROGRESS", kind + "_COMPLETE"
        by_stack = collections.defaultdict(list)
        for when, region, name, status, dummy in rows:
            by_stack[(region, name)].append((when, status))
        firsts, gaps = [], []
        for events in by_stack.values():
            events.sort()
            starts = [t for t, st in events if st == started]
            ends = [t for t, st in events if st == ended]
            if starts:
                firsts.append(starts[0])
            for begin in starts[1:]:
                before = [t for t in ends if t <= begin]
                if before:
                    gaps.append(begin - before[-1])
        firsts.sort()
        all_ends = sorted(t for events in by_stack.values() for t, st in events if st == ended)
        waves, wave, between = [], [], []
        for t in firsts:                      # a wave: starts less than 10 s after the previous one
            if wave and t - wave[-1] > 10:
                waves.append(wave[-1] - wave[0])
                wave = []
            if not wave:                      # a new wave (batch): how long after the previous batch ended
                before = [e for e in all_ends if e <= t]
                if before:
                    between.append(t - before[-1])
            wave.append(t)
        if wave:
            waves.append(wave[-1] - wave[0])
        load = log.get("load") or {}
        served = sum(a["served_seconds"] for a in (load.get("actions") or {}).values())

        def stats(xs):
            return {"median": round(statistics.median(xs), 2), "max": round(max(xs), 2), "n": len(xs)} if xs else None
        return {"start_spread": stats(waves), "next_step": stats(gaps), "between_batches": stats(between),
                "endpoint_busy": round(served / load["wall_seconds"], 2) if load.get("wall_seconds") else None}

    def check_ratio(self, n):
        """update.yml --check against site.yml --check at n racks (instant mode), same run, both planning the
        same move (to latest: a change set per rack), so the ratio is update.yml's own cost (canary, batches)."""
        inventory = self.setup(n)
        site = os.path.join(REPO, "playbooks", "site.yml")
        update = os.path.join(REPO, "playbooks", "update.yml")
        pairs = {"site": [], "update": []}
        to_latest = ("-e", "rack_version=latest")
        for dummy in range(self.args.runs):
            pairs["site"].append(self.playbook(inventory, site, "--check", *to_latest))
            pairs["update"].append(self.playbook(inventory, update, "--check", *to_latest))
        med = {k: statistics.median(v) for k, v in pairs.items()}
        return {"racks": n, "site_check": med["site"], "update_check": med["update"], "ratio": med["update"] / med["site"],
                "runs": pairs}

    def run(self):
        os.makedirs(WORK, exist_ok=True)
        self.endpoint = localaws.start(STATE)
        if self.args.only_watch:
            try:
                results = {"when": datetime.datetime.now().isoformat(timespec="seconds"), "watch": self.watch_scale()}
            finally:
                localaws.stop(STATE)
            self.report_speed(results)
            return results
        if self.args.only_aws_speed:
            results = {"when": datetime.datetime.now().isoformat(timespec="seconds"), "forks": 5, "cpus": os.cpu_count()}
            try:
                results["aws_speed"] = self.aws_speed()
                if self.args.check_racks:
                    results["check_ratio"] = self.check_ratio(self.args.check_racks)
            finally:
                localaws.stop(STATE)
            self.report_speed(results)
            return results
        results = {"when": datetime.datetime.now().isoformat(timespec="seconds"), "racks": self.args.racks,
                   "runs": self.args.runs, "forks": self.args.forks, "cpus": os.cpu_count()}
        try:
            n = self.args.racks
            inventory = self.setup(n)
            site = os.path.join(REPO, "playbooks", "site.yml")
            update = os.path.join(REPO, "playbooks", "update.yml")
            results["noop"] = self.noop_table(inventory, n)
            results["noop_calls"] = self.call_table(inventory, n, site)
            results["peer_calls"] = self.call_table(inventory, n, os.path.join(HERE, "peer.yml"))
            t0 = time.monotonic()
            to_latest = ("-e", "rack_version=latest")
            results["update_check_calls"] = self.call_table(inventory, n, update, "--check", *to_latest)
            results["update_check_wall"] = time.monotonic() - t0
            if not self.args.skip_latency:
                self.faults(latency=self.args.latency)
                results["latency"] = {"seconds": self.args.latency, "noop": self.noop_table(inventory, n)}
                self.faults()
            t0 = time.monotonic()
            results["update_calls"] = self.call_table(inventory, n, update, *to_latest)
            results["update_wall"] = time.monotonic() - t0
            results["update_calls"]["per_rack_per_step"] = results["update_calls"]["per_rack"] / 2.0
            if self.args.watch_stacks:
                results["watch"] = self.watch_scale()
            if not self.args.skip_aws_speed:
                results["aws_speed"] = self.aws_speed()
                results["check_ratio"] = self.check_ratio(self.args.check_racks)
            if not self.args.skip_scale:
                results["scale"] = []
                for size in [int(x) for x in self.args.scale.split(",")]:
                    inv = self.setup(size)
                    results["scale"].append({
                        "racks": size, "site": self.median(inv, site),
                        "ping": self.median(inv, os.path.join(HERE, "floor_ping.yml"))})
        finally:
            localaws.stop(STATE)
        self.report(results)
        return results

    # -- output ------------------------------------------------------------------------------------
    def report_speed(self, r, path=None):
        if path is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
            path = os.path.join(HERE, "results", "%s-aws-speed.json" % stamp)
            with open(path, "w") as f:
                json.dump(r, f, indent=2, sort_keys=True)
        watch = r.get("watch")
        if watch:
            print("\nwaiting at region scale: %d stacks in one account-region, %d moving (one finishing every %.1f s), "
                  "%g CloudFormation requests/s" % (watch["stacks"], watch["moving"], 20.0 / watch["moving"],
                                                    watch["rate"]))
            print("  polls %d, read requests per poll %.2f (ListStacks of the stacks in progress: %.1f KB, %d page(s) "
                  "at AWS's 1 MB)" % (watch["polls"], watch["reads_per_poll"], watch["listing_kb"],
                                      watch["listing_pages_at_1mb"]))
            print("  finished stacks read once each: %d reads for %d stacks; throttled %d; failed waits %d"
                  % (watch["finished_reads"], watch["finished"], watch["throttled"], watch["failed"]))
            print("  the whole region listed instead (DescribeStacks, the previous poll): %.1f KB, %d page(s) at 1 MB"
                  % (watch["whole_region_kb"], watch["whole_region_pages_at_1mb"]))
            print("targets: at most 2 read requests per poll, 0 failed waits under the limit")
        rows = r.get("aws_speed") or []
        if rows:
            print("\nfleet at AWS speed: every operation %ds, forks 5, 3 orgs x 3 regions x %s, update 3 steps ahead"
                  % (rows[0]["seconds"], "%d accounts (a role each)" % rows[0]["accounts"]
                     if rows[0].get("accounts", 1) > 1 else "1 account"))
            print("%-6s %8s %10s %10s %8s %10s %7s %8s %10s %s" % ("racks", "limit", "install s", "update s",
                                                                   "batches", "ideal s", "ratio", "failed",
                                                                   "reads/min", "throttled"))
            for row in rows:
                print("%-6d %8s %10.1f %10.1f %8d %10.0f %6.2fx %8d %10.1f %s" % (
                    row["racks"], "%g/s" % row["rate"] if row["rate"] else "none", row["install"], row["update"],
                    row["batches"], row["ideal"], row["ratio"], row["failed"], row["reads_per_region_per_minute"],
                    sum(row["throttled"].values())))
            print("targets: update <= 1.2x the policy ideal and install <= T + 30 s (no limit); 0 failures with the "
                  "limit on; one listing per region per poll (reads/min: the busiest region's)")
            print("where the time beyond the operations went (median / max seconds; endpoint busy: the share of the "
                  "run the endpoint spent serving CloudFormation, one request at a time)")
            for row in rows:
                for phase in ("install", "update"):
                    d = row.get(phase + "_delays")
                    if not d:
                        continue
                    spread, step = d.get("start_spread") or {}, d.get("next_step") or {}
                    between = d.get("between_batches") or {}
                    print("  %d racks %-7s start spread of a wave %s, next step after the previous %s, between batches "
                          "%s, endpoint busy %s"
                          % (row["racks"], phase, "%s / %s" % (spread.get("median"), spread.get("max")),
                             "%s / %s" % (step.get("median"), step.get("max")) if step else "-",
                             "%s / %s" % (between.get("median"), between.get("max")) if between else "-",
                             "%d%%" % (100 * d["endpoint_busy"]) if d.get("endpoint_busy") is not None else "-"))
                load = (row.get("update_endpoint") or {}).get("actions") or {}
                top = sorted(load.items(), key=lambda kv: -kv[1]["served_seconds"])[:4]
                print("  %d racks update, endpoint seconds by action: %s" % (row["racks"], ", ".join(
                    "%s %d x %.3f s = %.0f s" % (k, v["requests"], v["served_seconds"] / max(v["requests"], 1),
                                                 v["served_seconds"]) for k, v in top)))
            self.speed_chart([row for row in rows if not row["rate"]] or rows, path[:-5] + ".png")
        c = r.get("check_ratio")
        if c:
            print("update.yml --check / site.yml --check at %d racks: %.2fs / %.2fs = %.2fx (target <= 2.5x)"
                  % (c["racks"], c["update_check"], c["site_check"], c["ratio"]))
        print("results: %s" % os.path.relpath(path, REPO))

    def speed_chart(self, rows, path):
        xs = [row["racks"] for row in rows]
        plot(path, xs, [("update.yml, 3 steps (convox.rack)", [row["update"] for row in rows], {"marker": "o"}),
                        ("policy ideal (batches x 3 x T)", [row["ideal"] for row in rows],
                         {"marker": "s", "linestyle": "--"}),
                        ("target (1.2x ideal)", [row["ideal"] * 1.2 for row in rows], {"linestyle": ":"})],
             "makespan (s)", "Fleet update at AWS speed (T = %d s per operation)" % rows[0]["seconds"], zero=True)

    def report(self, r):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        path = os.path.join(HERE, "results", "%s.json" % stamp)
        with open(path, "w") as f:
            json.dump(r, f, indent=2, sort_keys=True)
        noop = r["noop"]
        with_app = (r["racks"] + 2) // 3
        print("\n%d racks (%d with an app), forks %d, %d runs, medians" % (r["racks"], with_app, r["forks"], r["runs"]))
        print("%-48s %8s %s" % ("no-op, one task per rack", "wall s", "ratio"))
        for key, label in (("debug", "ansible.builtin.debug (dispatch floor)"),
                           ("ping", "ansible.builtin.ping (module floor)"),
                           ("site", "convox.rack site.yml"),
                           ("peer", "amazon.aws.cloudformation (peer)"),
                           ("per_host", "convox.rack.rack task per host"),
                           ("aws_module", "amazon.aws.cloudformation_info (any AWS module)")):
            print("%-48s %8.2f" % (label, noop["wall"][key]))
        print("one rack: debug %.2fs, site %.2fs; each further rack: debug %.1f ms, site %.1f ms"
              % (noop["one_rack"]["debug"], noop["one_rack"]["site"], noop["per_rack_ms"]["debug"],
                 noop["per_rack_ms"]["site"]))
        print("site / module floor   %.2fx   (target <= 0.6x)" % noop["site_vs_module_floor"])
        print("site / dispatch floor %.2fx   (target <= 2.5x)" % noop["site_vs_dispatch_floor"])
        print("peer / site           %.2fx   (target >= 3.5x)" % noop["peer_vs_site"])
        if "per_host_vs_aws_module" in noop:
            print("rack task / AWS module %.2fx  (a module of the collection costs what any AWS module costs)"
                  % noop["per_host_vs_aws_module"])
        if "latency" in r:
            lat = r["latency"]["noop"]
            print("with %.0f ms per AWS call: site %.2fs, peer %.2fs, peer / site %.2fx (target >= 5x)"
                  % (r["latency"]["seconds"] * 1000, lat["wall"]["site"], lat["wall"]["peer"], lat["peer_vs_site"]))
        c = r["noop_calls"]
        print("no-op site API calls: %.2f per rack (%.2f CloudFormation), channel reads %d, mutating %d"
              % (c["per_rack"], c["cloudformation_per_rack"], c["channel_reads"], c["mutating"]))
        print("  by action: %s" % ", ".join("%s=%d" % kv for kv in c["by_action"].items()))
        p = r["peer_calls"]
        print("peer API calls: %.2f per rack (%s)" % (p["per_rack"], ", ".join("%s=%d" % kv for kv in p["by_action"].items())))
        print("update.yml --check: %.2fs, mutating calls %d" % (r["update_check_wall"], r["update_check_calls"]["mutating"]))
        u = r["update_calls"]
        print("update.yml (2 steps): %.2fs, %.2f API calls per rack per step" % (r["update_wall"], u["per_rack_per_step"]))
        if r.get("aws_speed") or r.get("check_ratio"):
            self.report_speed(r, path)
        if r.get("scale"):
            print("%-8s %10s %10s" % ("racks", "site s", "ping s"))
            for row in r["scale"]:
                print("%-8d %10.2f %10.2f" % (row["racks"], row["site"], row["ping"]))
            self.chart(r["scale"], path[:-5] + ".png")
        print("results: %s" % os.path.relpath(path, REPO))

    def chart(self, rows, path):
        xs = [row["racks"] for row in rows]
        plot(path, xs, [("site.yml no-op (convox.rack)", [row["site"] for row in rows], {"marker": "o"}),
                        ("ansible.builtin.ping (module floor)", [row["ping"] for row in rows], {"marker": "s"})],
             "wall time (s)", "No-op fleet converge vs fleet size")


def plot(path, xs, series, ylabel, title, zero=False):
    """A PNG line chart of ``series`` (label, ys, style) against the fleet size ``xs``."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart)")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys, style in series:
        ax.plot(xs, ys, label=label, **style)
    ax.set_xlabel("racks")
    ax.set_ylabel(ylabel)
    if zero:
        ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("chart: %s" % os.path.relpath(path, REPO))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--racks", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--scale", default="25,50,100,200")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--aws-speed-sizes", default="50,200")
    parser.add_argument("--aws-speed-seconds", type=int, default=20)
    parser.add_argument("--aws-speed-rate", type=float, default=5.0)
    parser.add_argument("--aws-speed-accounts", type=int, default=3,
                        help="racks spread over this many accounts, each reached through its role (1: one account)")
    parser.add_argument("--watch-stacks", type=int, default=2000, help="0: skip the poll-cost scenario")
    parser.add_argument("--watch-moving", type=int, default=50)
    parser.add_argument("--only-watch", action="store_true")
    parser.add_argument("--check-racks", type=int, default=400, help="0: skip the --check ratio")
    parser.add_argument("--skip-aws-speed", action="store_true")
    parser.add_argument("--only-aws-speed", action="store_true")
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
