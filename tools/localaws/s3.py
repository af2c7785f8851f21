# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 as AWS documents it, where moto differs: a conditional PutObject (If-Match / If-None-Match) is checked and
written atomically (moto checked, then wrote, with other writes in between)."""

from __future__ import annotations

import threading

from .patching import Patches

PATCHES = Patches("s3", doc="https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html")


@PATCHES.wrap("moto.s3.responses:S3Response.put_object", "a conditional PutObject is checked and written atomically")
def _put_object(original):
    lock = threading.Lock()

    def put_object(self):
        with lock:
            return original(self)
    return put_object


def apply():
    PATCHES.apply()


def reset():
    """Nothing of this part keeps state between tests."""
