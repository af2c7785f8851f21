# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Matches convox.rack.plugins.module_utils.model._specs.wait_argument_spec()
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait for each CloudFormation operation to finish before going on.
      - Waiting polls with exponential backoff, not a fixed short interval.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for one operation (and for a stack found in progress) before failing.
    type: int
    default: 3600
"""
