"""The one place that writes to the Kubernetes API for the collector: its coordination.k8s.io/v1 Lease.

A Lease is the API's documented lock for leader election. Its ``spec`` holds ``holderIdentity``,
``leaseDurationSeconds``, ``acquireTime``, ``renewTime`` and ``leaseTransitions``; concurrency is optimistic:

- ``create`` of a Lease that exists answers 409 ``AlreadyExists``;
- ``replace`` (PUT) carrying a ``metadata.resourceVersion`` older than the stored one answers 409 ``Conflict``.

Either 409 means another collector wrote first; it leaves here as ``LeaseConflict`` so the election can tell
"lost the race" from "the API refused". Every other failure is mapped like the reader's (``responses``).
``LeaseRecord`` is the plain, typed form of the spec; the wire conversion is pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from aetherius.errors import ApiRejected, ApiUnavailable, NotFound
from collectors.kube.responses import map_api_error, unavailable


class LeaseConflict(ApiRejected):
    """409: another writer created or changed the Lease first; re-read it before deciding anything."""


@dataclass(frozen=True)
class LeaseRecord:
    holder: str
    """``holderIdentity``; empty when the Lease was released."""
    duration_s: int
    acquired_at: datetime | None = None
    renewed_at: datetime | None = None
    transitions: int = 0
    resource_version: str = ""

    def written_by(self, holder: str, at: datetime, duration_s: int) -> LeaseRecord:
        """This record as ``holder`` renews it (same holder) or takes it over (another holder: a transition)."""
        if holder == self.holder:
            return replace(self, renewed_at=at, duration_s=duration_s)
        return replace(self, holder=holder, acquired_at=at, renewed_at=at, duration_s=duration_s,
                       transitions=self.transitions + 1)  # fmt: skip


def micro_time(at: datetime) -> str:
    """The API's MicroTime: RFC 3339 with microseconds, in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_body(name: str, namespace: str, record: LeaseRecord) -> dict[str, Any]:
    spec: dict[str, Any] = {"holderIdentity": record.holder, "leaseDurationSeconds": record.duration_s,
                            "leaseTransitions": record.transitions}  # fmt: skip
    if record.acquired_at is not None:
        spec["acquireTime"] = micro_time(record.acquired_at)
    if record.renewed_at is not None:
        spec["renewTime"] = micro_time(record.renewed_at)
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if record.resource_version:
        meta["resourceVersion"] = record.resource_version
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}


def from_body(body: dict[str, Any]) -> LeaseRecord:
    spec = body.get("spec") or {}
    return LeaseRecord(
        holder=str(spec.get("holderIdentity") or ""),
        duration_s=int(spec.get("leaseDurationSeconds") or 0),
        acquired_at=_parse_time(spec.get("acquireTime")),
        renewed_at=_parse_time(spec.get("renewTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str((body.get("metadata") or {}).get("resourceVersion") or ""),
    )


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class LeaseClient:
    """Get, create and replace one Lease, as plain ``LeaseRecord``s."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str, *, timeout_s: float = 5.0) -> None:
        self.namespace = namespace
        self.name = name
        self._api = client.CoordinationV1Api(api)
        self._timeout = (min(timeout_s, 5.0), timeout_s)
        self._what = f"leases/{name} in {namespace}"

    def get(self) -> LeaseRecord | None:
        """The current record, or ``None`` when nobody has created the Lease yet."""
        try:
            return self._call(self._api.read_namespaced_lease, "get", self.name, self.namespace)
        except NotFound:
            return None

    def create(self, record: LeaseRecord) -> LeaseRecord:
        body = to_body(self.name, self.namespace, replace(record, resource_version=""))
        return self._call(self._api.create_namespaced_lease, "create", self.namespace, body)

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        """Write ``record`` if the Lease is still at ``record.resource_version``; else ``LeaseConflict``."""
        body = to_body(self.name, self.namespace, record)
        return self._call(self._api.replace_namespaced_lease, "update", self.name, self.namespace, body)

    def _call(self, fn: Callable[..., Any], verb: str, *args: Any) -> LeaseRecord:
        try:
            response = fn(*args, _preload_content=False, _request_timeout=self._timeout)
        except ApiException as err:
            if err.status == 409:
                raise LeaseConflict(f"{verb} {self._what}: another collector wrote it first") from None
            raise map_api_error(err, verb, self._what) from None
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise unavailable(err, verb, self._what) from None
        try:
            body = json.loads(response.data)
        except ValueError:
            raise ApiUnavailable(f"{verb} {self._what}: the API answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise ApiUnavailable(f"{verb} {self._what}: the API answered {type(body).__name__}, not an object")
        return from_body(body)
