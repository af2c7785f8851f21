# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every part of the local endpoint, applied in order (several wrap the same moto attribute: the test hooks and
real-duration timing act after moto's own update, the CloudFormation rules before it), and reset between tests."""

from __future__ import annotations

from . import cfn, cloudwatch, drift, ec2, hooks, iam, limits, params, s3, speed, sts, timing
from .patching import Patches, docs, rules

# innermost first: hooks and timing wrap moto's UpdateStack, cfn's state check wraps them; the parameters are
# validated before the IAM model looks at the resources (outermost)
PARTS = (hooks, timing, drift, speed, cfn, ec2, s3, cloudwatch, iam, params, limits, sts)


def apply():
    """Apply every part (once per process); a moto that lacks an attribute a part patches fails here, naming it."""
    missing = [m for part in PARTS for m in part.PATCHES.missing()]
    if missing:
        import moto

        from .patching import MotoChanged
        version = getattr(moto, "__version__", "?")
        raise MotoChanged("moto %s lacks what the local endpoint patches: %s" % (version, "; ".join(missing)))
    for part in PARTS:
        part.apply()


def reset():
    """Forget every part's state (between tests; moto's own reset clears its backends)."""
    for part in PARTS:
        part.reset()


__all__ = ["apply", "reset", "rules", "docs", "Patches", "PARTS"]
