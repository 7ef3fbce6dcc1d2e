"""Buttons in incident threads: Approve / Reject / Dry-run on each recommendation, and "Wrong cause?".

Each listener acks first; the work after it is a few store rows and a queued thread note (`bot.deciding`),
and anything heavy (running the action, a dry-run) is handed over by id through the `Enqueue` port.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from aetherius.errors import AetheriusError
from bot.context import BotContext
from bot.deciding import handle_click
from bot.ports import DRY_RUN
from bot.views import wrong_cause_modal

log = logging.getLogger("aetherius.slack")


def _tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    channel = (body.get("channel") or {}).get("id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def register(app: App, ctx: BotContext) -> None:
    def decide(ack: Ack, body: dict[str, Any], client: WebClient, approve: bool) -> None:
        ack()
        try:
            note = handle_click(ctx, client, body, approve=approve)
        except AetheriusError as err:
            note = f"Nothing changed: {err}"
        if note:
            _tell(client, body, note)

    @app.action("aeth_approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        decide(ack, body, client, True)

    @app.action("aeth_reject")
    def reject(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        decide(ack, body, client, False)

    @app.action("aeth_dry_run")
    def dry_run(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        incident_id, _, action = body["actions"][0]["value"].partition(":")
        ctx.enqueue(DRY_RUN, {"incident_id": incident_id, "action": action, "user": body["user"]["id"]})
        _tell(client, body, f"Dry-run of `{action}` queued: its server-side commands will follow in the thread.")

    @app.action("aeth_wrong_cause")
    def wrong_cause(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        incident_id, _, category = body["actions"][0]["value"].partition(":")
        client.views_open(trigger_id=body["trigger_id"], view=wrong_cause_modal(incident_id, category))
