"""What a failed task does next: retry later, or park it as a dead letter. Pure, shared by Celery and embedded mode.

Only a `TemporaryError` (a store or API that is down for now, a 429) is retried, with exponential back-off and
jitter, up to ``max_retries`` times. A `PermanentError` (an unknown id, a refused transition, a channel that does
not exist) and a temporary one that outlived its retries become a dead letter: the task's name, its kwargs and
the one-line reason, in the store, for a person to look at. Anything else is a bug and is not caught here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from aetherius.errors import AetheriusError, PermanentError, TemporaryError


@dataclass(frozen=True)
class Retry:
    delay_s: float


@dataclass(frozen=True)
class DeadLetter:
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, retries_done: int, rand: Callable[[], float] = random.random) -> float:
        """Back-off before retry number ``retries_done + 1``: half to all of ``min(cap, base * 2**retries_done)``."""
        ceiling = min(self.cap_s, self.base_s * 2.0**retries_done)
        return ceiling / 2 + rand() * ceiling / 2

    def decide(
        self, error: AetheriusError, retries_done: int, rand: Callable[[], float] = random.random
    ) -> Retry | DeadLetter:
        if isinstance(error, TemporaryError):
            if retries_done < self.max_retries:
                return Retry(self.delay(retries_done, rand))
            return DeadLetter(f"gave up after {retries_done + 1} attempts: {one_line(error)}")
        if isinstance(error, PermanentError):
            return DeadLetter(one_line(error))
        return DeadLetter(f"{type(error).__name__}: {one_line(error)}")


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
