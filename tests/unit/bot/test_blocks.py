"""Block Kit rendering stays inside Slack's limits whatever the evidence looks like."""

from __future__ import annotations

from aetherius.diagnoses import Diagnosis, Recommendation
from bot.blocks import MAX_BUTTON_TEXT, MAX_HEADER, MAX_SECTION, MAX_VALUE, parent_blocks, reply_blocks
from bot.threads import build_thread


def huge_diagnosis() -> Diagnosis:
    rec = Recommendation(action="x" * 3000, title="T" * 200, risk="high", confidence=0.5, steps=["s" * 5000])
    return Diagnosis(
        category="crash_loop",
        confidence=0.7,
        summary="<!channel> " + "y" * 10_000,
        subject="shop/" + "p" * 400,
        evidence=["e" * 9000] * 30,
        recommendations=[rec],
    )


def test_every_text_and_button_respects_slack_limits() -> None:
    thread = build_thread(huge_diagnosis(), cluster="c", workload="Deployment/x")
    blocks = parent_blocks(thread)
    for reply in thread.replies:
        blocks += reply_blocks(reply, "42")
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT
                assert len(element["value"]) <= MAX_VALUE


def test_log_text_cannot_ping_the_channel() -> None:
    blocks = parent_blocks(build_thread(huge_diagnosis()))
    summary = blocks[-1]["text"]["text"]
    assert "<!channel>" not in summary and "&lt;!channel&gt;" in summary


def test_buttons_carry_the_incident_id_and_the_action() -> None:
    rec = Recommendation(action="raise_memory_limit", title="Raise", risk="medium", confidence=0.8)
    d = Diagnosis(category="oom_killed", confidence=0.9, summary="s", subject="a/b", recommendations=[rec])
    thread = build_thread(d)
    actions = [b for r in thread.replies for b in reply_blocks(r, "17") if b["type"] == "actions"]
    values = [e["value"] for a in actions for e in a["elements"]]
    assert "17:raise_memory_limit" in values


def test_a_summary_an_llm_worded_says_so_and_a_rule_summary_does_not() -> None:
    worded = Diagnosis(category="oom_killed", confidence=0.9, summary="It ran out of memory.", summary_by="llm:llama3")
    assert build_thread(worded).summary == "It ran out of memory. (worded by llama3 from the evidence below)"
    assert build_thread(worded.model_copy(update={"summary_by": "rules"})).summary == "It ran out of memory."
