# -*- coding: utf-8 -*-
# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch alarms, read as the gates need them: metric and composite alarms alike (DescribeAlarms returns metric
alarms only unless ``AlarmTypes`` asks for both), by name, with their ARN, type and state.  A gate fails closed: the
callers refuse an alarm that is not found."""

from __future__ import annotations

from typing import Any, Iterable

ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]
TRIGGER_TYPES = {"MetricAlarm": "AWS::CloudWatch::Alarm", "CompositeAlarm": "AWS::CloudWatch::CompositeAlarm"}
MAX_NAMES = 100            # DescribeAlarms' AlarmNames takes at most 100


def alarm_name(name_or_arn: str) -> str:
    """The name of an alarm given by name or ARN (arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>)."""
    return name_or_arn.split(":alarm:", 1)[1] if name_or_arn.startswith("arn:") and ":alarm:" in name_or_arn \
        else name_or_arn


def arn_place(arn: str) -> tuple[str, str] | None:
    """(account, region) of an alarm ARN, or None for a name."""
    parts = arn.split(":")
    if not arn.startswith("arn:") or len(parts) < 7 or parts[2] != "cloudwatch" or parts[5] != "alarm":
        return None
    return parts[4], parts[3]


def read_alarms(cloudwatch: Any, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """{name: {"arn", "type", "state"}} of the alarms named ``names`` that exist (metric and composite)."""
    wanted = sorted({alarm_name(str(n)) for n in names})
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), MAX_NAMES):
        kwargs: dict[str, Any] = {"AlarmNames": wanted[start:start + MAX_NAMES], "AlarmTypes": ALARM_TYPES}
        while True:
            answer = cloudwatch.describe_alarms(**kwargs)
            for kind, key in (("MetricAlarm", "MetricAlarms"), ("CompositeAlarm", "CompositeAlarms")):
                for alarm in answer.get(key) or []:
                    found[alarm["AlarmName"]] = {"arn": alarm.get("AlarmArn", ""), "type": kind,
                                                 "state": alarm.get("StateValue", "")}
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
    return found
