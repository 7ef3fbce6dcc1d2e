"""Builders shared by the catalog tests: a Signals object and the findings a rule would emit, by hand."""

from __future__ import annotations

from typing import Any

from aetherius.diagnoses import Finding, Recommendation
from aetherius.signals import Container, NodeInfo, Owner, Probe, Signals
from aetherius.taxonomy import Category
from knowledge.catalog import all_actions, recommend
from knowledge.catalog.context import build_context

MI = 2**20
GI = 2**30
POD = "cart-api-7d9f8c6b5-x2k4q"


def api(**overrides: Any) -> Container:
    fields: dict[str, Any] = {
        "name": "api",
        "image": "ghcr.io/acme/cart:1.5.0",
        "image_pull_policy": "IfNotPresent",
        "state": "waiting",
        "reason": "CrashLoopBackOff",
        "restart_count": 4,
        "memory_limit": 512 * MI,
        "memory_request": 256 * MI,
        "cpu_limit": 0.5,
        "cpu_request": 0.1,
    }
    return Container(**(fields | overrides))


def deployment(replicas: int = 3, ready: int = 2, revision: str = "7", history: list[str] | None = None) -> list[Owner]:
    images = ["docker.io/envoyproxy/envoy:v1.29", "ghcr.io/acme/cart:1.4.1", "ghcr.io/acme/cart:1.3.0"]
    return [
        Owner(
            "ReplicaSet",
            "cart-api-7d9f8c6b5",
            revision=revision,
            previous_images=images if history is None else history,
            replicas=replicas,
            ready_replicas=ready,
        ),
        Owner("Deployment", "cart-api", replicas=replicas, ready_replicas=ready),
    ]


def signals(*containers: Container, **overrides: Any) -> Signals:
    fields: dict[str, Any] = {
        "namespace": "shop",
        "pod": POD,
        "node_name": "worker-1",
        "service_account": "cart-api",
        "containers": list(containers) or [api()],
        "owners": deployment(),
        "node": NodeInfo("worker-1", allocatable={"memory": "15Gi", "cpu": "4"}),
    }
    return Signals(**(fields | overrides))


def finding(
    category: Category, rule: str = "t", weight: float = 0.9, evidence: list[str] | None = None, **facts: Any
) -> Finding:
    return Finding(rule=rule, category=category, weight=weight, evidence=evidence or [], facts=facts)


def recs(category: Category, sig: Signals, *findings: Finding, confidence: float = 0.9) -> list[Recommendation]:
    return recommend(category, list(findings), sig, confidence, limit=10)


def first(category: Category, sig: Signals, *findings: Finding) -> Recommendation:
    return recs(category, sig, *findings)[0]


def by_id(category: Category, sig: Signals, action: str, *findings: Finding) -> Recommendation:
    ctx = build_context(category, list(findings), sig)
    entry = next(a for a in all_actions() if a.id == action)
    return entry.recommendation(entry.plan(ctx), 0.9)


LIVENESS = Probe("liveness", "httpGet", path="/healthz", port="8080", timeout_s=1, period_s=10, failure_threshold=3)
