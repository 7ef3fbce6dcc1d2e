"""Events: 👍/👎 reactions on an incident's messages become feedback; opening the Home tab draws App Home.

Reactions count per user and kind, idempotently (the store keeps one row per incident, user and kind): adding
the same reaction twice, or with another skin tone, is one vote; removing it takes the vote back.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from aetherius.store.views import FeedbackKind
from bot.context import BotContext
from bot.home import publish_home
from bot.ports import LEARN

log = logging.getLogger("aetherius.slack")

REACTIONS: dict[str, FeedbackKind] = {
    "+1": "thumbs_up",
    "thumbsup": "thumbs_up",
    "-1": "thumbs_down",
    "thumbsdown": "thumbs_down",
}


def feedback_kind(reaction: str) -> FeedbackKind | None:
    """``+1::skin-tone-3`` → thumbs_up; anything that is not a thumb → None."""
    return REACTIONS.get(reaction.split("::", 1)[0])


def register(app: App, ctx: BotContext) -> None:
    def on_reaction(event: dict[str, Any], added: bool) -> None:
        kind = feedback_kind(str(event.get("reaction") or ""))
        item = event.get("item") or {}
        if kind is None or item.get("type") != "message":
            return
        incident_id = ctx.store.incident_for_message(str(item.get("channel")), str(item.get("ts")))
        if incident_id is None:
            return
        user = str(event["user"])
        if added:
            changed = ctx.store.add_feedback(incident_id, user=user, kind=kind)
        else:
            changed = ctx.store.remove_feedback(incident_id, user=user, kind=kind)
        if changed:
            ctx.enqueue(LEARN, {"incident_id": str(incident_id)})

    @app.event("reaction_added")
    def reaction_added(event: dict[str, Any]) -> None:
        on_reaction(event, True)

    @app.event("reaction_removed")
    def reaction_removed(event: dict[str, Any]) -> None:
        on_reaction(event, False)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(ctx, client, str(event["user"]))
