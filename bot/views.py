"""Modals: the "Wrong cause?" picker, and what its submission records (a correction, then learning by id)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from aetherius.errors import AetheriusError
from aetherius.taxonomy import CATEGORIES, TITLES, is_category
from bot.context import BotContext
from bot.ports import LEARN

WRONG_CAUSE = "aeth_wrong_cause_view"
PICK_BLOCK, PICK_ACTION = "cause", "category"


def wrong_cause_modal(incident_id: str, current: str) -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": f"{TITLES[c]} ({c})"[:75]}, "value": c}
        for c in CATEGORIES
        if c != current
    ]
    return {
        "type": "modal",
        "callback_id": WRONG_CAUSE,
        "private_metadata": incident_id,
        "title": {"type": "plain_text", "text": "Wrong cause?"},
        "submit": {"type": "plain_text", "text": "Correct it"},
        "blocks": [
            {
                "type": "input",
                "block_id": PICK_BLOCK,
                "label": {"type": "plain_text", "text": f"The diagnosis said {current}. What was it?"[:2000]},
                "element": {"type": "static_select", "action_id": PICK_ACTION, "options": options},
            }
        ],
    }


def register(app: App, ctx: BotContext) -> None:
    @app.view(WRONG_CAUSE)
    def corrected(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        picked = view["state"]["values"].get(PICK_BLOCK, {}).get(PICK_ACTION, {}).get("selected_option") or {}
        category, incident_id = str(picked.get("value") or ""), str(view.get("private_metadata") or "")
        if not is_category(category) or not incident_id.isdigit():
            ack(response_action="errors", errors={PICK_BLOCK: "Pick one of the listed causes."})
            return
        try:
            changed = ctx.store.add_feedback(
                int(incident_id), user=body["user"]["id"], kind="correction", category=category
            )
        except AetheriusError as err:
            ack(response_action="errors", errors={PICK_BLOCK: str(err)[:150]})
            return
        ack()
        if changed:
            ctx.enqueue(LEARN, {"incident_id": incident_id})
            ctx.notifier.reply(int(incident_id), f"<@{body['user']['id']}> corrected the cause to *{category}*.")
