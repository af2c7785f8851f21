# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""python -m localaws start|stop|serve|rules|actions (tools/ on PYTHONPATH)."""

from __future__ import annotations

import argparse

from . import client


def main(argv=None):
    parser = argparse.ArgumentParser(prog="localaws", description="The local AWS endpoint (a moto server).")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start")
    p.add_argument("--state-dir", required=True)
    p = sub.add_parser("stop")
    p.add_argument("--state-dir", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--port", type=int, required=True)
    sub.add_parser("rules")
    sub.add_parser("actions", help="the IAM action each operation is authorized under, where it is not its name")
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        from .server import serve
        serve(args.port)
    elif args.cmd == "start":
        print(client.start(args.state_dir))
    elif args.cmd == "stop":
        client.stop(args.state_dir)
    elif args.cmd == "actions":
        from .actions import table
        for operation, action in table():
            print("%-55s %s" % (operation, action))
    else:
        from .parts import docs, rules
        pages, shown = docs(), set()
        for part, target, rule in rules():
            if part not in shown and pages.get(part):
                print("%-7s (AWS rules of %s)" % (part, pages[part]))
            shown.add(part)
            print("%-7s %-90s %s" % (part, target, rule))


if __name__ == "__main__":
    main()
