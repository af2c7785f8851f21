# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local AWS endpoint the demo, the tests and the benchmarks use: a moto server on 127.0.0.1, with what moto
lacks added as AWS documents it.  It is the suite's test oracle, not a convenience: where the collection depends on
an AWS rule, the endpoint enforces it the way AWS does (refusal, status, error text).

    python -m localaws start --state-dir DIR   # (with tools/ on PYTHONPATH) prints the endpoint
    python -m localaws stop  --state-dir DIR
    python -m localaws rules                   # every patch: the moto attribute and the AWS rule it stands for

Split by concern, each part with its patches (checked against the installed moto before any is applied), its
state and its reset:

* ``cfn``      CloudFormation fidelity (termination protection, ContinueUpdateRollback, refusals by state,
               tags-only updates, UsePreviousValue, parameter listing, change-set replacement, ...)
* ``ec2``      EC2 fidelity (a stack's route tables deleted with it)
* ``sts``      accounts: roles that trust an account, expiring assumed-role credentials
* ``iam``      the IAM model (CloudFormation acts with the caller's permissions; S3 refusals as AWS words them)
* ``s3``       S3 fidelity (atomic conditional writes)
* ``cloudwatch`` alarms (DescribeAlarms' filters together and by type, composite alarms)
* ``limits``   CloudFormation's request quotas (template sizes, resources, parameters, outputs, rollback triggers)
* ``params``   parameter validation (constraints, AWS-specific types) at CreateStack / UpdateStack / CreateChangeSet
* ``timing``   real-duration mode (``set_timing``) and its transition log
* ``drift``    drift detection
* ``speed``    the same answers, faster
* ``hooks``    test hooks (a stack put into any state, updates that fail on a resource)

``server`` is the process (``/_localaws/...`` switches, faults, rate limits); ``client`` controls it from outside.
Importing this package loads neither moto nor the server: the client API is below."""

from __future__ import annotations

from .client import (  # noqa: F401
    PLAN_ACTIONS,
    READ_PREFIXES,
    Recording,
    free_port,
    is_mutating,
    parse_call,
    post,
    publish_parameter,
    query_action,
    reset,
    service_of,
    set_accounts,
    set_quotas,
    set_timing,
    set_zones,
    start,
    stop,
    transitions,
)
