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
