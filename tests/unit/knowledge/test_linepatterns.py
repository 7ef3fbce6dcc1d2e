"""Log-line patterns run on RE2 and give the answers Python's re gives, on every line we have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.linepatterns import LinePattern, python_twin
from knowledge.logtrim import ERROR_LINE
from knowledge.rules import patterns

ROOT = Path(__file__).resolve().parents[3]
CORPORA = [
    ROOT / "examples",
    *(ROOT / "tests" / "data" / name for name in ("corpus", "probe", "probe2", "probe3", "probe4")),
]
SHARED = [ROOT.parent / "shared" / "examples" / "snapshots", ROOT.parent / "shared" / "examples" / "hard"]

LINE_PATTERNS = {name: value for name, value in vars(patterns).items() if isinstance(value, LinePattern)}
LINE_PATTERNS["ERROR_LINE"] = ERROR_LINE


def corpus_lines(folders: list[Path]) -> list[str]:
    """Every log line and event message of the snapshots in ``folders``: the text these patterns meet."""
    lines: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            if path.name == "labels.json":
                continue
            snapshot = json.loads(path.read_text())
            for log in snapshot.get("logs") or []:
                lines.extend(line for line in str(log.get("text", "")).splitlines() if line.strip())
            events = [o for o in snapshot.get("objects") or [] if o.get("kind") == "Event"]
            lines.extend(str(event.get("message") or event.get("note") or "") for event in events)
    return lines


def disagreements(lines: list[str]) -> list[tuple[str, str]]:
    return [
        (name, line)
        for name, pattern in LINE_PATTERNS.items()
        for twin in [python_twin(pattern)]
        for line in lines
        if bool(pattern.search(line)) != bool(twin.search(line))
    ]


def test_the_mechanism_patterns_and_the_error_line_pattern_run_on_re2_unless_they_need_lookarounds() -> None:
    on_re = sorted(name for name, pattern in LINE_PATTERNS.items() if pattern.engine == "re")
    assert on_re == ["CONNECT_SUCCESS", "FILE_PERMISSION"]  # negative lookaheads; a new one should be a choice


def test_re2_and_re_agree_on_every_log_line_and_event_message_of_our_corpora() -> None:
    lines = corpus_lines(CORPORA)
    assert len(lines) > 1500
    assert disagreements(lines) == []


def test_re2_and_re_agree_on_the_public_check_sets() -> None:
    if not all(folder.is_dir() for folder in SHARED):
        pytest.skip("../shared/examples is not beside this clone (only the project's own checkout has it)")
    assert disagreements(corpus_lines(SHARED)) == []


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("java.lang.OutOfMemoryError: Java heap space", True),
        ('Exception in thread "main" java.lang.OutOfMemoryError: GC overhead limit exceeded', True),
        ("caused by:java.lang.OutOfMemoryError: Metaspace", True),
        ("com.acme.fakejava.lang.OutOfMemoryErrorHandler registered", False),
    ],
)
def test_the_java_oom_wording_needs_a_non_letter_before_java_as_the_lookbehind_did(line: str, found: bool) -> None:
    assert bool(patterns.APP_OOM.search(line)) is found


def test_a_pattern_re2_cannot_parse_falls_back_to_re_with_the_same_answers() -> None:
    pattern = LinePattern(r"(\w+) again \1", ignore_case=True)
    assert pattern.engine == "re"
    assert pattern.search("Retry AGAIN retry") and not pattern.search("retry again later")


def test_a_hostile_megabyte_line_is_matched_in_linear_time() -> None:
    # With backtracking, ``forbidden .{0,200} user .{0,200} cannot`` over a line of repeated "forbidden user " tries
    # every pair of positions; RE2 reads the line once. pytest-timeout is the guard, not a timing assertion.
    line = "forbidden user " * 70_000
    assert patterns.RBAC.engine == "re2"
    assert not patterns.RBAC.search(line)
    assert ERROR_LINE.search(line)
