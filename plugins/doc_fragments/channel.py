# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Matches convox.rack.plugins.module_utils.model._specs.channel_argument_spec()
    DOCUMENTATION = r"""
options:
  channel:
    description:
      - The release channel, as a URL.
      - V(s3://bucket[/prefix]) reads (and, for publishing, writes) an S3 bucket with the same AWS
        credentials, region and endpoint as the rest of the task.
      - V(https://host/path) reads a channel served over HTTPS (read-only).
      - V(file:///absolute/path) or a bare local path reads a directory on the host running the task.
      - 'Layout under the channel root: C(versions.json) (a JSON array of
        C({"version", "description", "published", "required"}) entries in release order),
        C(<version>/rack.json) and C(<version>/app.json).'
    type: str
"""
