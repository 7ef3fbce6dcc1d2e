"""Slack retries an event it thinks we missed (``X-Slack-Retry-Num``); the event id says whether we have it already.

`RedisSeen` shares what was seen between replicas of the app (``SET NX EX``); `MemorySeen` is for one process.
"""

from __future__ import annotations

import threading
from typing import Protocol

import redis


class Seen(Protocol):
    def first_time(self, key: str) -> bool:
        """True exactly once per key (within the retention)."""


class MemorySeen:
    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True


class RedisSeen:
    def __init__(self, client: redis.Redis, *, prefix: str = "aeth:slack:seen:", ttl_s: int = 3600) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    def first_time(self, key: str) -> bool:
        return bool(self.client.set(self.prefix + key, b"1", nx=True, ex=self.ttl_s))
