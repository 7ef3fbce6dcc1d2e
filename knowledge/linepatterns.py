"""Patterns run over every log line and event message: RE2 where the syntax allows, Python's ``re`` otherwise.

Log text is input that an application, a dependency or an attacker shapes. RE2 matches in time linear in the line,
so no line can make a pattern backtrack for seconds, and it runs the long case-insensitive alternations of
``knowledge/rules/patterns.py`` 10-40x faster than ``re`` (1,316 log lines of the labelled corpora: 1.2-2.1 µs a
line and pattern against 9-57 µs; the whole analysis of the log-heaviest snapshots went from 9-13 ms to ~2 ms).

Lookarounds and backreferences are not RE2 syntax: a pattern that uses them stays with ``re`` (``engine`` says which
one runs). One difference remains: RE2's ``\\w`` and ``\\b`` are ASCII, so "ошибка" is no word to RE2; the patterns
here match English wording and identifiers, and a test checks both engines agree on every line of the corpora.
Without the ``google-re2`` wheel (an unusual platform) everything runs on ``re``: slower, same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

try:
    import re2 as _re2
except ImportError:  # pragma: no cover - the wheel exists for every platform we ship on
    _re2 = None

Engine = Literal["re2", "re"]
_RE2_MAX_MEM = 64 << 20
"""DFA memory per pattern; past it RE2 falls back to its (still linear) NFA rather than failing."""


def _compile_re2(pattern: str, ignore_case: bool) -> Any | None:
    """The RE2 program for ``pattern``, or None where RE2 lacks the syntax (lookarounds, backreferences)."""
    if _re2 is None:
        return None
    options = _re2.Options()
    options.case_sensitive = not ignore_case
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False  # an unsupported construct is an expected answer here, not noise on stderr
    try:
        return _re2.compile(pattern, options=options)
    except _re2.error:
        return None


class LinePattern:
    """A compiled pattern with ``re``'s ``search(text)``; truthy result = found."""

    __slots__ = ("engine", "ignore_case", "pattern", "search")

    def __init__(self, pattern: str, *, ignore_case: bool = False) -> None:
        self.pattern = pattern
        self.ignore_case = ignore_case
        fast = _compile_re2(pattern, ignore_case)
        self.engine: Engine
        self.search: Callable[[str], object | None]
        if fast is not None:
            self.engine, self.search = "re2", fast.search
        else:
            self.engine, self.search = "re", python_twin(self).search

    def __repr__(self) -> str:
        return f"LinePattern({self.pattern[:60]!r}..., engine={self.engine})"


def python_twin(pattern: LinePattern) -> re.Pattern[str]:
    """The same pattern compiled by ``re``: the fallback engine, and what tests compare RE2's answers against."""
    return re.compile(pattern.pattern, re.IGNORECASE if pattern.ignore_case else 0)
