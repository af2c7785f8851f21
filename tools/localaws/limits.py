# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation's quotas on a request, as AWS refuses them (synchronously, ValidationError), where moto takes any
size (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html):

* a ``TemplateBody`` of at most 51,200 bytes; a template read from ``TemplateURL`` of at most 1 MB (1,000,000 bytes);
* at most 500 resources, 200 parameters and 200 outputs in a template;
* at most 5 rollback triggers (``RollbackConfiguration``)."""

from __future__ import annotations

from typing import Any

from .common import template_dict
from .patching import Patches

PATCHES = Patches("limits", doc="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html")
RESPONSE = "moto.cloudformation.responses:CloudFormationResponse"
MAX_BODY = 51200
MAX_URL_TEMPLATE = 1000000
MAX_RESOURCES, MAX_PARAMETERS, MAX_OUTPUTS, MAX_TRIGGERS = 500, 200, 200, 5


def _error(message: str) -> Exception:
    from moto.cloudformation.exceptions import ValidationError
    return ValidationError(message=message)


def check_body(body: str | None) -> None:
    if body is not None and len(body.encode("utf-8")) > MAX_BODY:
        raise _error("1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must "
                     "have length less than or equal to %d" % MAX_BODY)


def check_url_template(text: str) -> None:
    if len(text.encode("utf-8")) > MAX_URL_TEMPLATE:
        raise _error("Template may not exceed %d bytes in size." % MAX_URL_TEMPLATE)


def check_counts(template: Any) -> None:
    data = template_dict(template) or {}
    resources = len(data.get("Resources") or {})
    if resources > MAX_RESOURCES:
        raise _error("Template format error: Number of resources, %d, is greater than maximum allowed, %d"
                     % (resources, MAX_RESOURCES))
    parameters = len(data.get("Parameters") or {})
    if parameters > MAX_PARAMETERS:
        raise _error("Template format error: Parameter count %d is greater than max allowed %d"
                     % (parameters, MAX_PARAMETERS))
    outputs = len(data.get("Outputs") or {})
    if outputs > MAX_OUTPUTS:
        raise _error("Template format error: Output count %d is greater than max allowed %d" % (outputs, MAX_OUTPUTS))


def _checked(original: Any) -> Any:
    def call(self):
        body = self._get_param("TemplateBody")
        check_body(body)
        configuration = self._get_param("RollbackConfiguration") or {}
        listed = configuration.get("RollbackTriggers") if isinstance(configuration, dict) else None
        if listed and len(listed) > MAX_TRIGGERS:
            raise _error("1 validation error detected: Value at 'rollbackConfiguration.rollbackTriggers' failed to "
                         "satisfy constraint: Member must have length less than or equal to %d" % MAX_TRIGGERS)
        url = self._get_param("TemplateURL")
        template = body if body else (self._get_stack_from_s3_url(url) if url else None)
        if url and template is not None:
            check_url_template(template)
        if template is not None:
            check_counts(template)
        return original(self)
    return call


for _operation in ("create_stack", "update_stack", "create_change_set"):
    PATCHES.wrap("%s.%s" % (RESPONSE, _operation),
                 "%s refuses a TemplateBody over 51,200 bytes, a template by URL over 1 MB, more than 500 resources, "
                 "200 parameters or 200 outputs, more than 5 rollback triggers (ValidationError)"
                 % "".join(p.title() for p in _operation.split("_")))(_checked)


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests."""
