# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a fleet of racks the Convox CLI installed costs, beside a fleet of the collection's own racks.

    python bench/convox_calls.py [--racks 50] [--forks 10]

Against the local AWS endpoint: --racks racks of each kind, spread over the same orgs and regions, every one already
on its target release, so site.yml has nothing to do. Convox's racks are made as ``convox install`` makes them
(tools/convox_fixtures.py: the installer's parameters and tags, Convox's channel layout, the 222 KB template of
release 20260421192651 by TemplateURL); the collection's from formation/. Prints the API calls of one site.yml run
per rack, by operation, for both fleets, and how many times each fleet's rack template was read from its channel.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

import convox_fixtures as convox  # noqa: E402
import localaws  # noqa: E402
import run as bench  # noqa: E402  (puts tools/ on sys.path)

LATEST = convox.VERSIONS[-1]
CONVOX_CHANNEL = "s3://convox/release"


def per_rack(calls, racks):
    counts = collections.Counter("%s %s" % (call[0], call[1]) for call in calls)
    return {name: n / racks for name, n in counts.items()}


def template_reads(recording):
    """GETs of a rack template (``.../<version>/rack.json``) recorded since the mark."""
    return len([e for e in recording._entries()
                if e.get("method") == "GET" and e.get("url", "").split("?")[0].endswith("/rack.json")])


def measure(b, inventory, racks):
    recording = localaws.Recording(bench.STATE).mark()
    b.playbook(inventory, os.path.join(bench.REPO, "playbooks", "site.yml"))
    return per_rack(recording.calls(), racks), template_reads(recording)


def convox_fleet(b, racks):
    """The same racks (names, orgs, regions), installed by the Convox CLI at its latest release; their inventory."""
    localaws.reset(b.endpoint)
    for region in bench.REGIONS:
        localaws.set_quotas(b.endpoint, region, vpcs=1000, internet_gateways=1000, elastic_ips=3000,
                            nat_gateways_per_az=1000, load_balancers=1000, iam_roles=10000)
        for path in convox.SSM_IMAGES:
            localaws.publish_parameter(b.endpoint, path, "ami-0c55b159cbfafe1f0", region=region)
    convox.put_channel(b.client("s3"))

    def install(r):
        convox.install(b.client("cloudformation", r["region"]), r["name"], LATEST)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(install, racks))
    path = os.path.join(bench.WORK, "convox-%d" % len(racks))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, "group_vars"))
    hosts = {r["name"]: {"rack_org": r["org"], "rack_region": r["region"]} for r in racks}
    with open(os.path.join(path, "hosts.yml"), "w") as f:
        json.dump({"all": {"hosts": hosts, "children": {"canary": {"hosts": {racks[0]["name"]: None}}}}}, f)
    with open(os.path.join(path, "group_vars", "all.yml"), "w") as f:
        json.dump({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                   "rack_channel": CONVOX_CHANNEL, "rack_version": "latest", "rack_parameters": {},
                   "rack_purge_tags": False, "rack_termination_protection": None}, f)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--racks", type=int, default=50)
    parser.add_argument("--forks", type=int, default=10)
    args = parser.parse_args()
    args.runs = 1
    b = bench.Bench(args)
    os.makedirs(bench.STATE, exist_ok=True)
    b.endpoint = localaws.start(bench.STATE)
    try:
        racks = [dict(r, apps=[]) for r in b.racks(args.racks)]     # no apps of ours: Convox's racks have none
        b.racks = lambda n: racks
        ours_inventory = b.setup(args.racks)
        b.playbook(ours_inventory, os.path.join(bench.REPO, "playbooks", "site.yml"))   # tags and protection settle
        ours, ours_reads = measure(b, ours_inventory, args.racks)
        theirs_inventory = convox_fleet(b, racks)
        b.playbook(theirs_inventory, os.path.join(bench.REPO, "playbooks", "site.yml"))  # the Rack tag is added once
        theirs, theirs_reads = measure(b, theirs_inventory, args.racks)
    finally:
        localaws.stop(bench.STATE)
    print("site.yml with nothing to do, %d racks of each kind over %d regions: API calls per rack"
          % (args.racks, len({r["region"] for r in racks})))
    print("%-48s %14s %14s" % ("operation", "convox.rack's", "Convox CLI's"))
    for name in sorted(set(ours) | set(theirs)):
        print("%-48s %14.2f %14.2f" % (name, ours.get(name, 0), theirs.get(name, 0)))
    print("%-48s %14.2f %14.2f" % ("all", sum(ours.values()), sum(theirs.values())))
    print("rack template reads in the run (whole fleet): %d of the collection's, %d of Convox's (%d KB each)"
          % (ours_reads, theirs_reads, len(json.dumps(convox.rack_template(LATEST))) // 1024))


if __name__ == "__main__":
    main()
