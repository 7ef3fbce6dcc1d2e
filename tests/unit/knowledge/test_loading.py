"""Loading evidence: every accepted shape works, every bad input is one clear SnapshotError."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from aetherius.errors import MalformedSnapshot, SnapshotTooLarge, UnsupportedKind
from knowledge.loading import load_snapshot, parse_document, to_snapshot
from tests import builders as b

LIMIT = 256 * 1024 * 1024


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def test_a_snapshot_document_keeps_the_pod_first_and_its_logs_and_metrics(tmp_path: Path) -> None:
    doc = b.snapshot(
        b.pod(),
        b.event("BackOff", "Back-off"),
        logs=[b.log("boom")],
        metrics=[b.series("container_memory_working_set_bytes", [1, 2], container="api")],
    )
    snap = load_snapshot(write(tmp_path, "s.json", json.dumps(doc)), max_bytes=LIMIT)
    assert snap.pod["kind"] == "Pod"
    assert snap.logs[0].text == "boom"
    assert snap.metrics[0].values == [(1740909000.0, 1.0), (1740909030.0, 2.0)]
    assert snap.metadata.cluster == "test"


def test_a_yaml_snapshot_reads_like_json(tmp_path: Path) -> None:
    doc = b.snapshot(b.pod())
    snap = load_snapshot(write(tmp_path, "s.yaml", yaml.safe_dump(doc)), max_bytes=LIMIT)
    assert snap.pod["metadata"]["name"] == "api-7d9f8c6b5-x2k4q"


def test_a_bare_pod_is_its_own_snapshot(tmp_path: Path) -> None:
    snap = load_snapshot(write(tmp_path, "p.json", json.dumps(b.pod())), max_bytes=LIMIT)
    assert len(snap.objects) == 1 and snap.metadata.name == "api-7d9f8c6b5-x2k4q"


def test_a_kubectl_list_takes_its_first_pod_as_subject_even_after_events(tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [b.event("BackOff", "x"), b.pod(name="web-1")]}
    snap = load_snapshot(write(tmp_path, "l.json", json.dumps(doc)), max_bytes=LIMIT)
    assert snap.pod["metadata"]["name"] == "web-1"
    assert snap.objects[1]["kind"] == "Event"


def test_stdin_is_read_when_the_source_is_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(json.dumps(b.pod()).encode()))
    monkeypatch.setattr(sys, "stdin", fake)
    assert load_snapshot("-", max_bytes=LIMIT).pod["kind"] == "Pod"


def test_truncated_json_names_the_line_and_column(tmp_path: Path) -> None:
    text = json.dumps(b.snapshot(b.pod()), indent=1)[:-40]
    with pytest.raises(MalformedSnapshot, match=r"invalid JSON at line \d+ column \d+"):
        load_snapshot(write(tmp_path, "t.json", text), max_bytes=LIMIT)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    with pytest.raises(MalformedSnapshot, match="anchors/aliases are not allowed"):
        load_snapshot(write(tmp_path, "bomb.yaml", bomb), max_bytes=LIMIT)


def test_binary_bytes_are_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(MalformedSnapshot, match="binary"):
        load_snapshot(write(tmp_path, "b.json", b"\x7fELF\x00\x01\x02" * 100), max_bytes=LIMIT)


def test_invalid_utf8_is_reported_with_its_offset(tmp_path: Path) -> None:
    with pytest.raises(MalformedSnapshot, match="not UTF-8"):
        load_snapshot(write(tmp_path, "latin.yaml", "kind: Pod\nname: caf\xe9\n".encode("latin-1")), max_bytes=LIMIT)


def test_a_deployment_is_refused_with_a_hint_to_diagnose_its_pods(tmp_path: Path) -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}}
    with pytest.raises(UnsupportedKind, match=r"Deployment/api is not a Pod.*aeth diagnose pod/NAME"):
        load_snapshot(write(tmp_path, "d.json", json.dumps(deploy)), max_bytes=LIMIT)


@pytest.mark.parametrize("content", ["{}", "[]", "", "   \n", "null", "42", '"text"'])
def test_empty_or_scalar_documents_are_malformed(tmp_path: Path, content: str) -> None:
    with pytest.raises(MalformedSnapshot):
        load_snapshot(write(tmp_path, "e.json", content), max_bytes=LIMIT)


def test_a_snapshot_without_any_pod_says_what_it_found() -> None:
    doc = {"kind": "Snapshot", "objects": [b.node()]}
    with pytest.raises(UnsupportedKind, match="no Pod in the snapshot.*Node"):
        to_snapshot(doc)


def test_files_over_the_limit_are_refused_without_reading_them(tmp_path: Path) -> None:
    with pytest.raises(SnapshotTooLarge, match="AETH_MAX_SNAPSHOT_BYTES"):
        load_snapshot(write(tmp_path, "big.json", "x" * 2048), max_bytes=1024)


def test_a_missing_file_is_a_one_line_error() -> None:
    with pytest.raises(MalformedSnapshot, match="no such file"):
        load_snapshot("/nonexistent/snap.json", max_bytes=LIMIT)


@pytest.mark.slow
def test_a_fifty_megabyte_log_keeps_its_tail_and_error_lines(tmp_path: Path) -> None:
    noise = "2025-03-02T10:00:00Z INFO GET /api/items/12345 200 7ms user=someone trace=abcdef0123\n"
    lines = (50 * 1024 * 1024) // len(noise)
    text = (
        noise * (lines // 2)
        + "2025-03-02T10:05:00Z ERROR pool exhausted: cannot acquire connection\n"
        + noise * (lines // 2)
    )
    text += "panic: runtime error: invalid memory address or nil pointer dereference\n"
    doc = b.snapshot(b.pod(), logs=[b.log(text)])
    snap = to_snapshot(doc, tail_lines=400, error_lines=200)
    kept = snap.logs[0].text
    assert "pool exhausted" in kept and kept.rstrip().endswith("nil pointer dereference")
    assert len(kept) < 100_000 and snap.logs[0].truncated_lines > 500_000


def test_non_numeric_metric_samples_are_skipped_not_fatal() -> None:
    doc = b.snapshot(
        b.pod(), metrics=[{"metric": {"__name__": "m"}, "values": [[1, "NaN"], [2, "x"], ["t", "1"], [3, "4"]]}]
    )
    assert to_snapshot(doc).metrics[0].values == [(3.0, 4.0)]


def test_json_and_yaml_parse_to_the_same_document() -> None:
    doc = b.snapshot(b.pod())
    assert parse_document(json.dumps(doc).encode()) == parse_document(yaml.safe_dump(doc).encode())
