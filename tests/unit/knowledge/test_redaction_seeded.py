"""Redaction of a whole seeded snapshot: not one of 30+ secrets leaves, and the evidence stays."""

from __future__ import annotations

import json

from knowledge.redaction import redact_object, redact_text
from tests.unit.knowledge.redaction_fixtures import (
    DB_HOST,
    EVIDENCE,
    IMAGE,
    POD_IP,
    SEEDED_LOG,
    SEEDED_SECRETS,
    seeded_snapshot,
)

# --------------------------------------------------------------------------------------------------------------
# The whole-snapshot guarantee
# --------------------------------------------------------------------------------------------------------------


def test_seeded_snapshot_leaks_no_secret_and_keeps_its_evidence() -> None:
    snapshot = seeded_snapshot()
    raw = json.dumps(snapshot)
    assert len(set(SEEDED_SECRETS)) >= 25
    assert all(secret in raw for secret in SEEDED_SECRETS), "every seeded secret is really in the input"

    redacted = json.dumps(redact_object(snapshot))

    leaked = [secret for secret in SEEDED_SECRETS if secret in redacted]
    assert leaked == []
    lost = [evidence for evidence in EVIDENCE if evidence not in redacted]
    assert lost == []


def test_seeded_log_text_leaks_no_secret_and_keeps_its_evidence() -> None:
    redacted = redact_text(SEEDED_LOG)

    assert [secret for secret in SEEDED_SECRETS if secret in redacted] == []
    for evidence in (IMAGE.split("@")[0], POD_IP, DB_HOST, 'password authentication failed for user "orders"'):
        assert evidence in SEEDED_LOG and evidence in redacted
    assert "exit code 137 (OOMKilled)" in redacted
    assert "rate limiter: token bucket empty, retrying" in redacted


def test_redaction_is_idempotent() -> None:
    once = redact_text(SEEDED_LOG)
    assert redact_text(once) == once
    obj = redact_object(seeded_snapshot())
    assert redact_object(obj) == obj


def test_a_token_that_the_evidence_limit_cuts_in_half_is_redacted_before_the_cut() -> None:
    from knowledge.engine import DiagnosisEngine
    from knowledge.loading import to_snapshot
    from tests import builders as b
    from tests.unit.knowledge.redaction_fixtures import GITHUB_TOKEN

    message = 'Failed to pull image "registry.acme.io/shop/api:1.4": unauthorized: authentication required'
    while len(message) < 200:
        message += "; retrying"
    message += f" with token {GITHUB_TOKEN} from the build cache"
    assert message.index(GITHUB_TOKEN) < 220 < message.index(GITHUB_TOKEN) + len(GITHUB_TOKEN)
    pod = b.pod(statuses=[b.waiting(reason="ImagePullBackOff", message="Back-off pulling image")])
    doc = b.snapshot(pod, b.event("Failed", message, count=4))

    diagnosis = DiagnosisEngine().diagnose(to_snapshot(doc))

    assert diagnosis.category == "image_pull"
    shown = "\n".join([diagnosis.summary, diagnosis.signature, *diagnosis.evidence])
    assert GITHUB_TOKEN.removeprefix("ghp_")[:8] not in shown
    assert "ghp_[R" in shown  # the cut lands in the placeholder now, not in the token
