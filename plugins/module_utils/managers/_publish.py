# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release publishing (rack_release); reading a channel's releases and a rack's path is ``_release_info.py``."""

from __future__ import annotations

import datetime
from typing import Any, Callable, Mapping

from ansible_collections.convox.rack.plugins.module_utils.aws._channel import MAX_TEMPLATE_BYTES, TEMPLATE_KINDS, open_channel
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, wrap_aws
from ansible_collections.convox.rack.plugins.module_utils.aws._templates import canonical, load_template_file
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError
from ansible_collections.convox.rack.plugins.module_utils.model._releases import Release, Releases, validate_version_name
from ansible_collections.convox.rack.plugins.module_utils.model._specs import rack_release_spec, with_defaults


class ReleaseManager:
    """Publish (``present``) or withdraw (``absent``) one release in a channel."""

    def __init__(self, params: Mapping[str, Any], check_mode: bool = False, client_factory: ClientFactory | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.params = params = with_defaults(rack_release_spec(), params)
        self.check_mode = check_mode
        self.channel = open_channel(params["channel"], client_factory)
        self.version = params["version"]
        self.warn = warn or (lambda msg: None)
        validate_version_name(self.version)

    def _entry(self) -> Release:
        return Release(self.version, self.params["description"] or "", bool(self.params["published"]),
                       bool(self.params["required"]))

    @wrap_aws("publishing the release")
    def present(self) -> dict[str, Any]:
        src = self.params["src"]
        if not src:
            raise ConvoxError("src is required to publish a release.")
        bodies = {kind: canonical(load_template_file(src, kind)) for kind in TEMPLATE_KINDS}
        if not self.channel.writable:
            raise self.channel.read_only()
        entry = self._entry()

        before_releases, _token = self.channel.read_releases_or_empty()
        before_entry = before_releases.get(self.version)
        changed_templates: list[str] = []
        for kind in TEMPLATE_KINDS:
            key = "%s/%s.json" % (self.version, kind)
            try:
                current: bytes | None = self.channel.get(key, MAX_TEMPLATE_BYTES)[0]
            except ConvoxError:          # too large to be a template: certainly not this one
                current = None
            if current != bodies[kind]:
                changed_templates.append(kind)
        if changed_templates and before_entry is not None and before_entry.published and not self.params["force"]:
            raise ConvoxError("release %s is already published in channel %s with other %s template%s; a published "
                              "release is immutable (racks on it are defined by it): publish a new version, or set "
                              "force: true to replace it." % (self.version, self.channel.url,
                                                              " and ".join(changed_templates),
                                                              "s" if len(changed_templates) > 1 else ""))
        if before_entry is not None and before_entry.published and "rack" in changed_templates:
            # a forced republish leaves a trace: racks on this version may run the template it replaces
            entry.republished = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif before_entry is not None:
            entry.republished = before_entry.republished
        entry_changed = before_entry is None or before_entry != entry
        changed = bool(changed_templates) or entry_changed
        if changed and not self.check_mode:
            for kind in changed_templates:
                self.channel.put("%s/%s.json" % (self.version, kind), bodies[kind])
            if entry_changed:
                after_releases = self.channel.update_releases(lambda rels: rels.upsert(entry))[1]
            else:
                after_releases = before_releases
        else:
            after_releases = before_releases.upsert(entry)[0]
        return self._result(changed, before_entry, entry, after_releases, changed_templates)

    @wrap_aws("withdrawing the release")
    def absent(self) -> dict[str, Any]:
        before_releases = self.channel.read_releases_or_empty()[0]
        before_entry = before_releases.get(self.version)
        present_templates = [kind for kind in TEMPLATE_KINDS
                             if self.channel.get("%s/%s.json" % (self.version, kind))[0] is not None]
        changed = before_entry is not None or bool(present_templates)
        after_releases = before_releases.remove(self.version)[0]
        if changed and not self.check_mode:
            after_releases = self.channel.update_releases(lambda rels: rels.remove(self.version))[1]
            for kind in present_templates:
                self.channel.delete("%s/%s.json" % (self.version, kind))
        return self._result(changed, before_entry, None, after_releases, present_templates)

    def _result(self, changed: bool, before: Release | None, after: Release | None, releases: Releases,
                templates: list[str]) -> dict[str, Any]:
        return {
            "changed": changed,
            "release": after.to_dict() if after else None,
            "releases": releases.to_list(),
            "templates_changed": templates,
            "diff": {
                "before": {"release": before.to_dict() if before else None},
                "after": dict(release=after.to_dict() if after else None,
                              **({"templates_changed": templates} if templates else {})),
            },
        }
