"""What the rule tests ask of the rules: the category they decide on, the facts they pass to the catalog."""

from __future__ import annotations

from typing import Any

from aetherius.taxonomy import Category
from knowledge.decision import decide
from knowledge.loading import to_snapshot
from knowledge.rules import evaluate
from knowledge.signals import extract


def category_of(doc: dict[str, Any]) -> Category:
    findings = evaluate(extract(to_snapshot(doc)))
    return decide(findings, []).category


def facts_of(doc: dict[str, Any], category: Category) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for f in evaluate(extract(to_snapshot(doc))):
        if f.category == category:
            facts.update(f.facts)
    return facts
