"""Per-channel pacing: at most one message per channel per interval, and a channel Slack told us to wait on waits.

Two pacers with one interface. `MemoryPacer` keeps the schedule in the process, with an injectable clock, and is
what unit tests drive. `RedisPacer` shares it between processes (several Celery workers posting to one channel):
a slot is a key set with ``NX PX interval``; whoever sets it may post, everybody else waits out its TTL. A 429's
``Retry-After`` overwrites the key, so every process backs off together.

The interval also restarts when a send *completes* (`Pacer.hold`): a slot is taken before the HTTP call, and a slow
call followed by a fast one would otherwise arrive at Slack less than an interval apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import redis


class Pacer(Protocol):
    def reserve(self, channel: str) -> float:
        """Take the channel's next slot if it is free now (returns 0), else the seconds until it is."""

    def defer(self, channel: str, seconds: float) -> None:
        """Nobody posts to ``channel`` for ``seconds`` (Slack answered 429 with Retry-After)."""

    def hold(self, channel: str) -> None:
        """A send just completed: the next one waits a full interval from now, so Slack sees the spacing too."""


class MemoryPacer:
    def __init__(self, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._free_at: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        now = self.clock()
        free_at = self._free_at.get(channel, now)
        if now < free_at:
            return free_at - now
        self._free_at[channel] = now + self.interval_s
        return 0.0

    def defer(self, channel: str, seconds: float) -> None:
        self._free_at[channel] = max(self._free_at.get(channel, 0.0), self.clock() + seconds)

    def hold(self, channel: str) -> None:
        self.defer(channel, self.interval_s)


class RedisPacer:
    def __init__(self, client: redis.Redis, interval_s: float = 1.0, prefix: str = "aeth:slack:pace:") -> None:
        self.client = client
        self.interval_ms = max(1, int(interval_s * 1000))
        self.prefix = prefix

    def reserve(self, channel: str) -> float:
        key = self.prefix + channel
        if self.client.set(key, b"1", nx=True, px=self.interval_ms):
            return 0.0
        ttl_ms = int(self.client.pttl(key))  # -2: gone meanwhile, -1: no TTL (cannot happen); try again soon
        return max(ttl_ms, 1) / 1000.0

    def defer(self, channel: str, seconds: float) -> None:
        self.client.set(self.prefix + channel, b"1", px=max(1, int(seconds * 1000)))

    def hold(self, channel: str) -> None:
        if int(self.client.pttl(self.prefix + channel)) < self.interval_ms:  # never shortens a 429's wait
            self.client.set(self.prefix + channel, b"1", px=self.interval_ms)
