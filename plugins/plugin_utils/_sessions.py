# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sessions and credentials of the fleet engine (``rack_batch``, in the controller): one boto3 session per profile
for the life of the task, AWS options resolved by amazon.aws's plugin-side API (``plugin_utils.botocore``) as
AnsibleAWSModule resolves a module's, a role assumed per account (``module_utils/aws/_accounts.py``), and the task's
``environment:`` applied while the batch runs."""

from __future__ import annotations

import os
from typing import Any, Mapping, NoReturn

from ansible_collections.amazon.aws.plugins.plugin_utils.base import AWSPluginBase
from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info

from ansible_collections.convox.rack.plugins.module_utils.aws._accounts import role_factory
from ansible_collections.convox.rack.plugins.module_utils.aws._common import ClientFactory, client_kwargs, connection_factory
from ansible_collections.convox.rack.plugins.module_utils.model._errors import ConvoxError


class AWSOptions(AWSPluginBase):
    """Validated AWS options as amazon.aws's plugin-side API reads them (``get_options``); a contradiction in them
    (``fail_aws``) is raised as the collection's error."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def get_options(self) -> Mapping[str, Any]:
        return self.params

    def _do_fail(self, message: str) -> NoReturn:
        raise ConvoxError(message)


def controller_client_factory(params: Mapping[str, Any]) -> ClientFactory:
    """A ClientFactory from validated AWS options, resolved by amazon.aws exactly as
    AnsibleAWSModule resolves them (credentials, profile, region, endpoint, CA bundle, aws_config)."""
    region, endpoint, connect = get_aws_connection_info(AWSOptions(params))
    factory = connection_factory(region, endpoint, connect)
    if not params.get("assume_role_arn"):
        return factory
    # the role's credentials are shared by every task of this process that assumes it from the same source
    source = "%s|%s|%s" % (connect.get("profile_name") or "", connect.get("aws_access_key_id") or "", endpoint or "")
    return role_factory(factory, params, endpoint, client_kwargs(connect), source_key=source)


class TemporaryEnviron:
    """The task's ``environment:`` applied to this process (Ansible's worker for the task) while the batch runs, so
    the options' AWS_* fallbacks and the SDK see what a module would see."""

    def __init__(self, env: Mapping[str, Any] | None) -> None:
        self.env = {str(k): str(v) for k, v in (env or {}).items()}
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> TemporaryEnviron:
        for key, value in self.env.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
