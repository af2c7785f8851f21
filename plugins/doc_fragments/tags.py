# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Matches convox.rack.plugins.module_utils.model._specs.tags_argument_spec()
    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Extra stack tags, as a dictionary.
      - The system tags set by the collection (C(System), C(Type), C(Rack), C(Org), C(Name)) cannot be overridden.
    type: dict
    default: {}
  purge_tags:
    description:
      - Remove user tags not listed in O(tags).
    type: bool
    default: true
"""
