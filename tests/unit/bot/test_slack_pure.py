"""Pure pieces of the Slack app: pacing, routing, read-only permissions, reactions, digests, summaries."""

from __future__ import annotations

from pathlib import Path

from bot.blocks import MAX_BLOCKS, MAX_SECTION
from bot.events import feedback_kind
from bot.outbox import digest_messages
from bot.pacing import MemoryPacer
from bot.readonly import readonly_allowed
from bot.routing import route
from bot.summaries import confirmation_rate, stats_text


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_channel_gets_one_slot_per_interval_and_a_429_pushes_it_back() -> None:
    clock = Clock()
    pacer = MemoryPacer(1.0, clock)
    assert pacer.reserve("C1") == 0.0
    assert pacer.reserve("C1") == 1.0
    assert pacer.reserve("C2") == 0.0  # channels do not wait for each other
    clock.now += 1.0
    assert pacer.reserve("C1") == 0.0
    pacer.defer("C1", 30)
    clock.now += 1.0
    assert pacer.reserve("C1") == 29.0
    pacer.hold("C1")  # a completed send never shortens a 429's wait
    assert pacer.reserve("C1") == 29.0
    clock.now += 29.5
    pacer.hold("C1")  # ...but restarts the interval from when the send completed
    assert pacer.reserve("C1") == 1.0


def test_routing_takes_the_first_matching_pattern_and_falls_back_to_the_default() -> None:
    routes = {"prod/payments/*": "C_PAY", "prod/*/high": "C_PROD", "staging": "C_STG"}
    assert route(routes, "C_ALL", cluster="prod", namespace="payments", severity="info") == "C_PAY"
    assert route(routes, "C_ALL", cluster="prod", namespace="web", severity="high") == "C_PROD"
    assert route(routes, "C_ALL", cluster="prod", namespace="web", severity="medium") == "C_ALL"
    assert route(routes, "C_ALL", cluster="staging", namespace="x", severity="high") == "C_STG"


def test_read_only_commands_are_refused_unless_the_channel_allows_the_namespace() -> None:
    table = {"C_SHOP": ["shop", "shop-*"], "*": ["sandbox"]}
    assert readonly_allowed(table, "C_SHOP", "shop-eu")
    assert readonly_allowed(table, "C_OTHER", "sandbox")
    assert not readonly_allowed(table, "C_SHOP", "kube-system")
    assert not readonly_allowed({}, "C_SHOP", "shop")


def test_thumbs_in_any_spelling_and_skin_tone_are_feedback_and_nothing_else_is() -> None:
    assert feedback_kind("+1") == feedback_kind("thumbsup::skin-tone-4") == "thumbs_up"
    assert feedback_kind("-1::skin-tone-2") == feedback_kind("thumbsdown") == "thumbs_down"
    assert feedback_kind("tada") is None and feedback_kind("") is None


def test_a_digest_lists_every_line_within_slack_limits() -> None:
    lines = [f"• #{i} [high] Out of memory: api-{i} " + "x" * 120 for i in range(2000)]
    messages = digest_messages("C1", lines, "Incident storm")
    assert len(messages) > 1
    texts = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert all(len(t) <= MAX_SECTION for t in texts)
    assert "\n".join(texts).splitlines() == lines


def test_confirmation_rate_counts_corrections_as_not_confirmed() -> None:
    assert confirmation_rate({}) is None
    assert confirmation_rate({"thumbs_up": 3, "thumbs_down": 0, "correction": 1}) == 0.75
    assert "no feedback yet" in stats_text({})


SCOPES_BY_METHOD = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "files_upload_v2": {"files:write"},
    "usergroups_users_list": {"usergroups:read"},
    "conversations_history": {"channels:history", "groups:history"},
    "views_open": set(),
    "views_publish": set(),
    "views_update": set(),
}
"""Web API methods and the bot scopes they need (api.slack.com/methods); views need none."""


def test_the_app_manifest_asks_for_exactly_the_scopes_the_bot_uses() -> None:
    import re

    import yaml

    from bot.serving import PATH

    root = Path(__file__).resolve().parents[3]
    manifest = yaml.safe_load((root / "deploy" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}
    sources = [*(root / "bot").glob("*.py"), *(root / "aetherius" / "cli").glob("slack*.py")]
    called = {m for p in sources for m in re.findall(r"\.([a-z]+_[a-zA-Z_0-9]+)\(", p.read_text())}
    families = ("chat", "files", "usergroups", "conversations", "views", "reactions", "users")
    web_api = {m for m in called if m.split("_")[0] in families}
    assert web_api <= set(SCOPES_BY_METHOD), f"add the scope of {sorted(web_api - set(SCOPES_BY_METHOD))}"
    needed = set().union(*(SCOPES_BY_METHOD[m] for m in web_api)) | {"commands", "reactions:read"}  # /aeth, events
    assert sorted(scopes["bot"]) == sorted(needed)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "reaction_added", "reaction_removed"
    }  # fmt: skip
    urls = [manifest["settings"]["interactivity"]["request_url"], manifest["features"]["slash_commands"][0]["url"]]
    assert all(url.endswith(PATH) for url in urls)


def test_the_console_shows_the_same_thread_content_as_slack() -> None:
    import io
    import json

    from rich.console import Console

    from aetherius.diagnoses import Diagnosis, Recommendation, SimilarCase
    from bot.blocks import parent_blocks, reply_blocks
    from bot.console import render_thread
    from bot.threads import build_thread

    diagnosis = Diagnosis(
        category="image_pull", confidence=0.8, summary="tag v9 does not exist", subject="shop/api-1",
        evidence=["ErrImagePull: manifest unknown"],
        similar_cases=[SimilarCase(id="c1", title="Deleted tag", category="image_pull", similarity=0.9, fix="retag")],
        recommendations=[Recommendation(action="pin_image", title="Pin the last good tag", risk="low", confidence=0.7)],
    )  # fmt: skip
    thread = build_thread(diagnosis, cluster="prod", workload="Deployment/api")
    out = io.StringIO()
    render_thread(thread, Console(file=out, width=200, color_system=None))
    slack = json.dumps([parent_blocks(thread)] + [reply_blocks(r, "1") for r in thread.replies], ensure_ascii=False)
    for text in [
        thread.summary,
        *(r.title for r in thread.replies),
        *(line for r in thread.replies for line in r.lines),
    ]:
        assert text in out.getvalue() and text in slack.replace("\\n", "\n"), text
