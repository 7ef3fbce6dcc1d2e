"""An incident as the Slack thread it becomes: one parent message and its replies, as plain data.

Pure: the Block Kit renderer and the console renderer both draw from this, so ``make demo`` shows exactly the
content Slack will get.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aetherius.diagnoses import Diagnosis, Recommendation
from aetherius.taxonomy import TITLES

SEVERITY_BY_CATEGORY = {
    "oom_killed": "high", "crash_loop": "high", "image_pull": "high", "config_error": "high", "rbac_denied": "high",
    "network": "high", "volume_mount": "high", "scheduling": "medium", "disk_pressure": "high",
    "cpu_throttling": "medium", "probe_failure": "medium", "unknown": "info",
}  # fmt: skip


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    style: str = ""  # "primary" | "danger" | ""


@dataclass(frozen=True)
class Reply:
    title: str
    lines: list[str]
    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class Thread:
    header: str
    severity: str
    fields: dict[str, str]
    summary: str
    replies: list[Reply]


def _recommendation_reply(index: int, rec: Recommendation) -> Reply:
    lines = [
        f"risk *{rec.risk}* · confidence {rec.confidence:.0%} · ~{rec.duration_s}s"
        + (" · may run unattended" if rec.unattended else "")
    ]
    lines += [f"{n}. {step}" for n, step in enumerate(rec.steps, 1)]
    lines += [f"`$ {cmd}`" for cmd in rec.commands]
    if rec.rollback:
        lines.append("rollback: " + "; ".join(rec.rollback))
    value = f"{rec.action}"
    buttons = [
        Button("Approve", "approve", value, "primary"),
        Button("Dry-run", "dry_run", value),
        Button("Reject", "reject", value, "danger"),
    ]
    return Reply(f"{index}. {rec.title}", lines, buttons)


def build_thread(diagnosis: Diagnosis, *, cluster: str = "", workload: str = "") -> Thread:
    namespace, _, pod = diagnosis.subject.partition("/") if "/" in diagnosis.subject else ("", "", diagnosis.subject)
    fields = {
        "cluster": cluster or "-",
        "namespace": namespace or "-",
        "pod": pod,
        "workload": workload or "-",
        "category": f"{diagnosis.category} ({diagnosis.confidence:.0%})",
    }
    replies = [Reply("Evidence", [f"• {e}" for e in diagnosis.evidence] or ["• (none)"])]
    if diagnosis.alternatives:
        replies[0].lines.append(
            "also possible: " + ", ".join(f"{a.category} {a.confidence:.0%}" for a in diagnosis.alternatives)
        )
    if diagnosis.similar_cases:
        replies.append(
            Reply(
                "Similar past cases",
                [f"• {c.similarity:.2f} {c.title} ({c.category}) — fix: {c.fix}" for c in diagnosis.similar_cases[:3]],
            )
        )
    replies += [_recommendation_reply(i, r) for i, r in enumerate(diagnosis.recommendations, 1)]
    replies.append(
        Reply(
            "Was this right?",
            ["React :+1: or :-1: on the parent message, or pick the right cause."],
            [Button("Wrong cause?", "wrong_cause", diagnosis.category)],
        )
    )
    return Thread(
        header=f"{TITLES[diagnosis.category]}: {pod or diagnosis.subject}",
        severity=SEVERITY_BY_CATEGORY.get(diagnosis.category, "info"),
        fields=fields,
        summary=diagnosis.summary + _credit(diagnosis.summary_by),
        replies=replies,
    )


def _credit(summary_by: str) -> str:
    """Say when a model worded the summary: people should know which sentences a rule stands behind."""
    if not summary_by.startswith("llm:"):
        return ""
    return f" (worded by {summary_by.removeprefix('llm:')} from the evidence below)"
