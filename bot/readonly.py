"""Read-only cluster commands in Slack: who may run them where (pure), and how their output is delivered.

The bot never reads a cluster itself (it imports no Kubernetes client): ``/aeth logs|describe|top`` enqueue a job,
and the worker that did the read calls `deliver_output` to answer in the channel. Output is redacted first, then
posted inline when short, or uploaded as a file with its first lines inline when long.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from slack_sdk import WebClient

from bot.blocks import escape
from knowledge.redaction import redact_text

PREVIEW_LINES = 20


def readonly_allowed(table: Mapping[str, list[str]], channel: str, namespace: str) -> bool:
    """Allowed when the channel's (or ``"*"``'s) namespace patterns match; nothing is allowed by default."""
    patterns = list(table.get(channel, [])) + list(table.get("*", []))
    return any(fnmatchcase(namespace, p) for p in patterns)


def deliver_output(
    client: WebClient, *, channel: str, thread_ts: str | None, title: str, text: str, inline_chars: int = 2500
) -> str:
    """Post ``text`` (redacted) as a code block or, when longer than ``inline_chars``, as a file. Returns how."""
    clean = redact_text(text)
    if len(clean) <= inline_chars:
        body = f"*{escape(title)}*\n```{escape(clean) or '(empty)'}```"
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=body, unfurl_links=False)
        return "inline"
    preview = "\n".join(clean.splitlines()[-PREVIEW_LINES:])
    client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=clean,
        filename=f"{title.replace('/', '_').replace(' ', '_')[:80]}.txt",
        title=title[:200],
        initial_comment=f"*{escape(title)}* ({len(clean.splitlines())} lines, last {PREVIEW_LINES}):\n"
        f"```{escape(preview)[:2800]}```",
    )
    return "file"
