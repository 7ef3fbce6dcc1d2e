"""Which channel an incident goes to: the first ``cluster/namespace/severity`` pattern that matches (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase


def route(routes: Mapping[str, str], default: str, *, cluster: str, namespace: str, severity: str) -> str:
    """``{"prod/payments/*": "C_PAY", "prod/*/high": "C_PROD", "*": "C_ALL"}``: insertion order is priority.

    A pattern with fewer parts matches the rest as ``*`` (``"prod"`` is ``"prod/*/*"``).
    """
    subject = (cluster, namespace, severity)
    for pattern, channel in routes.items():
        parts = (pattern.split("/") + ["*", "*"])[:3]
        if all(fnmatchcase(value, part) for value, part in zip(subject, parts, strict=True)):
            return channel
    return default
