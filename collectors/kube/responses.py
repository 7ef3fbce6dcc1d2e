"""What the Kubernetes API answers, made ours: plain dicts, typed watch events, and our error tree.

Everything comes back as plain dicts exactly as the API sends them (read with ``_preload_content=False``, no
model round-trip: the generated models are strict and reject objects real clusters do send), with
``managedFields`` dropped and ``kind``/``apiVersion`` restored on list items (the API leaves them out there).
Every failure leaves as one of our errors, so callers never see ``ApiException`` or urllib3:

    401/403 → AccessDenied      404 → NotFound          400/405/409/422 → ApiRejected
    410     → ResourceExpired   429/5xx, timeouts, refused or cut connections → ApiUnavailable

A watch ``ERROR`` event carries a Status; it is mapped the same way (410 in it → ``ResourceExpired``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from aetherius.errors import AccessDenied, AetheriusError, ApiRejected, ApiUnavailable, NotFound, ResourceExpired
from aetherius.snapshots import KubeObject

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
_EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")


@dataclass(frozen=True)
class Listing:
    items: list[KubeObject]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    type: EventType
    object: KubeObject

    @property
    def resource_version(self) -> str:
        return str((self.object.get("metadata") or {}).get("resourceVersion") or "")


@dataclass
class Gathered:
    """Optional evidence: the objects that could be read, and one line per thing that could not."""

    objects: list[KubeObject] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def describe(err: AetheriusError) -> str:
    """A short word for a skipped-evidence note: ``nodes/worker-1: forbidden``."""
    if isinstance(err, AccessDenied):
        return "forbidden"
    if isinstance(err, NotFound):
        return "not found"
    return str(err)


def map_api_error(err: ApiException, verb: str, what: str) -> AetheriusError:
    status = int(err.status or 0)
    detail = _status_message(err)
    if status in (401, 403):
        return AccessDenied(f"{verb} {what}: forbidden ({detail}); grant the collector's service account {verb}")
    if status == 404:
        return NotFound(f"{verb} {what}: not found ({detail})")
    if status == 410:
        return ResourceExpired(f"{verb} {what}: {detail}")
    if status in (400, 405, 409, 422):
        return ApiRejected(f"{verb} {what}: rejected with {status} ({detail})")
    return ApiUnavailable(f"{verb} {what}: the API answered {status or 'nothing'} ({detail})")


def _status_message(err: ApiException) -> str:
    try:
        body = json.loads(err.body or "")
    except ValueError:
        return str(err.reason or "no details")
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or err.reason or "no details")[:300]


def unavailable(err: Exception, verb: str, what: str) -> ApiUnavailable:
    reason = getattr(err, "reason", None) or err
    text = "timed out" if "timed out" in str(reason).lower() else f"connection failed: {reason}"
    return ApiUnavailable(f"{verb} {what}: {text}")


def clean(raw: Any, kind: str = "", api_version: str = "") -> KubeObject:
    """The object without ``managedFields``, with the ``kind``/``apiVersion`` a list item lacks."""
    if not isinstance(raw, dict):
        return {}
    obj: KubeObject = raw
    if kind and "kind" not in obj:
        obj = {"apiVersion": api_version, "kind": kind, **obj}
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


class WatchStream:
    """One watch request's events; ``close()`` from another thread interrupts a blocked read."""

    def __init__(self, response: Any, what: str) -> None:
        self._response = response
        self._what = what
        self._closed = False
        self._released = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[WatchEvent]:
        try:
            for line in iter_resp_lines(self._response):  # type: ignore[no-untyped-call]
                if not line:
                    continue
                event = _parse_event(line, self._what)
                if event is not None:
                    yield event
        except (urllib3.exceptions.HTTPError, OSError) as err:
            if not self._closed:
                raise unavailable(err, "watch", self._what) from None
        finally:
            self._release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if not self._released:  # a released connection may already serve another request
                self._response.shutdown()

    def _release(self) -> None:
        with self._lock:
            self._released = True
            self._response.close()
            self._response.release_conn()


def _parse_event(line: str, what: str) -> WatchEvent | None:
    try:
        event = json.loads(line)
    except ValueError:
        raise ApiUnavailable(f"watch {what}: unreadable event {line[:80]!r}") from None
    kind, obj = event.get("type"), event.get("object")
    if not isinstance(obj, dict):
        raise ApiUnavailable(f"watch {what}: event without an object: {line[:80]!r}")
    if kind == "ERROR":
        error = ApiException(status=int(obj.get("code") or 500), reason=str(obj.get("reason") or ""))
        error.body = json.dumps(obj)
        raise map_api_error(error, "watch", what)
    if kind not in _EVENT_TYPES:
        return None
    return WatchEvent(kind, clean(obj))
