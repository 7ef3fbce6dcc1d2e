"""The worker process's `Pipeline`, built lazily, once per process.

The composition root (``aeth worker``) installs a factory before the Celery worker starts; each process builds its
own `Pipeline` the first time a task runs in it. Lazy and per process because a prefork worker forks its children
from the parent, and database engines and broker connections must not cross a ``fork()``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from aetherius.errors import ConfigurationError
from tasks.stages import Pipeline

PipelineFactory = Callable[[], Pipeline]

_lock = threading.Lock()
_factory: PipelineFactory | None = None
_built: tuple[int, Pipeline] | None = None


def install(factory: PipelineFactory) -> None:
    """Say how this process (and its forked children) build their pipeline; drops one already built."""
    global _factory, _built
    with _lock:
        _factory, _built = factory, None


def pipeline() -> Pipeline:
    global _built
    with _lock:
        if _built is not None and _built[0] == os.getpid():
            return _built[1]
        if _factory is None:
            raise ConfigurationError("no pipeline installed in this worker; start workers with `aeth worker`")
        _built = (os.getpid(), _factory())
        return _built[1]
