"""Image pull failures: the kubelet cannot get the image, whatever the runtime calls it."""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules import patterns as p
from knowledge.rules.base import PULL_REASONS, event_evidence, finding, quote, subject_events


def pull_error_kind(text: str, reason: str) -> str:
    if reason == "ErrImageNeverPull" or "pull policy of Never" in text:
        return "never_pull"
    if reason == "InvalidImageName" or "invalid reference format" in text:
        return "invalid_name"
    for kind, pattern in (
        ("platform", p.PULL_PLATFORM),
        ("rate_limited", p.PULL_RATE),
        ("tls", p.PULL_TLS),
        ("dns", p.DNS),
        ("unauthorized", p.PULL_AUTH),
        ("not_found", p.PULL_NOT_FOUND),
        ("network", p.PULL_NETWORK),
    ):
        if pattern.search(text):
            return kind
    return "unknown"


def image_cannot_be_pulled(sig: Signals) -> list[Finding]:
    failing = [c for c in sig.containers if c.state == "waiting" and c.reason in PULL_REASONS]
    pull_events = [
        e
        for e in subject_events(sig, "Failed", "ErrImageNeverPull", "InspectFailed", "BackOff")
        if "pull" in e.message.lower() or "image" in e.message.lower()
    ]
    if not failing and not any(c.state == "waiting" and c.reason in ("", "ContainerCreating") for c in sig.containers):
        return []
    if not failing and not any(e.type == "Warning" for e in pull_events):
        return []
    detail = max(
        (e for e in pull_events if "rpc error" in e.message or "pull" in e.message.lower()),
        key=lambda e: len(e.message),
        default=None,
    )
    text = " ".join([*(c.message for c in failing), *(e.message for e in pull_events)])
    reason = failing[0].reason if failing else "ErrImagePull"
    container = failing[0] if failing else None
    kind = pull_error_kind(text, reason)
    evidence = [f"container {c.name}: waiting {c.reason}: {quote(c.message)}" for c in failing]
    if detail is not None:
        evidence.append(event_evidence(detail))
    if container is not None and container.image_pull_policy:
        evidence.append(f"image {container.image} with imagePullPolicy {container.image_pull_policy}")
    weight = 0.95 if failing else 0.7
    return [
        finding(
            "image_cannot_be_pulled",
            "image_pull",
            weight,
            evidence,
            container=container and container.name,
            image=container.image if container else None,
            pull_error=kind,
            node=sig.node_name or None,
        )
    ]
