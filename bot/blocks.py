"""Block Kit from an incident Thread (pure). Every limit Slack enforces is enforced here, before Slack says no.

Limits (api.slack.com/reference/block-kit): 50 blocks per message, 3,000 chars per section text, 150 chars of
header text, 75 chars of button text, 2,000 chars of button value, 255 chars of action_id.
"""

from __future__ import annotations

from typing import Any

from bot.threads import Button, Reply, Thread

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_ACTION_ID = 255
TRUNCATED = "… (truncated; full report in the thread file)"

Block = dict[str, Any]


def clip(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) so log lines cannot mention @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION, TRUNCATED)}}


def button(b: Button, incident_id: str) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(b.label, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": clip(f"aeth_{b.action_id}", MAX_ACTION_ID, ""),
        "value": clip(f"{incident_id}:{b.value}", MAX_VALUE, ""),
    }
    if b.style:
        element["style"] = b.style
    return element


def parent_blocks(thread: Thread) -> list[Block]:
    fields = [{"type": "mrkdwn", "text": clip(f"*{k}*\n{escape(v)}", 2000)} for k, v in thread.fields.items()][:10]
    return [
        {"type": "header", "text": {"type": "plain_text", "text": clip(thread.header, MAX_HEADER), "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"severity *{thread.severity}*"}]},
        {"type": "section", "fields": fields},
        section(escape(thread.summary)),
    ]


def reply_blocks(reply: Reply, incident_id: str) -> list[Block]:
    text = f"*{escape(reply.title)}*\n" + "\n".join(escape(line) for line in reply.lines)
    blocks = [section(text)]
    if reply.buttons:
        blocks.append({"type": "actions", "elements": [button(b, incident_id) for b in reply.buttons[:25]]})
    return blocks[:MAX_BLOCKS]


def fallback_text(thread: Thread) -> str:
    """The notification text (and what screen readers read): one line."""
    return clip(f"[{thread.severity}] {thread.header}: {thread.summary}", 3000)
