"""Causes that sit in another object than the failing-looking pod: the owner's events, a sidecar's log."""

from __future__ import annotations

from typing import Any

from knowledge.decision import decide
from knowledge.loading import to_snapshot
from knowledge.rules import evaluate
from knowledge.signals import extract
from tests import builders as b

QUOTA = (
    'Error creating: pods "api-5c8d9f7b6-q7x2m" is forbidden: exceeded quota: team-quota, '
    "requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi"
)
DENIED = (
    "E0612 09:30:{second:02d}.270802 1 proxy.go:73] Unable to authenticate the request due to an error: "
    'tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:shop:api" cannot create '
    'resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope'
)


def owned_by_deployment(*objects: dict[str, Any], logs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    pod = b.pod(statuses=[b.running()])
    replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "api-7d9f8c6b5", "namespace": "shop",
                   "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "controller": True}]}}  # fmt: skip
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}}
    return b.snapshot(pod, replica_set, deployment, *objects, logs=logs or [])


def rs_event(reason: str, message: str, replica_set: str) -> dict[str, Any]:
    event = b.event(reason, message, count=9)
    event["involvedObject"] = {"kind": "ReplicaSet", "name": replica_set, "namespace": "shop"}
    event["type"] = "Warning"
    return event


def verdict(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    findings = evaluate(extract(to_snapshot(doc)))
    category = decide(findings, []).category
    facts: dict[str, Any] = {}
    for f in findings:
        if f.category == category:
            facts.update(f.facts)
    return category, facts


def test_a_rollout_refused_by_a_quota_is_scheduling_even_though_the_old_pod_runs() -> None:
    category, facts = verdict(owned_by_deployment(rs_event("FailedCreate", QUOTA, "api-5c8d9f7b6")))
    assert category == "scheduling"
    assert facts["quota"] == "team-quota" and facts["controller"] == "ReplicaSet/api-5c8d9f7b6"


def test_events_of_a_replicaset_of_another_deployment_are_ignored() -> None:
    category, _ = verdict(owned_by_deployment(rs_event("FailedCreate", QUOTA, "billing-5c8d9f7b6")))
    assert category == "unknown"


def test_a_pod_security_refusal_of_the_new_pods_is_configuration() -> None:
    message = 'Error creating: pods "api-5c8d9f7b6-q7x2m" is forbidden: violates PodSecurity "restricted:latest"'
    category, _ = verdict(owned_by_deployment(rs_event("FailedCreate", message, "api-5c8d9f7b6")))
    assert category == "config_error"


def test_a_ready_sidecar_denied_by_the_api_server_again_and_again_is_rbac() -> None:
    pod = b.pod(containers=[b.container("api"), b.container("proxy")], statuses=[b.running("api"), b.running("proxy")])
    doc = b.snapshot(
        pod,
        logs=[b.log("\n".join(DENIED.format(second=s) for s in range(0, 60, 10)), container="proxy", previous=False)],
    )
    category, facts = verdict(doc)
    assert category == "rbac_denied"
    assert facts["resource"] == "tokenreviews"


def test_a_single_denial_in_a_ready_container_is_not_an_incident() -> None:
    pod = b.pod(containers=[b.container("api"), b.container("proxy")], statuses=[b.running("api"), b.running("proxy")])
    doc = b.snapshot(pod, logs=[b.log(DENIED.format(second=1), container="proxy", previous=False)])
    assert verdict(doc)[0] == "unknown"


def init_waiting(log_text: str, started: str = "2025-03-02T09:00:00Z") -> dict[str, Any]:
    init = {"name": "wait-for-db", "ready": False, "restartCount": 0, "state": {"running": {"startedAt": started}}}
    app = {"name": "api", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    pod = b.pod(
        phase="Pending",
        init_containers=[b.container("wait-for-db")],
        init_statuses=[init],
        statuses=[app],
    )
    return b.snapshot(pod, logs=[b.log(log_text, container="wait-for-db", previous=False)])


def test_an_init_container_waiting_for_a_dependency_for_long_is_network_naming_the_target() -> None:
    category, facts = verdict(init_waiting("\n".join(["waiting for orders-db:5432"] * 12)))
    assert category == "network"
    assert (facts["host"], facts["port"], facts["container"]) == ("orders-db", 5432, "wait-for-db")


def test_an_init_container_that_just_started_waiting_is_not_an_incident_yet() -> None:
    doc = init_waiting("\n".join(["waiting for orders-db:5432"] * 12), started="2025-03-02T10:14:00Z")
    assert verdict(doc)[0] != "network"


def test_an_init_container_doing_varied_work_is_not_waiting_for_anything() -> None:
    text = "\n".join(f"migrating table {name}" for name in ("users", "orders", "items", "carts", "payments", "audit"))
    assert verdict(init_waiting(text))[0] != "network"


def test_a_panic_whose_message_is_a_refused_connection_is_network_not_a_crash() -> None:
    text = "\n".join(
        [
            "2024-09-24T08:00:06Z WARN warmup attempt 1/3 failed: tcp connect error: Connection refused (os error 111)",
            "2024-09-24T08:00:09Z WARN warmup attempt 2/3 failed: tcp connect error: Connection refused (os error 111)",
            "thread 'main' panicked at src/main.rs:57:10:",
            'warmup failed: reqwest::Error { kind: Request, url: "http://prices.shop.svc:8080/v1", source: '
            'ConnectError("tcp connect error", Os { code: 111, kind: ConnectionRefused }) }',
        ]
    )
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=101)]), logs=[b.log(text)])
    assert verdict(doc)[0] == "network"


def test_the_waited_for_target_is_the_host_not_a_timestamp() -> None:
    lines = [f"2025-03-02T10:{m:02d}:00Z waiting for 10.0.4.7:3306" for m in range(12)]
    _, facts = verdict(init_waiting("\n".join(lines)))
    assert (facts["host"], facts["port"]) == ("10.0.4.7", 3306)
