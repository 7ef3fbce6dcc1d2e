"""Kubernetes resource quantities and timestamps, parsed leniently (bad values become ``None``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_SUFFIX = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}  # fmt: skip
_QUANTITY = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?\s*$")


def parse_quantity(value: object) -> float | None:
    """``"256Mi"`` → 268435456.0, ``"500m"`` → 0.5; ``None`` for anything unparseable."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    return float(match.group(1)) * _SUFFIX[match.group(2) or ""]


def format_bytes(value: float) -> str:
    """Bytes as a Kubernetes-style binary quantity, rounded for humans: 268435456 → ``256Mi``."""
    for suffix, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            amount = value / size
            return f"{amount:.0f}{suffix}" if amount >= 10 or amount.is_integer() else f"{amount:.1f}{suffix}"
    return f"{value:.0f}"


def format_cores(value: float) -> str:
    return f"{value:g}" if value >= 1 and float(value).is_integer() else f"{round(value * 1000)}m"


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python < 3.12 wants at most 6 fractional digits
        head, _, rest = text.partition(".")
        digits = re.match(r"\d*", rest)
        frac = digits.group(0) if digits else ""
        text = f"{head}.{frac[:6].ljust(6, '0')}{rest[len(frac) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
