"""The recommendation catalog: remedies per failure family, planned against the incident at hand.

``recommend`` is what the diagnosis engine calls: every action registered for the category plans itself
against the snapshot, actions that do not fit the facts (fit 0) drop out, the rest are ranked best fit first
(catalog order breaks ties, so each family lists its usual first fix first). A recommendation's confidence is
the diagnosis confidence × the action's fit. When nothing fits, the answer is to gather more evidence.
"""

from __future__ import annotations

from aetherius.diagnoses import Finding, Recommendation
from aetherius.signals import Signals
from aetherius.taxonomy import CATEGORIES, Category
from knowledge.catalog import (
    appconfig,
    common,
    config,
    cpu,
    crashes,
    disk,
    identity,
    images,
    memory,
    network,
    nodes,
    placement,
    podnetwork,
    probe_endpoints,
    probes,
    rbac,
    runtimes,
    scheduling,
    security,
    volumes,
)
from knowledge.catalog.actions import Action, Plan
from knowledge.catalog.context import Context, build_context

__all__ = ["Action", "Context", "Plan", "actions_for", "all_actions", "recommend"]

_FAMILIES = (memory, runtimes, crashes, images, cpu, network, podnetwork, disk, nodes, config, appconfig, security,
             rbac, identity, scheduling, placement, probes, probe_endpoints, volumes, common)  # fmt: skip
"""Modules in family order; within a module, actions in the order a human would try them (ties break on it)."""
_ACTIONS: tuple[Action, ...] = tuple(
    value
    for module in _FAMILIES
    for value in vars(module).values()
    if isinstance(value, Action) and value.planner.__module__ == module.__name__
)
_BY_CATEGORY: dict[Category, tuple[Action, ...]] = {
    category: tuple(a for a in _ACTIONS if category in a.categories) for category in CATEGORIES
}
_FALLBACK = common.gather_more_evidence


def all_actions() -> list[Action]:
    """The whole catalog, in ranking order within each family (for docs and tests)."""
    return list(_ACTIONS)


def actions_for(category: Category) -> list[Action]:
    return list(_BY_CATEGORY.get(category, ()))


def recommend(
    category: Category, findings: list[Finding], signals: Signals, confidence: float, limit: int = 3
) -> list[Recommendation]:
    if limit <= 0:
        return []
    ctx = build_context(category, findings, signals)
    planned: list[tuple[float, int, Action, Plan]] = []
    for order, entry in enumerate(_BY_CATEGORY.get(category, ())):
        plan = entry.plan(ctx)
        if plan.fit > 0:
            planned.append((plan.fit, order, entry, plan))
    if not planned:
        planned.append((1.0, 0, _FALLBACK, _FALLBACK.plan(ctx)))
    planned.sort(key=lambda item: (-item[0], item[1]))
    return [entry.recommendation(plan, confidence) for _, _, entry, plan in planned[:limit]]
