"""Rule scores + similar-case votes → one category, a calibrated confidence and the runners-up.

Rules carry the decision; past cases break ties and nudge, never overrule strong evidence. Confidence falls
with the margin to the runner-up, so a close call reads as one. Below ``unknown_below`` we say "unknown":
a confident wrong answer costs an on-call engineer more than an honest one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from aetherius.diagnoses import Alternative, Finding, SimilarCase
from aetherius.taxonomy import Category

CASE_WEIGHT = 0.15
"""How far similar cases can move a category's score (rule scores live in 0..1)."""
MIN_SIMILARITY = 0.45


@dataclass(frozen=True)
class Decision:
    category: Category
    confidence: float
    alternatives: list[Alternative]
    scores: dict[Category, float]


def rule_scores(findings: list[Finding]) -> dict[Category, float]:
    """Noisy-OR per category: independent pieces of evidence reinforce each other without exceeding 1."""
    scores: dict[Category, float] = defaultdict(float)
    for f in findings:
        scores[f.category] = 1 - (1 - scores[f.category]) * (1 - f.weight)
    return dict(scores)


def case_votes(similar: list[SimilarCase]) -> dict[Category, float]:
    """Similarity-weighted share of the close cases per category (0..1)."""
    votes: dict[Category, float] = defaultdict(float)
    for case in similar:
        if case.similarity >= MIN_SIMILARITY:
            votes[case.category] += case.similarity - MIN_SIMILARITY + 0.05
    total = sum(votes.values())
    return {c: v / total for c, v in votes.items()} if total else {}


def decide(findings: list[Finding], similar: list[SimilarCase], unknown_below: float = 0.35) -> Decision:
    rules = rule_scores(findings)
    votes = case_votes(similar)
    best_failure = max((v for c, v in rules.items() if c != "unknown"), default=0.0)
    scores: dict[Category, float] = {}
    for category in set(rules) | set(votes):
        rule = rules.get(category, 0.0)
        if category == "unknown" and best_failure >= 0.7:
            rule *= 0.5  # "looks healthy" does not outvote a strong failure mechanism
        nudge = CASE_WEIGHT * votes.get(category, 0.0) * (1.0 if rule > 0 else 0.5)
        scores[category] = min(1.0, rule + nudge)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked:
        return Decision("unknown", 0.5, [], {})
    top, top_score = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = top_score * (1 - 0.5 * second / top_score) if top_score > 0 else 0.0
    if top != "unknown" and (top_score < unknown_below or confidence < unknown_below * 0.75):
        alternatives = [Alternative(category=c, confidence=round(s * 0.5, 3)) for c, s in ranked[:3] if s >= 0.1]
        return Decision("unknown", round(max(0.3, 0.6 - top_score), 3), alternatives, scores)
    if top == "unknown":  # won on case votes or weak "looks healthy" signs: as sure as the low-score path says
        confidence = max(confidence, 0.6 - second, 0.3)
    confidence = min(0.99, confidence)
    runners = [(c, s) for c, s in ranked[1:4] if s >= 0.1]
    mass = sum(s for _, s in runners)
    # The runners-up share what the winner leaves, and none reads as surer than the winner: a close call shows as
    # 45% vs 39%, never as 45% vs 55%.
    alternatives = [
        Alternative(category=c, confidence=round(min((1 - confidence) * s / mass, confidence * s / top_score), 3))
        for c, s in runners
    ]
    return Decision(top, round(confidence, 3), alternatives, scores)
