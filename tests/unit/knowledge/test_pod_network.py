"""A pod whose network never comes up: the CNI plugin on its node is the cause, whatever words it uses."""

from __future__ import annotations

from typing import Any

from knowledge.catalog import recommend
from knowledge.decision import decide
from knowledge.loading import to_snapshot
from knowledge.rules import evaluate
from knowledge.signals import extract
from tests import builders as b

CALICO = (
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0f3a": '
    'plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: Unauthorized'
)
VPC_CNI = (
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "9be1": '
    'plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container'
)


def stuck_creating(message: str, count: int = 30) -> dict[str, Any]:
    return b.snapshot(
        b.pod(phase="Pending", statuses=[b.waiting("api", "ContainerCreating")]),
        b.event("FailedCreatePodSandBox", message, count=count),
    )


def diagnose(doc: dict[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
    signals = extract(to_snapshot(doc))
    findings = evaluate(signals)
    decision = decide(findings, [])
    facts: dict[str, Any] = {}
    for f in findings:
        if f.category == decision.category:
            facts.update(f.facts)
    actions = [r.action for r in recommend(decision.category, findings, signals, decision.confidence)]
    return decision.category, facts, actions


def test_a_cni_plugin_refused_by_the_api_server_is_network_not_rbac() -> None:
    category, facts, actions = diagnose(stuck_creating(CALICO))
    assert category == "network"
    assert (facts["cni_plugin"], facts["cni_problem"]) == ("calico", "cni_credentials")
    assert actions[0] == "check_cni_on_node"


def test_a_node_out_of_pod_addresses_is_network_with_the_address_problem_named() -> None:
    category, facts, actions = diagnose(stuck_creating(VPC_CNI))
    assert category == "network"
    assert (facts["cni_plugin"], facts["cni_problem"]) == ("aws-cni", "ip_exhaustion")
    assert actions[0] == "check_cni_on_node"


def test_a_sandbox_failure_that_is_not_about_networking_is_not_called_network() -> None:
    message = (
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to mount shm: no space left on device"
    )
    category, _, _ = diagnose(stuck_creating(message))
    assert category != "network"


def test_a_running_pod_with_an_old_sandbox_event_is_not_a_network_incident() -> None:
    doc = b.snapshot(b.pod(statuses=[b.running()]), b.event("FailedCreatePodSandBox", CALICO, count=2))
    _, facts, _ = diagnose(doc)
    assert "sandbox" not in facts
