"""The Bolt app, wired: request verification on, Slack's retries dropped by event id, one module per surface.

``build_app`` is the whole wiring; `aetherius.cli.serve` runs it over HTTP (signed requests) or Socket Mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import actions, commands, events, views
from bot.context import BotContext

log = logging.getLogger("aetherius.slack")


def build_app(
    ctx: BotContext,
    *,
    client: WebClient,
    signing_secret: str,
    process_before_response: bool = False,
) -> App:
    """``process_before_response=True`` runs listeners before the HTTP answer (FaaS hosts, deterministic tests)."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=log,
    )

    @app.middleware
    def drop_replays(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002
        """A request we have handled already is acked with no second effect: an event Slack retried (same
        ``event_id``, ``X-Slack-Retry-Num`` set), or a command or click sent again (same ``trigger_id``)."""
        key = replay_key(body)
        if key is not None and not ctx.seen.first_time(key):
            log.info("dropped a repeated Slack request %s", key)
            return BoltResponse(status=200, body="")
        return next()

    for surface in (commands, actions, events, views):
        surface.register(app, ctx)
    return app


def replay_key(body: dict[str, Any]) -> str | None:
    """What makes a Slack request unique: the event id of an event, the trigger id of a command or interaction."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return None
