# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios' fleet inventories, built in one place: localhost racks run by the playbook's own Python, on a
channel, with a canary group."""

from __future__ import annotations

import json

# what every rack host of a scenario gets: the controller runs the modules (connection local) with its own Python
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def fleet_vars(channel, version="1", **extra):
    """The group variables of a scenario's fleet: LOCAL, the channel and release, no termination protection."""
    out = dict(LOCAL, rack_channel=channel, rack_version=version, rack_termination_protection=False)
    out.update(extra)       # a scenario's own variables win (rack_version="latest", ...)
    return out


def write_fleet(path, channel, hosts, canary=None, groups=None, version="1", **extra):
    """Write an inventory of ``hosts`` ({name: host variables}, or names) to ``path``: fleet_vars for all, the
    ``canary`` group (the first host unless named), and ``groups`` ({group: [hosts]}); returns its path."""
    if not isinstance(hosts, dict):
        hosts = {name: {} for name in hosts}
    children = {g: {"hosts": dict.fromkeys(members)} for g, members in (groups or {}).items()}
    children.setdefault("canary", {"hosts": {canary or next(iter(hosts)): None}})
    path.write_text(json.dumps({"all": {"vars": fleet_vars(channel, version, **extra), "hosts": hosts,
                                        "children": children}}))
    return str(path)
