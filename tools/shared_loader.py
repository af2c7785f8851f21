# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One botocore data loader per test process (the unit tests' and the in-process integration tests' conftest).

Every botocore session reads its service models and endpoint data (megabytes of JSON: EC2's model alone is 2 MB)
through its own data loader, which caches what it read for that session only.  moto starts a new default boto3
session for every ``mock_aws`` block and the tests make sessions of their own (an operator's keys, a role's), so
each test parsed the same JSON again: half of an emulator test's time.  With one loader per data path, a process
parses each file once; what a loader returns is the same either way (botocore's files, read-only)."""

from __future__ import annotations

from typing import Any, Callable

_LOADERS: dict[Any, Any] = {}


def share() -> None:
    """Make every botocore session created from now on in this process use one data loader per data path."""
    import botocore.loaders
    import botocore.session

    create: Callable[..., Any] = botocore.loaders.create_loader
    if getattr(botocore.session.create_loader, "shared", False):
        return

    def shared(search_path_string: Any = None) -> Any:
        if search_path_string not in _LOADERS:
            _LOADERS[search_path_string] = create(search_path_string)
        return _LOADERS[search_path_string]

    shared.shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = shared  # type: ignore[attr-defined]
