"""Deciding: rules carry the answer, cases nudge, close calls read as close, and nothing convincing is unknown."""

from __future__ import annotations

from aetherius.diagnoses import Finding, SimilarCase
from knowledge.decision import case_votes, decide, rule_scores


def f(category: str, weight: float) -> Finding:
    return Finding(rule="t", category=category, weight=weight)  # type: ignore[arg-type]


def case(category: str, similarity: float) -> SimilarCase:
    return SimilarCase(id=f"c-{category}", title="t", category=category, similarity=similarity)  # type: ignore[arg-type]


def test_independent_evidence_reinforces_without_exceeding_one() -> None:
    scores = rule_scores([f("network", 0.6), f("network", 0.5)])
    assert abs(scores["network"] - 0.8) < 1e-9


def test_a_clear_finding_gives_a_confident_answer() -> None:
    decision = decide([f("oom_killed", 0.97)], [])
    assert decision.category == "oom_killed" and decision.confidence > 0.9


def test_a_close_call_is_less_confident_than_a_clear_one() -> None:
    clear = decide([f("config_error", 0.8)], [])
    close = decide([f("config_error", 0.8), f("crash_loop", 0.7)], [])
    assert close.category == "config_error"
    assert close.confidence < clear.confidence - 0.2


def test_weak_evidence_is_an_honest_unknown() -> None:
    decision = decide([f("crash_loop", 0.2)], [])
    assert decision.category == "unknown"
    assert decision.alternatives[0].category == "crash_loop"


def test_no_evidence_at_all_is_unknown() -> None:
    assert decide([], []).category == "unknown"


def test_similar_cases_break_a_tie_but_never_overrule_strong_rules() -> None:
    tie = decide([f("network", 0.6), f("crash_loop", 0.6)], [case("crash_loop", 0.9), case("crash_loop", 0.85)])
    assert tie.category == "crash_loop"
    strong = decide([f("rbac_denied", 0.9)], [case("network", 0.95)] * 5)
    assert strong.category == "rbac_denied"


def test_a_healthy_finding_does_not_outvote_a_strong_failure() -> None:
    decision = decide([f("unknown", 0.8), f("cpu_throttling", 0.9)], [])
    assert decision.category == "cpu_throttling"


def test_case_votes_ignore_dissimilar_cases() -> None:
    assert case_votes([case("network", 0.2)]) == {}


def test_alternatives_share_what_the_top_answer_leaves() -> None:
    decision = decide([f("volume_mount", 0.9), f("scheduling", 0.6), f("config_error", 0.3)], [])
    total = decision.confidence + sum(a.confidence for a in decision.alternatives)
    assert abs(total - 1.0) < 0.01
    assert [a.category for a in decision.alternatives] == ["scheduling", "config_error"]


def test_in_a_close_call_no_alternative_reads_as_surer_than_the_answer() -> None:
    findings = [f("network", 0.8), f("probe_failure", 0.7)]
    decision = decide(findings, [])
    assert decision.category == "network"
    assert all(a.confidence < decision.confidence for a in decision.alternatives)
    assert decision.alternatives[0].category == "probe_failure"


def test_an_unknown_carried_only_by_similar_cases_is_not_reported_as_two_percent_sure() -> None:
    decision = decide([], [case("unknown", 0.7), case("unknown", 0.6)])
    assert decision.category == "unknown"
    assert decision.confidence >= 0.3
