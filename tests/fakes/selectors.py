"""Label and field selectors as the Kubernetes API parses them, for the fake API server.

Written independently of the collector's own client-side filters on purpose: a bug shared by the code under test
and its fake would cancel out and hide itself.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, comma = AND.
Field selectors: ``f=v``, ``f==v``, ``f!=v``; only the field labels each kind supports (anything else is the
API's 400 "field label not supported").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kmock import KubernetesError

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")

Predicate = Callable[[Mapping[str, str]], bool]


def bad_request(message: str) -> KubernetesError:
    return KubernetesError(status=400, reason="BadRequest", message=message, details={})


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside a ``(...)`` value set."""
    parts, depth, current = [], 0, []
    for char in selector:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += 1 if char == "(" else -1 if char == ")" else 0
        current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _requirement(text: str) -> Predicate:
    if m := _SET_RE.match(text):
        key, op, values = m.group(1), m.group(3), {v.strip() for v in m.group(4).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_RE.match(text):
        key, op, value = m.group(1), m.group(3), m.group(4)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_RE.match(text):
        negate, key = m.group(1) == "!", m.group(2)
        return lambda labels: (key in labels) != negate
    raise bad_request(f"unable to parse requirement: {text.strip()!r}")


def label_predicate(selector: str | None) -> Predicate:
    """A predicate over a labels mapping; raises the API's 400 for an unparseable selector."""
    if not selector or not selector.strip():
        return lambda labels: True
    requirements = [_requirement(part) for part in _split(selector)]
    return lambda labels: all(req(labels) for req in requirements)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string value of a dotted field path; the API compares missing fields as ``""``."""
    if path == "source":  # core/v1 Event's one non-path field label
        path = "source.component"
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_predicate(selector: str | None, supported: frozenset[str], kind: str) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over a whole object; unsupported field labels are the API's 400, as a real server answers."""
    if not selector or not selector.strip():
        return lambda obj: True
    checks: list[tuple[str, bool, str]] = []
    for part in selector.split(","):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid field selector: {part.strip()!r}")
        label, op, value = m.group(1), m.group(2), m.group(3)
        if label not in supported:
            raise bad_request(f'field label "{label}" not supported for {kind}')
        checks.append((label, op == "!=", value))
    return lambda obj: all((field_value(obj, path) == value) != negate for path, negate, value in checks)
