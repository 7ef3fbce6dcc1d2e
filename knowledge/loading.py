"""Read evidence from a file or stdin into a Snapshot: a Snapshot document, a bare Pod, or a ``v1`` List.

Everything that can go wrong with user input ends here as a one-line ``SnapshotError``: too big, not text,
truncated JSON, YAML with anchors (a "billion laughs" bomb), the wrong kind, an empty document.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import yaml

from aetherius.errors import MalformedSnapshot, SnapshotTooLarge, UnsupportedKind
from aetherius.snapshots import KubeObject, LogExcerpt, MetricSeries, Snapshot, SnapshotMeta
from knowledge.logtrim import trim_log

MAX_YAML_ALIASES = 0
"""Kubernetes never needs YAML anchors; refusing them defuses alias bombs outright."""


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise MalformedSnapshot(
                f"YAML anchors/aliases are not allowed in snapshots (line {event.start_mark.line + 1})"
            )
        return super().compose_node(parent, index)


def read_source(source: str, max_bytes: int) -> bytes:
    """Bytes of a path or ``-`` (stdin), refusing anything over ``max_bytes``."""
    if source == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        path = Path(source)
        if not path.is_file():
            raise MalformedSnapshot(f"no such file: {source}")
        if path.stat().st_size > max_bytes:
            raise SnapshotTooLarge(
                f"file is {path.stat().st_size:,} bytes; the limit is {max_bytes:,} (AETH_MAX_SNAPSHOT_BYTES)"
            )
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise SnapshotTooLarge(f"input is over the {max_bytes:,}-byte limit (AETH_MAX_SNAPSHOT_BYTES)")
    return data


def parse_document(data: bytes) -> Any:
    """JSON or YAML text to Python data."""
    if not data.strip():
        raise MalformedSnapshot("empty input")
    if b"\x00" in data[:65536]:
        raise MalformedSnapshot("binary data, not a JSON or YAML snapshot")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise MalformedSnapshot(f"not UTF-8 text (byte {err.start})") from None
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise MalformedSnapshot(f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    try:
        docs = [d for d in yaml.load_all(text, Loader=_NoAliasLoader) if d is not None]  # noqa: S506 - safe loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MalformedSnapshot(f"invalid YAML{where}: {getattr(err, 'problem', None) or err}") from None
    if not docs:
        raise MalformedSnapshot("empty document")
    return docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": docs}


def to_snapshot(doc: Any, *, tail_lines: int = 400, error_lines: int = 200) -> Snapshot:
    """Any accepted document shape to a Snapshot whose first object is the subject Pod."""
    if not isinstance(doc, dict) or not doc:
        raise MalformedSnapshot("expected a Snapshot, a Pod or a v1 List object at the top level")
    kind = doc.get("kind")
    if kind == "Snapshot":
        objects = _objects(doc.get("objects"))
        meta = _meta(doc.get("metadata"))
        logs = _logs(doc.get("logs"), tail_lines, error_lines)
        metrics = _metrics(doc.get("metrics"))
    elif kind == "List" or (kind is None and isinstance(doc.get("items"), list)):
        objects, meta, logs, metrics = _objects(doc.get("items")), SnapshotMeta(), [], []
    elif kind == "Pod":
        objects, meta, logs, metrics = [doc], SnapshotMeta(), [], []
    elif isinstance(kind, str) and kind:
        raise UnsupportedKind(_wrong_kind_message(doc))
    else:
        raise MalformedSnapshot("the document has no 'kind'; expected Snapshot, Pod or List")
    pods = [o for o in objects if o.get("kind") == "Pod"]
    if not pods:
        kinds = sorted({str(o.get("kind")) for o in objects})
        raise UnsupportedKind(f"no Pod in the snapshot (found: {', '.join(kinds) or 'nothing'}); a Pod is the subject")
    subject = pods[0]
    if not isinstance(subject.get("metadata"), dict) or not subject["metadata"].get("name"):
        raise MalformedSnapshot("the subject Pod has no metadata.name")
    objects = [subject, *(o for o in objects if o is not subject)]
    if not meta.name:
        meta.name = str(subject["metadata"]["name"])
    return Snapshot(metadata=meta, objects=objects, logs=logs, metrics=metrics)


def load_snapshot(source: str, *, max_bytes: int, tail_lines: int = 400, error_lines: int = 200) -> Snapshot:
    return to_snapshot(parse_document(read_source(source, max_bytes)), tail_lines=tail_lines, error_lines=error_lines)


def _wrong_kind_message(doc: KubeObject) -> str:
    kind = doc.get("kind")
    name = (doc.get("metadata") or {}).get("name", "") if isinstance(doc.get("metadata"), dict) else ""
    what = f"{kind}/{name}" if name else str(kind)
    return f"{what} is not a Pod: diagnose one of its pods (aeth diagnose pod/NAME -n NAMESPACE) or a Snapshot file"


def _objects(value: Any) -> list[KubeObject]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedSnapshot("'objects' must be a list of Kubernetes objects")
    return [o for o in value if isinstance(o, dict) and o]


def _meta(value: Any) -> SnapshotMeta:
    if not isinstance(value, dict):
        return SnapshotMeta()
    try:
        return SnapshotMeta.model_validate(value)
    except ValueError:
        return SnapshotMeta(name=str(value.get("name", "")), cluster=str(value.get("cluster", "")))


def _logs(value: Any, tail_lines: int, error_lines: int) -> list[LogExcerpt]:
    if not isinstance(value, list):
        return []
    logs: list[LogExcerpt] = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        raw = entry.get("text")
        text = raw if isinstance(raw, str) else ""
        kept, dropped = trim_log(text, tail_lines, error_lines)
        logs.append(
            LogExcerpt(
                namespace=str(entry.get("namespace") or ""),
                pod=str(entry.get("pod") or ""),
                container=str(entry.get("container") or ""),
                previous=bool(entry.get("previous", False)),
                text=kept,
                truncated_lines=dropped,
            )
        )
    return logs


def _metrics(value: Any) -> list[MetricSeries]:
    if not isinstance(value, list):
        return []
    series: list[MetricSeries] = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("metric"), dict):
            continue
        samples: list[tuple[float, float]] = []
        for sample in entry.get("values") or []:
            try:
                ts, raw = float(sample[0]), float(sample[1])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(ts) and math.isfinite(raw):
                samples.append((ts, raw))
        samples.sort()
        labels = {str(k): str(v) for k, v in entry["metric"].items()}
        series.append(MetricSeries(metric=labels, values=samples))
    return series
