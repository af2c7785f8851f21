# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release information (rack_release_info): the releases of a channel, and the path of a rack (or a version) to a
target through every required release.  Never changes anything."""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from ansible_collections.convox.rack.plugins.module_utils.aws._channel import Channel, open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import parse_template, template_digest
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Releases, summary
from ansible_collections.convox.rack.plugins.module_utils.model._specs import rack_release_info_spec, with_defaults


class RackReaderLike(Protocol):
    """What ReleaseInfo reads of a rack (``_info.RackReader``)."""

    def version(self, name: str) -> str: ...

    def template(self, name: str) -> Mapping[str, Any]: ...

    def drift(self, name: str) -> dict[str, Any]: ...


class ReleaseInfo:
    """Read-only: releases of a channel and the path of a rack (or a version) to a target."""

    def __init__(self, params: Mapping[str, Any], client_factory: ClientFactory | None = None,
                 releases: Releases | None = None, rack_reader: RackReaderLike | None = None) -> None:
        self.params = with_defaults(rack_release_info_spec(), params)
        self.factory = client_factory
        self._releases = releases
        self.rack_reader = rack_reader

    @wrap_aws("reading release information")
    def run(self) -> dict[str, Any]:
        if self.params["rack"] and self.params["current"]:
            raise ConvoxError("rack and current are mutually exclusive.")
        if self.params["drift"] and not self.params["rack"]:
            raise ConvoxError("drift needs rack: drift is detected on a rack's stack.")
        if self.params["rack"] and self.rack_reader is None:
            raise ConvoxError("reading a rack needs AWS access.")
        channel = None
        releases = self._releases
        if releases is None:
            channel = open_channel(self.params["channel"], self.factory)
            releases = channel.read_releases()
        current = self.params["current"]
        reader = self.rack_reader
        if self.params["rack"] and reader is not None:
            current = reader.version(self.params["rack"])
        result = summary(releases, current=current, target=self.params["version"])
        entry = releases.get(current) if current else None
        if reader is not None and self.params["rack"] and entry is not None and entry.republished and not result["path"] \
                and channel is not None:
            self.republished(result, channel, reader, entry.version)
        if self.params["drift"] and reader is not None:
            result["drift"] = reader.drift(self.params["rack"])
        result["changed"] = False
        return result

    def republished(self, result: dict[str, Any], channel: Channel, reader: RackReaderLike, version: str) -> None:
        """A rack on a release that was republished (``rack_release force``) runs the template the channel now
        holds, or it is not up to date: its path is that release again."""
        text, dummy = channel.read_template(version, "rack")
        published = parse_template(text, channel.describe("%s/rack.json" % version))
        if template_digest(published) != template_digest(reader.template(self.params["rack"])):
            result.update(path=[version], next=version, up_to_date=False, republished=True)
