"""RBAC and scheduling: least-privilege grants and placement fixes computed from the refusal."""

from __future__ import annotations

from typing import Any

from aetherius.diagnoses import Finding
from aetherius.signals import LogLine
from tests.unit.knowledge.catalog_support import GI, api, by_id, finding, first, recs, signals

# --- rbac ----------------------------------------------------------------------------------------------------------


def denied(**facts: Any) -> Finding:
    base = {
        "service_account": "system:serviceaccount:apps:cart-api",
        "verb": "get",
        "resource": "secrets",
        "api_group": "",
        "namespace": "apps",
        "mechanism": "rbac",
    }
    return finding("rbac_denied", "process_exits:rbac", **(base | facts))


def test_rbac_grant_is_least_privilege_role_for_the_denied_verb_and_resource() -> None:
    rec = first("rbac_denied", signals(namespace="apps"), denied())
    assert rec.action == "grant_rbac_role" and rec.risk == "high" and not rec.unattended
    assert rec.commands[:2] == [
        "kubectl -n apps create role cart-api-get-secrets --verb=get --resource=secrets",
        "kubectl -n apps create rolebinding cart-api-get-secrets --role=cart-api-get-secrets "
        "--serviceaccount=apps:cart-api",
    ]
    assert rec.rollback == [
        "kubectl -n apps delete rolebinding cart-api-get-secrets",
        "kubectl -n apps delete role cart-api-get-secrets",
    ]
    assert rec.params["role_kind"] == "Role" and rec.params["verb"] == "get"


def test_cluster_scoped_resources_get_a_clusterrole() -> None:
    rec = first("rbac_denied", signals(), denied(verb="list", resource="nodes", namespace=None))
    assert rec.commands[:2] == [
        "kubectl create clusterrole apps-cart-api-list-nodes --verb=list --resource=nodes",
        "kubectl create clusterrolebinding apps-cart-api-list-nodes --clusterrole=apps-cart-api-list-nodes "
        "--serviceaccount=apps:cart-api",
    ]
    assert rec.params["scope"] == "cluster"


def test_a_cluster_wide_list_of_a_namespaced_resource_gets_a_clusterrole() -> None:
    fact = denied(verb="list", resource="pods", namespace=None)
    fact.evidence.append(
        'log: User "system:serviceaccount:apps:cart-api" cannot list resource "pods" at the cluster scope'
    )
    rec = first("rbac_denied", signals(), fact)
    assert rec.params["role_kind"] == "ClusterRole"


def test_api_group_and_subresource_are_qualified_for_kubectl() -> None:
    rec = first("rbac_denied", signals(), denied(verb="patch", resource="deployments/scale", api_group="apps"))
    assert "--verb=patch --resource=deployments.apps/scale" in rec.commands[0]
    assert rec.commands[2] == (
        "kubectl auth can-i patch deployments.apps --subresource=scale --as=system:serviceaccount:apps:cart-api -n apps"
    )


def test_a_denial_is_read_from_escaped_json_in_the_logs_when_the_rule_could_not() -> None:
    line = LogLine(
        "api",
        True,
        '{"msg":"failed: body={\\"message\\":\\"routes.route.openshift.io is forbidden: User '
        '\\"system:serviceaccount:apps:cart-api\\" cannot create resource \\"routes\\" in API group '
        '\\"route.openshift.io\\" in the namespace \\"preview-1\\"\\"}"}',
    )
    sig = signals(log_errors=[line])
    rec = first("rbac_denied", sig, finding("rbac_denied", container="api", mechanism="rbac"))
    assert rec.commands[0] == (
        "kubectl -n preview-1 create role cart-api-create-routes --verb=create --resource=routes.route.openshift.io"
    )


def test_a_plain_service_account_name_is_bound_in_the_pods_namespace() -> None:
    rec = first("rbac_denied", signals(), denied(service_account="cart-api", namespace="shop"))
    assert rec.commands[1].endswith("--serviceaccount=shop:cart-api")


def test_anonymous_users_are_never_granted_a_role() -> None:
    result = recs("rbac_denied", signals(), denied(service_account="system:anonymous", mechanism="api_unauthorized"))
    assert result[0].action == "restore_service_account_token"
    assert all(r.action != "grant_rbac_role" for r in result)


def test_secrets_across_the_cluster_are_flagged_sensitive() -> None:
    rec = by_id(
        "rbac_denied",
        signals(),
        "grant_rbac_role",
        denied(verb="list", resource="secrets", namespace=None, evidence=None),
    )
    assert rec.params["sensitive"] is True
    assert any(s.startswith("Sensitive") for s in rec.steps)


def test_a_pod_running_as_default_is_pointed_back_at_its_own_service_account() -> None:
    sig = signals(service_account="default", present_objects={"ServiceAccount/cart-api", "ServiceAccount/default"})
    rec = first("rbac_denied", sig, denied(service_account="system:serviceaccount:shop:default", namespace="shop"))
    assert rec.action == "use_dedicated_service_account"
    assert rec.commands[0] == "kubectl -n shop set serviceaccount deployment/cart-api cart-api"


# --- scheduling ----------------------------------------------------------------------------------------------------


def test_honest_requests_that_fit_nowhere_ask_for_node_capacity() -> None:
    sig = signals(
        api(state="unknown", restart_count=0, memory_request=6 * GI), phase="Pending", node_name="", node=None
    )
    rec = first("scheduling", sig, finding("scheduling", scheduling_reason="insufficient_memory"))
    assert rec.action == "add_node_capacity"
    assert rec.params["pod_requests"]["memory"] == "6Gi"


def test_over_requested_memory_is_lowered_from_measured_use() -> None:
    sig = signals(api(memory_request=4 * GI, memory_peak=GI, state="unknown"), phase="Pending")
    rec = first("scheduling", sig, finding("scheduling", scheduling_reason="insufficient_memory"))
    assert rec.action == "lower_resource_requests"
    assert rec.params["new_request"] == "1344Mi"  # 1Gi + 30%, in 16Mi steps
    assert rec.rollback == ["kubectl -n shop set resources deployment/cart-api -c api --requests=memory=4Gi"]


def test_custom_taint_gets_a_toleration_but_system_taints_do_not() -> None:
    message = (
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "3 node(s) had untolerated taint {dedicated: gpu}."
    )
    rec = first("scheduling", signals(), finding("scheduling", scheduling_reason="taint", evidence=[message]))
    assert rec.action == "add_toleration"
    assert rec.params["toleration"] == {"key": "dedicated", "operator": "Equal", "value": "gpu"}
    system = "0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."
    other = by_id(
        "scheduling", signals(), "add_toleration", finding("scheduling", scheduling_reason="taint", evidence=[system])
    )
    assert other.confidence < 0.1


def test_a_taint_on_one_node_beside_a_volume_zone_conflict_points_at_the_zone() -> None:
    message = (
        "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, "
        "3 node(s) had volume node affinity conflict."
    )
    fact = finding("scheduling", scheduling_reason="taint", claim="data-db-0", evidence=[message])
    result = recs("scheduling", signals(), fact)
    assert result[0].action == "move_to_volume_zone"
    toleration = next(r for r in result if r.action == "add_toleration")
    assert toleration.confidence < result[0].confidence / 2


def test_quota_refusal_raises_exactly_the_exceeded_resource() -> None:
    message = (
        'pods "cart-api-7d9f8c6b5-x2k4q" is forbidden: exceeded quota: compute, requested: '
        "requests.memory=2Gi, used: requests.memory=7Gi, limited: requests.memory=8Gi"
    )
    rec = first("scheduling", signals(), finding("scheduling", scheduling_reason="quota", evidence=[message]))
    assert rec.action == "raise_resource_quota"
    assert rec.params["new_hard"] == {"requests.memory": "9Gi"}
    assert (
        rec.commands[1] == "kubectl -n shop patch resourcequota compute --type=merge "
        """-p '{"spec":{"hard":{"requests.memory":"9Gi"}}}'"""
    )
    assert """'{"spec":{"hard":{"requests.memory":"8Gi"}}}'""" in rec.rollback[0]


def test_a_volume_in_another_zone_is_answered_with_the_volume_zone() -> None:
    fact = finding("scheduling", scheduling_reason="volume_zone", claim="data-cart")
    rec = first("scheduling", signals(), fact)
    assert rec.action == "move_to_volume_zone"
    assert rec.commands[0] == "PV=$(kubectl -n shop get pvc data-cart -o jsonpath='{.spec.volumeName}')"
