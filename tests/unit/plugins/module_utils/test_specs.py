# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One source of defaults: the argument spec.  Managers built from a plain dict read the spec's
defaults (with_defaults); bad input the spec cannot express fails before any call; an app reads
its rack from rack_details without a second DescribeStacks, checked as a fresh read is."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.convox.rack.plugins.module_utils.managers._app import AppManager
from ansible_collections.convox.rack.plugins.module_utils.managers._publish import ReleaseManager
from ansible_collections.convox.rack.plugins.module_utils.managers._rack import RackManager
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._names import validate_app_name, validate_rack_name
from ansible_collections.convox.rack.plugins.module_utils.model._specs import SPECS, rack_spec, with_defaults

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rackfixtures import make_channel  # noqa: E402


@pytest.fixture
def channel(tmp_path):
    return make_channel(str(tmp_path / "channel"))


def counting(factory, calls):
    """The factory, recording each API call made through its clients."""
    class Recorder:
        def __init__(self, client):
            self.client = client

        def __getattr__(self, name):
            attr = getattr(self.client, name)
            if not callable(attr):
                return attr

            def call(*args, **kwargs):
                calls.append(name if not kwargs.get("StackName") else "%s %s" % (name, kwargs["StackName"]))
                return attr(*args, **kwargs)
            return call
    return type(factory)(lambda service: Recorder(factory(service)), factory.region)


def test_with_defaults_fills_what_the_spec_states():
    params = with_defaults(rack_spec(), {"name": "prod", "wait": None, "apps": [{"name": "web1", "tags": {"A": "1"}}]})
    assert params["wait"] is True and params["wait_timeout"] == 3600 and params["purge_tags"] is True
    assert params["state"] == "present" and params["version"] is None and params["parameters"] == {}
    assert params["apps"] == [{"name": "web1", "state": "present", "parameters": {}, "tags": {"A": "1"},
                               "purge_tags": True}]
    again = with_defaults(rack_spec(), {"name": "prod"})
    again["tags"]["X"] = "y"                                   # defaults are copies, never shared
    assert with_defaults(rack_spec(), {"name": "prod"})["tags"] == {}


@pytest.mark.parametrize("module", sorted(SPECS))
def test_every_spec_default_is_filled(module):
    spec = SPECS[module]()
    filled = with_defaults(spec, {})
    assert set(filled) == set(spec)
    assert all(filled[key] == option.get("default") for key, option in spec.items())


def test_managers_read_the_spec_defaults(factory, channel):
    rack = RackManager({"name": "prod", "channel": channel, "apps": [{"name": "web1"}]}, client_factory=factory)
    assert (rack.wait_timeout, rack.wait_enabled, rack.max_steps, rack.user_tags) == (3600, True, 0, {})
    app = rack.apps[0]
    assert (app.params["state"], app.params["purge_tags"], app.wait_timeout, app.params["channel"]) == (
        "present", True, 3600, channel)
    release = ReleaseManager({"channel": channel, "version": "9", "src": "/nowhere"}, client_factory=factory)
    assert release._entry().published is True and release._entry().required is False
    res = RackManager({"name": "prod", "channel": channel}, client_factory=factory).present()
    assert res["changed"] and res["rack"]["version"] == "3" and res["rack"]["termination_protection"] is True


@pytest.mark.parametrize("timeout", [0, -5])
def test_a_wait_timeout_below_one_second_fails_before_any_call(factory, channel, timeout):
    calls = []
    with pytest.raises(ConvoxError) as err:
        RackManager({"name": "prod", "channel": channel, "wait_timeout": timeout},
                    client_factory=counting(factory, calls)).present()
    assert err.value.msg == "wait_timeout must be a positive number of seconds, not %d." % timeout
    assert calls == []


@pytest.mark.parametrize("name, rack, message", [
    ("x", "prod", 'app name "x" is invalid: it must start with a letter'),
    ("web\n", "prod", 'app name "web\\n" is invalid'),
    ("prod", "prod", 'app name "prod" must differ from its rack\'s name.'),
    (7, "prod", 'app name "7" is invalid'),
])
def test_app_names(name, rack, message):
    with pytest.raises(ConvoxError) as err:
        validate_app_name(name, rack)
    assert err.value.msg.startswith(message)


def test_rack_names():
    assert validate_rack_name("prod-1") == "prod-1"
    with pytest.raises(ConvoxError) as err:
        validate_rack_name("prod-1\n")
    assert err.value.msg.startswith('rack name "prod-1\\n" is invalid')


def test_an_app_reads_its_rack_from_rack_details(factory, channel):
    rack = RackManager({"name": "prod", "channel": channel, "version": "1"}, client_factory=factory).present()["rack"]
    calls = []
    app = AppManager({"name": "web1", "rack": "prod", "channel": channel, "rack_details": rack},
                     client_factory=counting(factory, calls))
    res = app.present()
    assert res["changed"] and res["app"]["version"] == "1"
    # the rack is not read again: every stack call is the app's own
    assert "create_stack prod-web1" in calls and "describe_stacks prod-web1" in calls
    assert not [c for c in calls if c.endswith(" prod")], calls


@pytest.mark.parametrize("details, message", [
    ({"name": "other", "status": "CREATE_COMPLETE", "version": "1"},
     "rack_details must be the rack returned by convox.rack.rack or rack_info for rack prod."),
    ({"name": "prod", "status": "CREATE_COMPLETE", "version": "1", "tags": {"System": "convox"}},
     "stack prod is not rack prod: it lacks the tags System=convox, Type=rack, Rack=prod"),
    ({"name": "prod", "status": "UPDATE_ROLLBACK_FAILED", "version": "1"},
     "rack prod is UPDATE_ROLLBACK_FAILED; apps can only be changed on a rack in a healthy *_COMPLETE state."),
    ({"name": "prod", "status": "ROLLBACK_COMPLETE", "version": "1"},
     "rack prod is ROLLBACK_COMPLETE; apps can only be changed"),
    ("prod", "rack_details must be the rack returned by convox.rack.rack or rack_info for rack prod."),
    ({"name": "prod", "status": "CREATE_COMPLETE"}, "stack prod has no Version parameter, so it is not a rack and the release of its apps is unknown."),
])
def test_rack_details_are_checked_like_a_fresh_read(factory, channel, details, message):
    calls = []
    with pytest.raises(ConvoxError) as err:
        AppManager({"name": "web1", "rack": "prod", "channel": channel, "rack_details": details},
                   client_factory=counting(factory, calls)).present()
    assert err.value.msg.startswith(message)
    assert not [c for c in calls if not c.startswith(("describe", "list", "get"))]     # nothing changed
