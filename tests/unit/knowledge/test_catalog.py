"""The recommendation catalog computes its parameters from the incident, and every remedy can be undone.

Each test builds a small snapshot by hand (Signals + the findings a rule would emit) and checks what a human
would check before pressing Approve: the numbers, the names in the command, the rollback and the risk.
"""

from __future__ import annotations

import re
from typing import Any

from aetherius.diagnoses import Recommendation
from aetherius.signals import Claim, EnvReference, Owner, Signals
from aetherius.taxonomy import KNOWN_CATEGORIES
from knowledge.catalog import actions_for, all_actions, recommend
from knowledge.catalog.actions import TITLE_MAX
from knowledge.catalog.context import build_context
from tests.unit.knowledge.catalog_support import GI, LIVENESS, MI, api, finding, recs, signals

# --- properties of the whole catalog --------------------------------------------------------------------------------


OWNER_SHAPES: dict[str, list[Owner]] = {
    "deployment": [
        Owner("ReplicaSet", f"{'x' * 60}-7d9f8c6b5", revision="3", previous_images=["a/b:1"]),
        Owner("Deployment", "x" * 60, replicas=2, ready_replicas=1),
    ],
    "statefulset": [Owner("StatefulSet", "db", replicas=3, ready_replicas=2)],
    "cronjob": [Owner("Job", "report-28934760"), Owner("CronJob", "report")],
    "job": [Owner("Job", "migrate")],
    "pod": [],
}


def rich_signals(shape: str = "deployment") -> Signals:
    long = "x" * 60
    container = api(
        name=f"api-{long}",
        memory_peak=500 * MI,
        fs_usage_peak=GI,
        throttle_ratio=0.6,
        cpu_usage_cores=0.45,
        probes=[LIVENESS],
        env={"DB_PASSWORD": "hunter2-s3cr3t", "WORKERS": "64"},
        env_refs=[EnvReference("Secret", "db-creds", "password")],
    )
    return signals(
        container,
        claims=[Claim("data-cart", "Bound", "gp3", "10Gi", 0.96)],
        owners=OWNER_SHAPES[shape],
    )


RICH_FACTS: dict[str, Any] = {
    "exit_code": 1,
    "mechanism": "app_oom",
    "node_oom": True,
    "image": "ghcr.io/acme/cart:1.5.0",
    "pull_error": "unauthorized",
    "throttle_ratio": 0.6,
    "cpu_limit_cores": 0.5,
    "host": "db.shop.svc",
    "port": "5432",
    "dns": True,
    "claim": "data-cart",
    "used_ratio": 0.96,
    "evicted_resource": "nodefs",
    "node": "worker-1",
    "missing_kind": "Secret",
    "missing_name": "db-creds",
    "verb": "list",
    "resource": "nodes",
    "probe": "liveness",
    "service_account": "system:serviceaccount:shop:cart-api",
    "scheduling_reason": "volume_zone",
    "multi_attach": True,
}


def every_plan() -> list[tuple[str, Recommendation]]:
    """Every action, for each of its categories, against each kind of workload (patchable or not)."""
    out = []
    for shape in OWNER_SHAPES:
        sig = rich_signals(shape)
        for entry in all_actions():
            for category in entry.categories:
                ctx = build_context(category, [finding(category, **RICH_FACTS)], sig)
                out.append((f"{entry.id}@{shape}", entry.recommendation(entry.plan(ctx), 0.9)))
    return out


def test_catalog_has_at_least_thirty_actions_across_all_families() -> None:
    catalog = all_actions()
    assert len(catalog) >= 32
    assert len({a.id for a in catalog}) == len(catalog)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]+", a.id) for a in catalog)
    for category in KNOWN_CATEGORIES:
        assert len(actions_for(category)) >= 2, category
    assert [a.id for a in actions_for("unknown")] == ["gather_more_evidence"]


def test_every_action_has_steps_commands_rollback_and_a_duration() -> None:
    for action_id, rec in every_plan():
        assert rec.steps and rec.commands and rec.rollback, action_id
        assert rec.duration_s > 0, action_id
        assert all("kubectl" in c for c in rec.commands), action_id


def test_high_risk_actions_never_run_unattended() -> None:
    assert all(not a.unattended for a in all_actions() if a.risk != "low")
    for action_id, rec in every_plan():
        assert not (rec.unattended and rec.risk != "low"), action_id
    never = {
        "grant_rbac_role",
        "use_dedicated_service_account",
        "rollback_to_previous_image",
        "fix_image_reference",
        "expand_pvc",
        "cordon_and_drain_node",
        "release_stale_attachment",
        "create_missing_config",
    }
    assert not any(a.unattended for a in all_actions() if a.id in never)


def test_titles_fit_a_slack_button_context_even_with_long_names() -> None:
    for action_id, rec in every_plan():
        assert 0 < len(rec.title) <= TITLE_MAX, (action_id, rec.title)


def test_no_recommendation_ever_contains_an_environment_value() -> None:
    for action_id, rec in every_plan():
        text = str(rec.model_dump())
        assert "hunter2" not in text and "'64'" not in text, action_id


def test_confidence_is_the_diagnosis_confidence_times_the_fit_best_first() -> None:
    result = recs(
        "oom_killed", signals(api(memory_peak=500 * MI)), finding("oom_killed", container="api"), confidence=0.8
    )
    confidences = [r.confidence for r in result]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 < c <= 0.8 for c in confidences)
    assert len(recommend("oom_killed", [finding("oom_killed")], signals(), 0.8, limit=2)) == 2
    assert recommend("oom_killed", [finding("oom_killed")], signals(), 0.8, limit=0) == []
