"""The Dry-run button: the recommendation's changing commands, as server-side dry runs, posted in the thread.

``kubectl ... --dry-run=server`` sends the change through authentication, RBAC, admission webhooks and validation
without persisting it: the safest rehearsal there is. Read-only commands (get, describe, logs, top, rollout status,
auth can-i) need no rehearsal and are left out; a command with a pipe or a redirect is shown as it is, since a
flag appended to it would land on the wrong program. Executing approved actions is the remediation executor's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_CHANGES = re.compile(
    r"^kubectl\b.*?\s(?:patch|set|apply|create|delete|scale|annotate|label|replace|taint|autoscale|expose|"
    r"rollout\s+(?:undo|restart))\b"
)
_COMPOUND = re.compile(r"[|><;&]")


def dry_run_command(command: str) -> str | None:
    """The server-side dry run of a changing kubectl command; None for read-only or non-kubectl commands."""
    command = command.strip()
    if not _CHANGES.search(command) or "--dry-run" in command:
        return None
    if _COMPOUND.search(command):
        return command
    return f"{command} --dry-run=server"


def dry_run_text(recommendation: Mapping[str, object]) -> str:
    """The thread message for one recommendation (already redacted: it comes from a stored diagnosis)."""
    title = str(recommendation.get("title") or recommendation.get("action") or "the action")
    commands = recommendation.get("commands")
    lines = [c for c in (dry_run_command(str(c)) for c in commands if c) if c] if isinstance(commands, list) else []
    if not lines:
        return f"*Dry-run of {title}*: its commands only read from the cluster, so there is nothing to rehearse."
    body = "\n".join(lines)
    return (
        f"*Dry-run of {title}*: the API server validates these (RBAC, admission, schema) without applying them.\n"
        f"```{body}```"
    )


def find_recommendation(recommendations: Sequence[object], action: str) -> Mapping[str, object] | None:
    for rec in recommendations:
        if isinstance(rec, Mapping) and rec.get("action") == action:
            return rec
    return None
