"""Fakes that speak the real protocols (a Kubernetes API server over HTTP), and small helpers for tests using them.

Fixtures live in ``tests.fakes.fixtures`` (a pytest plugin); import helpers from here, never from that module, so
pytest can still rewrite its asserts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

NOW = datetime(2025, 3, 2, 10, 15, tzinfo=UTC)
"""The tests' wall clock: ``tests.builders`` timestamps are a few minutes before it."""


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
