# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch alarms as AWS documents them, where moto differs (the fleet's gates read them and must fail closed):

* DescribeAlarms applies every filter it is given together (moto ignored ``StateValue`` when ``AlarmNames`` was
  given, so an alarm in OK read as firing), and returns only the alarm types ``AlarmTypes`` asks for - metric alarms
  alone when it is omitted, as on AWS, so a caller that forgets composite alarms misses them here too;
* PutCompositeAlarm (moto lacks it) makes a composite alarm whose state follows its ``AlarmRule`` (``ALARM("x")``,
  ``OK("x")``, ``INSUFFICIENT_DATA("x")``, ``TRUE``, ``FALSE``, ``AND``, ``OR``, ``NOT``, parentheses; an alarm named
  by name or ARN), evaluated whenever it is read."""

from __future__ import annotations

import re
from typing import Any

from .patching import Patches

PATCHES = Patches("cloudwatch", doc="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html")
_TOKEN = re.compile(r'\s*(?:(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"([^"]+)"\s*\)|(AND|OR|NOT|TRUE|FALSE)\b|(\()|(\)))')


def _tokens(rule: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    rule = rule.strip()
    while pos < len(rule):
        match = _TOKEN.match(rule, pos)
        if match is None:
            raise ValueError("AlarmRule %r cannot be parsed at %d" % (rule, pos))
        if match.group(1):
            out.append(("STATE", "%s:%s" % (match.group(1), match.group(2))))
        elif match.group(3):
            out.append((match.group(3), ""))
        else:
            out.append(("(" if match.group(4) else ")", ""))
        pos = match.end()
        while pos < len(rule) and rule[pos].isspace():
            pos += 1
    return out


def evaluate(rule: str, state_of_name: Any) -> bool:
    """Whether ``rule`` holds, ``state_of_name(name_or_arn)`` giving each alarm's state."""
    tokens = _tokens(rule)
    pos = 0

    def expr() -> bool:
        nonlocal pos
        value = term()
        while pos < len(tokens) and tokens[pos][0] == "OR":
            pos += 1
            right = term()
            value = value or right
        return value

    def term() -> bool:
        nonlocal pos
        value = factor()
        while pos < len(tokens) and tokens[pos][0] == "AND":
            pos += 1
            right = factor()
            value = value and right
        return value

    def factor() -> bool:
        nonlocal pos
        kind, value = tokens[pos]
        pos += 1
        if kind == "NOT":
            return not factor()
        if kind == "(":
            inner = expr()
            pos += 1          # ")"
            return inner
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        state, name = value.split(":", 1)
        return state_of_name(name) == state
    return expr()


def state_of(backend: Any, alarm: Any, depth: int = 0) -> str:
    """An alarm's state now: a composite alarm's is its rule's, evaluated (and recorded when it changed)."""
    rule = getattr(alarm, "rule", None)
    if not rule or depth > 10:
        return str(alarm.state_value)

    def child(name_or_arn: str) -> str:
        name = name_or_arn.split(":alarm:", 1)[1] if ":alarm:" in name_or_arn else name_or_arn
        found = backend.alarms.get(name)
        return state_of(backend, found, depth + 1) if found is not None else "INSUFFICIENT_DATA"
    now = "ALARM" if evaluate(rule, child) else "OK"
    if now != alarm.state_value:
        alarm.update_state("Composite rule %s evaluated" % rule, "{}", now)
    return now


@PATCHES.wrap("moto.cloudwatch.responses:CloudWatchResponse.put_composite_alarm",
              "PutCompositeAlarm makes a composite alarm whose state follows its AlarmRule", adds=True)
def _put_composite_alarm(dummy):
    def put_composite_alarm(self):
        from moto.core.responses import EmptyResult
        rule = self._get_param("AlarmRule")
        try:
            _tokens(rule or "")
        except ValueError as exc:
            from moto.cloudwatch.exceptions import ValidationError
            raise ValidationError(str(exc)) from None
        self.cloudwatch_backend.put_metric_alarm(
            name=self._get_param("AlarmName"), namespace=None, metric_name=None, comparison_operator=None,
            evaluation_periods=None, period=None, threshold=None, statistic=None,
            description=self._get_param("AlarmDescription"), dimensions=[],
            alarm_actions=self._get_param("AlarmActions", []), ok_actions=self._get_param("OKActions", []),
            insufficient_data_actions=self._get_param("InsufficientDataActions", []),
            actions_enabled=self._get_bool_param("ActionsEnabled"), rule=rule, tags=self._get_param("Tags", []))
        return EmptyResult()
    return put_composite_alarm


@PATCHES.wrap("moto.cloudwatch.responses:CloudWatchResponse.describe_alarms",
              "DescribeAlarms applies AlarmNames, AlarmNamePrefix, StateValue and ActionPrefix together, and returns "
              "the AlarmTypes asked for (MetricAlarm alone when omitted); a composite alarm's state is its rule's")
def _describe_alarms(dummy):
    def describe_alarms(self):
        from moto.core.responses import ActionResult
        backend = self.cloudwatch_backend
        names = self._get_param("AlarmNames", [])
        prefix = self._get_param("AlarmNamePrefix")
        state = self._get_param("StateValue")
        action_prefix = self._get_param("ActionPrefix")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
        alarms = []
        for alarm in list(backend.alarms.values()):
            current = state_of(backend, alarm)
            if names and alarm.name not in names:
                continue
            if prefix and not alarm.name.startswith(prefix):
                continue
            if state and current != state:
                continue
            if action_prefix and not any(str(a).startswith(action_prefix) for a in alarm.alarm_actions or []):
                continue
            alarms.append(alarm)
        metric = [a for a in alarms if not a.rule] if "MetricAlarm" in types else []
        composite = [a for a in alarms if a.rule] if "CompositeAlarm" in types else []
        return ActionResult({"MetricAlarms": metric, "CompositeAlarms": composite})
    return describe_alarms


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests (moto's reset clears the alarms)."""
