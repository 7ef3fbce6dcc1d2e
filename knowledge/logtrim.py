"""Keep what matters of a container log: the tail and the error lines, without copying the text line by line.

A 100 MB log must not become a million Python strings. The tail is found by scanning back for newlines; error
lines by ``str.find`` over one lower-cased copy for a short list of trigger words (C speed, ~1 s for 60 MB on
this hardware), each candidate line then confirmed by a precise regex. Memory: the input plus one copy.
"""

from __future__ import annotations

from collections import deque

from knowledge.linepatterns import LinePattern

TRIGGERS = (
    "err", "fatal", "panic", "exception", "traceback", "fail", "critical", "severe", "denied", "forbidden",
    "refused", "timed out", "timeout", "unable to", "cannot", "can't", "could not", "killed", "unauthori",
    "no such", "not found", "out of memory", "oom", "no space", "segmentation", "sigsegv", "sigterm", "exit",
    "caused by", "eai_again", "enotfound", "econn",
)  # fmt: skip

ERROR_LINE = LinePattern(
    r"\berr(?:or|no)?\b|\bfatal|\bpanic|exception\b|\btraceback\b|\bfail(?:ed|ure|s|ing)?\b|\bcritical\b|"
    r"\bsevere\b|\bdenied\b|\bforbidden\b|\brefused\b|\btimed? ?out\b|\bunable to\b|\bcannot\b|\bcan't\b|"
    r"\bcould not\b|\bkilled\b|\bunauthori[sz]ed\b|\bno such\b|\bnot found\b|\bout of memory\b|\boom|"
    r"\bno space\b|\bsegmentation\b|\bsigsegv\b|\bsigterm\b|\bexit(?:ed|ing|s)?\b|\bcaused by\b|\beai_again\b|"
    r"\benotfound\b|\beconn\w+|\w+(?:error|exception)\b",
    ignore_case=True,
)


def is_error_line(line: str) -> bool:
    return ERROR_LINE.search(line) is not None


def trim_log(text: str, tail_lines: int, error_lines: int) -> tuple[str, int]:
    """Return (kept text, number of lines dropped). Kept = error lines before the tail, a marker, the tail."""
    if not text:
        return "", 0
    tail_start = _tail_start(text, tail_lines)
    if tail_start == 0:
        return text, 0
    errors = _error_lines(text, tail_start, error_lines)
    head_lines = text.count("\n", 0, tail_start)
    dropped = head_lines - len(errors)
    parts = [*errors, f"... [{dropped} earlier lines omitted by aetherius] ..."] if dropped else errors
    return "\n".join([*parts, text[tail_start:]]), dropped


def _error_lines(text: str, end: int, keep: int) -> list[str]:
    """The last ``keep`` error lines of text[:end], in order."""
    low = text[:end].lower()
    starts: set[int] = set()
    for trigger in TRIGGERS:
        pos = low.find(trigger)
        while pos >= 0:
            start = low.rfind("\n", 0, pos) + 1
            starts.add(start)
            line_end = low.find("\n", pos)
            if line_end < 0:
                break
            pos = low.find(trigger, line_end)
    kept: deque[str] = deque(maxlen=keep)
    for start in sorted(starts):
        line_end = text.find("\n", start, end)
        line = text[start : line_end if line_end >= 0 else end]
        if is_error_line(line):
            kept.append(line[:4000])
    return list(kept)


def _tail_start(text: str, lines: int) -> int:
    """Index where the last ``lines`` lines start (0 if the text is shorter)."""
    pos = len(text) - 1 if text.endswith("\n") else len(text)
    for _ in range(lines):
        pos = text.rfind("\n", 0, pos)
        if pos < 0:
            return 0
    return pos + 1
