"""NetworkPolicies as the API documents them, and the rule that blames one for a pod cut off from its database."""

from __future__ import annotations

from typing import Any

from knowledge.loading import to_snapshot
from knowledge.netpolicy import describe_egress, selecting_policies, selector_matches
from knowledge.rules import evaluate
from knowledge.signals import extract
from tests import builders as b

LABELS = {"app": "statement-api", "tier": "backend"}
DNS_ONLY = [
    {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
]


def policy(name: str = "deny-egress", *, namespace: str = "shop", created: str = "2025-03-02T10:00:00Z",
           **spec: Any) -> dict[str, Any]:  # fmt: skip
    meta = {"name": name, "namespace": namespace, "creationTimestamp": created}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def labelled_pod(**extra: Any) -> dict[str, Any]:
    pod = b.pod(**extra)
    pod["metadata"]["labels"] = dict(LABELS)
    return pod


def test_an_empty_selector_selects_every_pod_and_match_labels_must_all_match() -> None:
    assert selector_matches({}, LABELS)
    assert selector_matches({"matchLabels": {"app": "statement-api"}}, LABELS)
    assert not selector_matches({"matchLabels": {"app": "statement-api", "tier": "frontend"}}, LABELS)


def test_match_expressions_follow_the_four_operators() -> None:
    def expr(operator: str, *values: str) -> dict[str, Any]:
        return {"matchExpressions": [{"key": "tier", "operator": operator, "values": list(values)}]}

    assert selector_matches(expr("In", "backend", "worker"), LABELS)
    assert not selector_matches(expr("NotIn", "backend"), LABELS)
    assert selector_matches(expr("Exists"), LABELS) and not selector_matches(expr("DoesNotExist"), LABELS)
    assert not selector_matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, LABELS)


def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_exist() -> None:
    pod = labelled_pod()
    ingress_only = policy("ingress", podSelector={}, ingress=[{}])
    with_egress = policy("egress", podSelector={}, egress=DNS_ONLY)
    deny_all = policy("deny", podSelector={}, policyTypes=["Egress"])
    found = {p.name: p for p in selecting_policies(pod, [ingress_only, with_egress, deny_all], None)}
    assert (found["ingress"].egress, found["egress"].egress, found["deny"].egress) == (False, True, True)
    assert found["deny"].egress_allows == ["nothing"]
    assert found["egress"].egress_allows == ["UDP/53, TCP/53 to namespace kubernetes.io/metadata.name=kube-system"]


def test_policies_of_another_namespace_or_other_pods_do_not_select_the_pod() -> None:
    pod = labelled_pod()
    elsewhere = policy("other-ns", namespace="payments", podSelector={}, policyTypes=["Egress"])
    others = policy("others", podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Egress"])
    assert selecting_policies(pod, [elsewhere, others], None) == []


def test_egress_rules_are_described_with_ports_and_destinations() -> None:
    rules = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}, {}]
    assert describe_egress(rules) == ["TCP/443 to 0.0.0.0/0 except 10.0.0.0/8", "any port to anywhere"]


DB_TIMEOUTS = "\n".join(
    f'time=2025-03-02T10:1{i}:00Z level=error msg="dial tcp 10.96.40.12:5432: i/o timeout" db=orders-db'
    for i in range(4)
)


def _cut_off(*others: dict[str, Any], logs: str = DB_TIMEOUTS) -> list[Any]:
    pod = labelled_pod(statuses=[b.running("api", ready=False)])
    doc = b.snapshot(pod, *others, logs=[b.log(logs, previous=False)])
    return [f for f in evaluate(extract(to_snapshot(doc))) if f.rule == "egress_blocked_by_policy"]


def test_a_new_egress_policy_and_a_pod_timing_out_on_its_database_name_the_policy() -> None:
    [found] = _cut_off(policy(podSelector={}, policyTypes=["Egress"], egress=DNS_ONLY))
    assert found.category == "network" and found.weight >= 0.85
    assert found.facts["network_policy"] == "deny-egress"
    assert "created 15 min before the capture" in found.evidence[0] and "UDP/53" in found.evidence[0]


def test_an_old_policy_counts_for_less_and_a_policy_alone_or_an_ingress_policy_for_nothing() -> None:
    [old] = _cut_off(policy(created="2025-02-01T00:00:00Z", podSelector={}, policyTypes=["Egress"]))
    assert old.weight < 0.85
    assert _cut_off(policy(podSelector={}, policyTypes=["Egress"]), logs="level=info msg=serving") == []
    assert _cut_off(policy(podSelector={}, policyTypes=["Ingress"], ingress=[{}])) == []


def test_timeouts_that_recovered_are_not_blamed_on_a_policy() -> None:
    recovered = DB_TIMEOUTS + '\nlevel=info msg="connection established to orders-db"'
    assert _cut_off(policy(podSelector={}, policyTypes=["Egress"]), logs=recovered) == []
