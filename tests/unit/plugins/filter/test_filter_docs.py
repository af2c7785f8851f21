# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter has its own documentation (``ansible-doc -t filter convox.rack.<name>``): a ``<name>.yml``
beside the plugin file, naming it.  A plugin file holding several filters carries no inline
DOCUMENTATION, which ansible-doc would show for each of them."""

from __future__ import annotations

import os

import yaml

from ansible_collections.convox.rack.plugins.filter import fleet, fleet_report

FILTER_DIR = os.path.dirname(fleet.__file__)


def test_each_filter_has_its_own_documentation():
    for plugin in (fleet, fleet_report):
        names = sorted(plugin.FilterModule().filters())
        assert not hasattr(plugin, "DOCUMENTATION"), "%s documents one filter for all of %s" % (plugin.__name__, names)
        for name in names:
            with open(os.path.join(FILTER_DIR, name + ".yml")) as f:
                doc = yaml.safe_load(f)
            assert doc["DOCUMENTATION"]["name"] == name
            assert doc["DOCUMENTATION"]["short_description"] and doc["EXAMPLES"] and doc["RETURN"]["_value"]
