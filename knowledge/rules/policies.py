"""A NetworkPolicy that restricts the pod's egress, and a pod whose logs say it cannot reach what it needs.

Either alone proves little: most namespaces of a hardened cluster have policies, and a dependency may be down on
its own. Together, and the more so when the policy is new, they are the usual story of "we locked down egress and
forgot the database": the cause sits in another object, and the policy is what to change.
"""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.signals import Policy, Signals
from knowledge.rules.base import finding, quote
from knowledge.rules.crashes import mechanism_facts, run_lines, score_mechanisms, to_loopback

NEW_POLICY_S = 6 * 3600.0
"""A policy created this shortly before the capture is a change that may have started the failures."""


def _age(policy: Policy) -> str:
    if policy.age_s is None:
        return ""
    minutes = policy.age_s / 60
    return f", created {minutes:.0f} min before the capture" if minutes < 120 else f", {minutes / 60:.0f} h old"


def egress_blocked_by_policy(sig: Signals) -> list[Finding]:
    restricting = [p for p in sig.network_policies if p.egress]
    if not restricting:
        return []
    policy = min(restricting, key=lambda p: p.age_s if p.age_s is not None else float("inf"))  # the newest
    new = policy.age_s is not None and 0 <= policy.age_s <= NEW_POLICY_S
    allows = "; ".join(policy.egress_allows) or "nothing"
    for c in sig.containers:
        scores = score_mechanisms(run_lines(sig, c), [])  # errors and the last lines: a later success counts
        for name in ("connect", "dns"):
            if name not in scores:
                continue
            category, score = scores[name]
            if score.hits < 2 or score.recovered or to_loopback(score.line):
                continue
            evidence = [
                f"NetworkPolicy {policy.name} selects this pod and restricts its egress{_age(policy)}; "
                f"it allows only: {quote(allows, 200)}",
                f"log ({c.name}): {quote(score.line, 300)}",
                f"{score.hits} {'connection' if name == 'connect' else 'DNS'} failures in the log",
            ]
            facts = mechanism_facts(name, score.line, c, None) | {"network_policy": policy.name}
            # The policy is the cause to act on: it leads the evidence (findings are quoted strongest first).
            return [finding("egress_blocked_by_policy", category, 0.85 if new else 0.65, evidence, **facts)]
    return []
