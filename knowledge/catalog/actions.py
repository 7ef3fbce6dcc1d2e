"""The catalog's vocabulary: an Action is a remedy that *plans* itself against one incident.

An action never runs anything. Its planner reads the snapshot (``Signals``) and the rule findings and returns a
Plan: how well it fits these facts, the parameters it computed, the human steps, the equivalent ``kubectl``
commands and how to undo them. Planners always return a plan (``fit == 0`` means "not for this incident"), so
the whole catalog can be rendered and tested without a matching incident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aetherius.diagnoses import Recommendation, Risk
from aetherius.taxonomy import Category
from knowledge.catalog.context import Context

TITLE_MAX = 75
"""Titles become Slack button-label context: longer ones are cut by Slack mid-word."""


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    fit: float
    """How well the action fits the facts, 0..1; the recommendation's confidence is diagnosis confidence × fit."""
    params: dict[str, Any]
    steps: list[str]
    commands: list[str]
    rollback: list[str]
    unattended: bool = True
    """This incident's own condition for running without a human (the action's ceiling still applies)."""
    duration_s: int | None = None


Planner = Callable[[Context], Plan]


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    categories: tuple[Category, ...]
    risk: Risk
    duration_s: int
    unattended: bool
    """May this action *ever* run without a human: only low-risk, reversible ones (diagnostics, a restart)."""
    summary: str
    planner: Planner = field(repr=False)
    needs_container: bool = False
    """Its commands name a container: without one (a snapshot with no container) it cannot apply."""

    def plan(self, ctx: Context) -> Plan:
        plan = self.planner(ctx)
        return replace(plan, fit=0.0) if self.needs_container and not ctx.container_name else plan

    def recommendation(self, plan: Plan, confidence: float) -> Recommendation:
        fit = min(max(plan.fit, 0.0), 1.0)
        return Recommendation(
            action=self.id,
            title=clip(plan.title),
            risk=self.risk,
            confidence=round(min(max(confidence, 0.0), 1.0) * fit, 3),
            params=plan.params,
            steps=plan.steps,
            commands=plan.commands,
            rollback=plan.rollback,
            duration_s=plan.duration_s or self.duration_s,
            unattended=self.unattended and plan.unattended and self.risk == "low",
        )


def action(
    id: str,
    categories: tuple[Category, ...],
    risk: Risk,
    duration_s: int,
    summary: str,
    *,
    unattended: bool = False,
    container: bool = False,
) -> Callable[[Planner], Action]:
    """Decorator turning a planner function into a catalog entry; unattended is opt-in and low-risk only,
    ``container`` marks actions whose commands target one container."""
    if unattended and risk != "low":
        raise ValueError(f"{id}: only low-risk actions may run unattended")

    def wrap(planner: Planner) -> Action:
        return Action(id, categories, risk, duration_s, unattended, summary, planner, container)

    return wrap


def clip(text: str, limit: int = TITLE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def read_only(ctx: Context) -> list[str]:
    """The rollback of a plan that changes nothing."""
    return [f"Nothing to undo: these commands only read from {ctx.namespace or 'the cluster'}."]
