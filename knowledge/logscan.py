"""Classify log lines from any format into error lines with a severity, and keep a short tail.

Formats: plain, JSON lines (``level``/``severity``/``lvl``), logfmt (``level=``), klog (``E0502 ...``), Python
logging, Java/Log4j, Go panics, Rust panics, Ruby, Node. Severity comes from an explicit level field when there
is one, otherwise from wording; a stack-trace header line counts as an error.
"""

from __future__ import annotations

import re

from aetherius.signals import LogLine
from aetherius.snapshots import LogExcerpt
from knowledge.logtrim import is_error_line

_LEVEL = re.compile(
    r"""(?ix)
    (?:"(?:level|severity|lvl|loglevel|log\.level)"\s*:\s*"(?P<json>\w+)")
    | (?:\b(?:level|lvl|severity)=(?P<kv>\w+))
    | (?:^(?P<klog>[IWEF])\d{4}\s)
    | (?:[\[\s|/:](?P<word>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|SEVERE|PANIC|EMERG|ALERT)
         [\]\s|:/])
    """
)
_KLOG = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}
_NORMAL = {
    "trace": "debug", "debug": "debug", "info": "info", "notice": "info", "information": "info",
    "warn": "warn", "warning": "warn", "error": "error", "err": "error", "fatal": "fatal", "critical": "fatal",
    "crit": "fatal", "severe": "error", "panic": "fatal", "emerg": "fatal", "alert": "fatal", "dpanic": "fatal",
}  # fmt: skip
_CRASH = re.compile(
    r"(?i)^(?:panic:|thread '.*' panicked|traceback \(most recent call last\)|exception in thread|"
    r"unhandled (?:exception|rejection)|fatal error:|segmentation fault|\w+(?:\.\w+)*(?:error|exception)\b:?)"
)


def line_level(line: str) -> str:
    """'fatal' | 'error' | 'warn' | 'info' | 'debug' | '' (unknown)."""
    match = _LEVEL.search(line[:300])
    if match:
        if match.group("klog"):
            return _KLOG[match.group("klog")]
        word = (match.group("json") or match.group("kv") or match.group("word") or "").lower()
        if word in _NORMAL:
            return _NORMAL[word]
    stripped = line.lstrip()
    if _CRASH.match(stripped):
        return "fatal" if stripped.lower().startswith(("panic", "thread", "fatal", "segmentation")) else "error"
    return ""


def scan(logs: list[LogExcerpt], tail: int = 40) -> tuple[list[LogLine], list[LogLine]]:
    """(error lines, tail lines) over all excerpts; info/debug lines with error words are not errors."""
    errors: list[LogLine] = []
    tails: list[LogLine] = []
    for log in logs:
        lines = [ln for ln in log.text.splitlines() if ln.strip()]
        for line in lines[-tail:]:
            tails.append(LogLine(log.container, log.previous, line, line_level(line)))
        for line in lines:
            level = line_level(line)
            if level in ("error", "fatal") or (level in ("", "warn") and is_error_line(line)):
                errors.append(LogLine(log.container, log.previous, line[:2000], level or "error?"))
    return errors, tails
