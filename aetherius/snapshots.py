"""The Snapshot: everything known about one failing workload at one moment (see SNAPSHOT.md).

Kubernetes objects stay as the API returned them (plain dicts); `knowledge.signals` turns them into typed signals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KubeObject = dict[str, Any]


class SnapshotMeta(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = ""
    cluster: str = ""
    captured_at: datetime | None = Field(default=None, alias="capturedAt")


class LogExcerpt(BaseModel):
    """Raw container output, newest last. ``previous`` is the last terminated run."""

    namespace: str = ""
    pod: str = ""
    container: str = ""
    previous: bool = False
    text: str = ""
    truncated_lines: int = 0


class MetricSeries(BaseModel):
    """One Prometheus range-query matrix result, values as floats, sorted by time."""

    metric: dict[str, str] = Field(default_factory=dict)
    values: list[tuple[float, float]] = Field(default_factory=list)

    @property
    def name(self) -> str:
        return self.metric.get("__name__", "")


class Snapshot(BaseModel):
    """The evidence bundle. ``objects[0]`` is the subject Pod."""

    metadata: SnapshotMeta = Field(default_factory=SnapshotMeta)
    objects: list[KubeObject] = Field(default_factory=list)
    logs: list[LogExcerpt] = Field(default_factory=list)
    metrics: list[MetricSeries] = Field(default_factory=list)

    @property
    def pod(self) -> KubeObject:
        return self.objects[0] if self.objects else {}

    def to_document(self) -> dict[str, Any]:
        """The SNAPSHOT.md wire form."""
        return {
            "apiVersion": "aetherius.dev/v1",
            "kind": "Snapshot",
            "metadata": self.metadata.model_dump(by_alias=True, mode="json", exclude_none=True),
            "objects": self.objects,
            "logs": [log.model_dump(exclude={"truncated_lines"}) for log in self.logs],
            "metrics": [
                {"metric": m.metric, "values": [[ts, _format_sample(v)] for ts, v in m.values]} for m in self.metrics
            ],
        }


def _format_sample(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
