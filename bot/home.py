"""App Home: open incidents by cluster, recent resolutions and how often the diagnoses were confirmed."""

from __future__ import annotations

from slack_sdk import WebClient

from aetherius.incidents import ACTIVE_STATES, ENDED_STATES
from bot.context import BotContext
from bot.summaries import home_view


def publish_home(ctx: BotContext, client: WebClient, user: str) -> None:
    open_incidents = ctx.store.list_incidents(states=ACTIVE_STATES, limit=200)
    resolved = ctx.store.list_incidents(states=ENDED_STATES, limit=10)
    client.views_publish(user_id=user, view=home_view(open_incidents, resolved, ctx.store.feedback_totals()))
