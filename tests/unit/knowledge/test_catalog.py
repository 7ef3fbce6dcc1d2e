"""The recommendation catalog computes its parameters from the incident, and every remedy can be undone.

Each test builds a small snapshot by hand (Signals + the findings a rule would emit) and checks what a human
would check before pressing Approve: the numbers, the names in the command, the rollback and the risk.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from aetherius.diagnoses import Finding, Recommendation
from aetherius.signals import Claim, Container, EnvReference, Event, LogLine, NodeInfo, Owner, Probe, Signals
from aetherius.taxonomy import CATEGORIES, KNOWN_CATEGORIES, Category
from knowledge.catalog import actions_for, all_actions, recommend
from knowledge.catalog.actions import TITLE_MAX
from knowledge.catalog.context import build_context
from knowledge.catalog.network import target

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


# --- memory -----------------------------------------------------------------------------------------------------


def test_memory_limit_is_raised_above_the_observed_peak_with_headroom() -> None:
    sig = signals(api(memory_peak=500 * MI))
    rec = first("oom_killed", sig, finding("oom_killed", "killed_for_memory", container="api", memory_peak=500 * MI))
    assert rec.action == "raise_memory_limit"
    assert rec.params["new_limit"] == "704Mi"  # 500Mi + 30% = 650Mi, rounded up to a 64Mi step
    assert rec.params["new_limit_bytes"] >= 1.3 * 500 * MI
    assert rec.params["current_limit"] == "512Mi"
    assert "kubectl -n shop set resources deployment/cart-api -c api --limits=memory=704Mi" in rec.commands
    assert rec.rollback == ["kubectl -n shop set resources deployment/cart-api -c api --limits=memory=512Mi"]


def test_memory_limit_without_usage_metrics_is_one_and_a_half_times_the_current_limit() -> None:
    rec = first("oom_killed", signals(api(memory_limit=GI)), finding("oom_killed", "killed_for_memory"))
    assert rec.params["new_limit"] == "1536Mi"
    assert "1.5" in rec.params["basis"]


def test_memory_limit_above_the_node_allocatable_is_flagged_and_less_confident() -> None:
    small = signals(api(memory_peak=500 * MI), node=NodeInfo("worker-1", allocatable={"memory": "600Mi"}))
    big = signals(api(memory_peak=500 * MI))
    fact = finding("oom_killed", "killed_for_memory")
    tight = by_id("oom_killed", small, "raise_memory_limit", fact)
    assert tight.confidence < by_id("oom_killed", big, "raise_memory_limit", fact).confidence
    assert any("allocatable" in s for s in tight.steps)


def test_a_limit_that_did_not_exist_is_removed_again_on_rollback() -> None:
    sig = signals(api(memory_limit=None, memory_peak=700 * MI), owners=[Owner("StatefulSet", "db", replicas=1)])
    rec = by_id("oom_killed", sig, "raise_memory_limit", finding("oom_killed", container="api"))
    assert rec.params["new_limit"] == "960Mi" and rec.params["current_limit"] is None
    assert rec.rollback == [
        "kubectl -n shop patch statefulset/db --type=strategic "
        """-p '{"spec":{"template":{"spec":{"containers":[{"name":"api","resources":{"limits":{"memory":null}}}]}}}}'"""
    ]


def test_node_level_oom_raises_the_request_not_the_limit() -> None:
    sig = signals(api(memory_peak=900 * MI, memory_request=256 * MI, memory_limit=2 * GI, state="running"))
    oom = finding("oom_killed", "node_oom_killer", container="api", node_oom=True, memory_peak=900 * MI)
    result = recs("oom_killed", sig, oom)
    assert result[0].action == "raise_memory_request"
    assert result[0].params["new_request"] == "960Mi"  # the peak, rounded up
    assert "kubectl -n shop set resources deployment/cart-api -c api --requests=memory=960Mi" in result[0].commands
    assert not any("--limits" in c for c in result[0].commands)
    limit = next(r for r in result if r.action == "raise_memory_limit")
    assert limit.confidence < result[0].confidence / 2


def test_a_request_raised_above_the_limit_lifts_the_limit_too() -> None:
    sig = signals(api(memory_peak=900 * MI, memory_request=256 * MI, memory_limit=512 * MI))
    rec = by_id("oom_killed", sig, "raise_memory_request", finding("oom_killed", node_oom=True))
    assert "--limits=memory=960Mi --requests=memory=960Mi" in rec.commands[0]


def test_java_out_of_memory_error_sizes_the_heap_to_the_limit() -> None:
    line = LogLine("api", True, 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "error")
    sig = signals(api(), log_errors=[line])
    rec = first("oom_killed", sig, finding("oom_killed", "process_exits:app_oom", container="api", mechanism="app_oom"))
    assert rec.action == "tune_runtime_heap"
    assert rec.params["variable"] == "JAVA_TOOL_OPTIONS"
    assert (
        rec.commands[0]
        == "kubectl -n shop set env deployment/cart-api -c api JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=75.0"
    )
    assert rec.rollback == ["kubectl -n shop set env deployment/cart-api -c api JAVA_TOOL_OPTIONS-"]


def test_node_heap_flag_is_three_quarters_of_the_limit() -> None:
    sig = signals(api(image="node:20-alpine", memory_limit=GI))
    rec = by_id("oom_killed", sig, "tune_runtime_heap", finding("oom_killed", mechanism="app_oom"))
    assert rec.params["value"] == "--max-old-space-size=768"


# --- crashes and rollbacks ---------------------------------------------------------------------------------------


def test_rollback_names_the_previous_image_from_replicaset_history() -> None:
    rec = first("crash_loop", signals(), finding("crash_loop", "process_exits:app_crash", container="api", exit_code=1))
    assert rec.action == "rollback_to_previous_image"
    assert rec.params["previous_image"] == "ghcr.io/acme/cart:1.4.1"  # the sidecar's envoy image is skipped
    assert "cart:1.4.1" in rec.title
    assert rec.commands[0] == "kubectl -n shop rollout undo deployment/cart-api --to-revision=6"
    assert rec.rollback == ["kubectl -n shop rollout undo deployment/cart-api --to-revision=7"]
    assert rec.unattended is False


def test_rollback_without_history_says_so_and_is_less_confident() -> None:
    fact = finding("crash_loop", container="api", exit_code=1)
    known = by_id("crash_loop", signals(), "rollback_to_previous_image", fact)
    unknown = by_id("crash_loop", signals(owners=deployment(history=[])), "rollback_to_previous_image", fact)
    assert unknown.params["previous_image"] is None
    assert "no previous image" in unknown.title
    assert unknown.confidence < known.confidence


def test_deployment_is_inferred_from_a_replicaset_name_when_the_deployment_is_not_in_the_snapshot() -> None:
    sig = signals(owners=deployment()[:1])
    rec = by_id("crash_loop", sig, "rollback_to_previous_image", finding("crash_loop", container="api"))
    assert rec.params["workload"] == "Deployment/cart-api" and rec.params["workload_inferred"] is True
    assert rec.commands[0].startswith("kubectl -n shop rollout undo deployment/cart-api")


def test_exit_127_offers_to_fix_the_command_and_explains_the_code() -> None:
    sig = signals(api(last_exit_code=127, command="/app/start.sh --password=hunter2"))
    result = recs("crash_loop", sig, finding("crash_loop", container="api", exit_code=127))
    fix = next(r for r in result if r.action == "fix_entrypoint")
    assert fix.confidence >= 0.8
    assert any('"command":null' in c for c in fix.commands)
    assert "hunter2" not in str(fix.model_dump())


# --- images -----------------------------------------------------------------------------------------------------


def test_image_not_found_goes_back_to_the_previous_tag_of_the_same_repository() -> None:
    fact = finding("image_pull", container="api", image="ghcr.io/acme/cart:1.5.0", pull_error="not_found")
    rec = first("image_pull", signals(), fact)
    assert rec.action == "fix_image_reference"
    assert rec.commands[0] == "kubectl -n shop set image deployment/cart-api api=ghcr.io/acme/cart:1.4.1"
    assert rec.rollback == ["kubectl -n shop set image deployment/cart-api api=ghcr.io/acme/cart:1.5.0"]


def test_unauthorized_pull_creates_a_pull_secret_without_credentials_in_the_command() -> None:
    fact = finding("image_pull", container="api", image="registry.acme.io:5000/team/cart:2", pull_error="unauthorized")
    rec = first("image_pull", signals(), fact)
    assert rec.action == "attach_image_pull_secret"
    assert rec.params["registry"] == "registry.acme.io:5000"
    create = rec.commands[0]
    assert create.startswith("kubectl -n shop create secret docker-registry registry-acme-io-5000-pull")
    assert '--docker-password="$REGISTRY_TOKEN"' in create
    assert any('"imagePullSecrets":[{"name":"registry-acme-io-5000-pull"}]' in c for c in rec.commands)
    assert "kubectl -n shop delete secret registry-acme-io-5000-pull" in rec.rollback


def test_containerd_resolve_reference_errors_are_read_for_their_real_cause() -> None:
    message = (
        'Failed to pull image "ghcr.io/acme/cart:1.5.0": failed to resolve reference "ghcr.io/acme/cart:1.5.0": '
        "failed to authorize: failed to fetch anonymous token: 401 Unauthorized"
    )
    sig = signals(events=[Event("Failed", message, "Warning")])
    rec = first("image_pull", sig, finding("image_pull", container="api", pull_error="dns"))
    assert rec.action == "attach_image_pull_secret" and rec.params["pull_error"] == "unauthorized"


def test_a_tag_removed_upstream_is_pinned_not_rolled_back() -> None:
    history = ["ghcr.io/acme/cart:1.5.0", "docker.io/envoyproxy/envoy:v1.29"]
    sig = signals(owners=deployment(history=history))
    rec = first("image_pull", sig, finding("image_pull", container="api", pull_error="not_found"))
    assert rec.action == "fix_image_reference"
    assert "removed upstream" in rec.title
    assert not any("rollout undo" in c for c in rec.commands)


def test_rate_limited_docker_hub_pull_goes_through_a_mirror() -> None:
    sig = signals(api(image="nginx:1.25"))
    rec = first(
        "image_pull", sig, finding("image_pull", container="api", image="nginx:1.25", pull_error="rate_limited")
    )
    assert rec.action == "use_registry_mirror"
    assert rec.params["mirror_image"] == "mirror.gcr.io/library/nginx:1.25"


def test_never_pull_policy_is_switched_to_if_not_present() -> None:
    sig = signals(api(image_pull_policy="Never"))
    rec = first("image_pull", sig, finding("image_pull", container="api", pull_error="never_pull"))
    assert rec.action == "allow_image_pull"
    assert '"containers":[{"name":"api","imagePullPolicy":"IfNotPresent"}]' in rec.commands[0]
    assert '"imagePullPolicy":"Never"' in rec.rollback[0]


# --- cpu ----------------------------------------------------------------------------------------------------------


def test_cpu_limit_is_raised_from_the_throttle_ratio() -> None:
    fact = finding("cpu_throttling", container="api", throttle_ratio=0.8, cpu_limit_cores=0.5, cpu_usage_cores=0.49)
    rec = first("cpu_throttling", signals(api(state="running")), fact)
    assert rec.action == "raise_cpu_limit"
    assert rec.params["new_limit"] == "900m"  # 500m × (1 + 0.8)
    assert "kubectl -n shop set resources deployment/cart-api -c api --limits=cpu=900m" in rec.commands
    assert rec.rollback == ["kubectl -n shop set resources deployment/cart-api -c api --limits=cpu=500m"]


def test_cpu_limit_follows_measured_use_when_it_exceeds_the_ratio_estimate() -> None:
    fact = finding("cpu_throttling", container="api", throttle_ratio=0.1, cpu_limit_cores=1.0, cpu_usage_cores=0.98)
    rec = by_id("cpu_throttling", signals(), "raise_cpu_limit", fact)
    assert rec.params["new_limit"] == "1300m"


def test_thread_pool_sized_for_the_node_is_aligned_to_the_limit_without_echoing_its_value() -> None:
    sig = signals(api(cpu_limit=2.0, env={"GOMAXPROCS": "48"}))
    rec = first("cpu_throttling", sig, finding("cpu_throttling", container="api", throttle_ratio=0.7))
    assert rec.action == "align_thread_count"
    assert rec.commands[0] == "kubectl -n shop set env deployment/cart-api -c api GOMAXPROCS=2"
    assert "48" not in str(rec.model_dump())


# --- network -------------------------------------------------------------------------------------------------------


def test_dns_failure_checks_coredns_and_resolves_the_host_from_the_namespace() -> None:
    fact = finding(
        "network",
        container="api",
        host="payments.example.com",
        port="443",
        dns=True,
        evidence=["log (api): getaddrinfo EAI_AGAIN payments.example.com"],
    )
    rec = first("network", signals(), fact)
    assert rec.action == "check_cluster_dns"
    assert any(
        c.endswith("-- nslookup payments.example.com") and c.startswith("kubectl -n shop run") for c in rec.commands
    )


def test_connection_timeout_to_a_service_checks_its_endpoints_first() -> None:
    fact = finding("network", container="api", host="orders.billing.svc.cluster.local", port="8080", dns=False)
    rec = first("network", signals(), fact)
    assert rec.action == "check_service_endpoints"
    assert "kubectl -n billing get endpointslices -l kubernetes.io/service-name=orders -o wide" in rec.commands
    assert rec.unattended is True


def test_a_dns_failure_seen_by_a_weaker_finding_still_counts() -> None:
    connect = finding("network", "process_exits:connect", 0.85, container="api", mechanism="connect", dns=False)
    dns = finding("network", "process_exits:dns", 0.8, container="api", mechanism="dns", dns=True)
    assert first("network", signals(), connect, dns).action == "check_cluster_dns"


def test_a_service_name_that_does_not_resolve_means_the_service_is_missing() -> None:
    fact = finding(
        "network",
        host="orders.billing.svc.cluster.local",
        dns=True,
        evidence=["lookup orders.billing.svc.cluster.local: no such host"],
    )
    assert first("network", signals(), fact).action == "check_service_endpoints"


@pytest.mark.parametrize(
    ("host", "service", "namespace"),
    [
        ("redis.cache", "redis", "cache"),
        ("db.shop.svc", "db", "shop"),
        ("api.example.com", "", ""),
        ("db", "db", "shop"),
    ],
)
def test_service_names_are_recognised_in_their_short_forms(host: str, service: str, namespace: str) -> None:
    t = target(build_context("network", [finding("network", host=host)], signals()))
    assert (t.service, t.service_namespace) == (service, namespace)


def test_a_bare_address_in_the_log_is_the_target_when_no_host_name_was_found() -> None:
    line = "log (api): giving up on redis after 20 attempts: Error: connect ETIMEDOUT 10.30.57.76:6379"
    rec = first("network", signals(), finding("network", container="api", dns=False, evidence=[line]))
    assert rec.action == "review_network_policies"
    assert rec.params["host"] == "10.30.57.76" and rec.params["port"] == "6379"
    assert rec.commands[-1].endswith("-- nc -zv -w 3 10.30.57.76 6379")


# --- disk ----------------------------------------------------------------------------------------------------------


def test_full_pvc_is_expanded_to_keep_use_under_seventy_percent() -> None:
    sig = signals(claims=[Claim("data-cart", "Bound", "gp3", "10Gi", 0.97)])
    rec = first(
        "disk_pressure", sig, finding("disk_pressure", "volume_nearly_full", claim="data-cart", used_ratio=0.97)
    )
    assert rec.action == "expand_pvc"
    assert rec.params["new_size"] == "15Gi"
    assert "kubectl get storageclass gp3 -o jsonpath='{.allowVolumeExpansion}'" in rec.commands
    assert (
        """kubectl -n shop patch pvc data-cart -p '{"spec":{"resources":{"requests":{"storage":"15Gi"}}}}'"""
        in rec.commands
    )
    assert "cannot shrink" in rec.rollback[0]


def test_ephemeral_storage_eviction_sets_a_limit_above_what_the_container_wrote() -> None:
    sig = signals(api(fs_usage_peak=3 * GI))
    rec = first(
        "disk_pressure", sig, finding("disk_pressure", "evicted_for_disk", evicted_resource="ephemeral-storage")
    )
    assert rec.action == "set_ephemeral_storage_limit"
    assert rec.params["new_limit"] == "4Gi" and rec.params["new_request"] == "3Gi"
    assert "--limits=ephemeral-storage=4Gi --requests=ephemeral-storage=3Gi" in rec.commands[0]


def test_a_pod_over_its_own_limit_is_resized_but_a_victim_of_node_pressure_cleans_the_node() -> None:
    own = "pod evicted: Pod ephemeral local storage usage exceeds the total limit of containers 2Gi."
    rec = first("disk_pressure", signals(api(fs_usage_peak=2 * GI)), finding("disk_pressure", evidence=[own]))
    assert rec.action == "set_ephemeral_storage_limit" and rec.params["eviction_scope"] == "container"
    victim = "pod evicted: The node was low on resource: ephemeral-storage. Container api was using 80Mi."
    fact = finding("disk_pressure", evicted_resource="ephemeral-storage", evidence=[victim])
    assert first("disk_pressure", signals(api(fs_usage_peak=80 * MI)), fact).action == "clean_node_disk"


def test_node_disk_pressure_cleans_the_node_first_and_draining_is_high_risk() -> None:
    fact = finding("disk_pressure", "node_under_disk_pressure", node="worker-1", evicted_resource="nodefs")
    result = recs("disk_pressure", signals(), fact)
    assert result[0].action == "clean_node_disk"
    assert any("kubectl debug node/worker-1" in c for c in result[0].commands)
    drain = next(r for r in result if r.action == "cordon_and_drain_node")
    assert drain.risk == "high" and not drain.unattended
    assert drain.commands[0] == "kubectl cordon worker-1" and drain.rollback[0] == "kubectl uncordon worker-1"


def test_no_space_left_without_a_claim_mounts_a_bounded_scratch_volume() -> None:
    fact = finding(
        "disk_pressure",
        container="api",
        mechanism="disk_full",
        evidence=["log (api): failed to write /tmp/dumps/heap.hprof: no space left on device"],
    )
    rec = first("disk_pressure", signals(api(fs_usage_peak=GI)), fact)
    assert rec.action == "add_scratch_volume"
    assert rec.params["mount_path"] == "/tmp/dumps" and rec.params["size_limit"] == "2Gi"


# --- configuration -------------------------------------------------------------------------------------------------


def test_missing_configmap_key_is_named_in_the_create_command() -> None:
    refs = [EnvReference("ConfigMap", "cart-api-env", "DB_HOST"), EnvReference("ConfigMap", "cart-api-env", "db.port")]
    sig = signals(api(env_refs=refs, reason="CreateContainerConfigError"))
    fact = finding("config_error", container="api", missing_kind="ConfigMap", missing_name="cart-api-env")
    rec = first("config_error", sig, fact)
    assert rec.action == "create_missing_config"
    assert rec.commands[0] == (
        'kubectl -n shop create configmap cart-api-env --from-literal=DB_HOST="$DB_HOST" '
        '--from-literal=db.port="$DB_PORT"'
    )
    assert rec.rollback == ["kubectl -n shop delete configmap cart-api-env"]


def test_a_missing_key_in_an_existing_secret_is_patched_not_recreated() -> None:
    fact = finding("config_error", missing_kind="Secret", missing_name="db-creds", missing_key="password")
    rec = first("config_error", signals(), fact)
    assert rec.title == "Add key password to Secret db-creds"
    assert rec.commands[0] == (
        'kubectl -n shop patch secret db-creds --type=merge -p "{\\"stringData\\":{\\"password\\":\\"$PASSWORD\\"}}"'
    )
    assert """'[{"op":"remove","path":"/data/password"}]'""" in rec.rollback[0]


def test_a_misspelt_reference_points_to_the_existing_object() -> None:
    sig = signals(present_objects={"ConfigMap/cart-api-envs", "ConfigMap/kube-root-ca.crt"})
    rec = first("config_error", sig, finding("config_error", missing_kind="ConfigMap", missing_name="cart-api-env"))
    assert rec.action == "point_to_existing_config"
    assert rec.params["candidate"] == "cart-api-envs"


def test_a_setting_named_by_the_application_is_set_from_the_shell_not_from_chat() -> None:
    fact = finding(
        "config_error", container="api", mechanism="config", evidence=["log (api): KeyError: 'DATABASE_URL'"]
    )
    rec = first("config_error", signals(), fact)
    assert rec.action == "set_missing_setting"
    assert rec.params["setting"] == "DATABASE_URL"
    assert (
        'kubectl -n shop create secret generic cart-api-env --from-literal=DATABASE_URL="$DATABASE_URL"' in rec.commands
    )


def test_a_config_file_that_does_not_parse_names_the_mounted_configmap() -> None:
    refs = [
        EnvReference("ConfigMap", "bridge-config", via="volume"),
        EnvReference("Secret", "bridge-tls", via="volume"),
    ]
    line = "log (api): error loading config /etc/bridge/config.yaml: yaml: line 8: did not find expected key"
    fact = finding("config_error", container="api", mechanism="config", evidence=[line])
    rec = first("config_error", signals(api(env_refs=refs)), fact)
    assert rec.action == "fix_config_file"
    assert rec.params["path"] == "/etc/bridge/config.yaml" and rec.params["configmaps"] == ["bridge-config"]
    assert "kubectl -n shop get configmap bridge-config -o yaml" in rec.commands
    assert not any("bridge-tls" in c for c in rec.commands)


def test_a_root_image_under_run_as_non_root_gets_a_numeric_user() -> None:
    message = "container has runAsNonRoot and image will run as root"
    sig = signals(api(reason="CreateContainerConfigError", message=message))
    rec = first("config_error", sig, finding("config_error", container="api", evidence=[f"waiting: {message}"]))
    assert rec.action == "run_as_non_root_user"
    assert '"securityContext":{"runAsUser":1000,"runAsGroup":1000}' in rec.commands[0]


def test_a_read_only_root_never_gets_an_empty_dir_over_an_image_directory() -> None:
    line = "log (api): can not modify /etc/nginx/conf.d/default.conf (read-only file system?)"
    fact = finding("config_error", container="api", mechanism="file_permission", evidence=[line])
    rec = by_id("config_error", signals(), "fix_file_permissions", fact)
    assert rec.params["path"] == "/etc/nginx/conf.d"
    assert not any("emptyDir" in c for c in rec.commands)
    scratch = finding(
        "config_error",
        container="api",
        mechanism="file_permission",
        evidence=["log (api): open /tmp/cache/x.bin: read-only file system"],
    )
    rec = by_id("config_error", signals(), "fix_file_permissions", scratch)
    assert '"mountPath":"/tmp/cache"' in rec.commands[0]


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


# --- probes --------------------------------------------------------------------------------------------------------

LIVENESS = Probe("liveness", "httpGet", path="/healthz", port="8080", timeout_s=1, period_s=10, failure_threshold=3)


def test_liveness_timeouts_raise_timeout_seconds_and_tolerate_a_pause() -> None:
    fact = finding(
        "probe_failure",
        container="api",
        probe="liveness",
        handler="httpGet",
        timeout_s=1.0,
        evidence=['Liveness probe failed: Get "http://10.1.2.3:8080/healthz": context deadline exceeded'],
    )
    rec = first("probe_failure", signals(api(probes=[LIVENESS])), fact)
    assert rec.action == "raise_probe_timeout"
    assert rec.params["new_timeout_s"] == 5 and rec.params["failure_threshold"] == 3
    assert '"livenessProbe":{"timeoutSeconds":5,"failureThreshold":3}' in rec.commands[0]
    assert '"livenessProbe":{"timeoutSeconds":1,"failureThreshold":3}' in rec.rollback[0]


def test_a_probe_that_gets_404_fixes_the_endpoint_before_touching_timeouts() -> None:
    fact = finding(
        "probe_failure",
        container="api",
        probe="liveness",
        probe_message="Liveness probe failed: HTTP probe failed with statuscode: 404",
        evidence=["container api: liveness probe httpGet /healthz timeout=1s period=10s failureThreshold=3"],
    )
    rec = first("probe_failure", signals(api(probes=[LIVENESS])), fact)
    assert rec.action == "fix_probe_endpoint"
    assert f"kubectl -n shop port-forward pod/{POD} 18080:8080" in rec.commands


def test_a_refused_probe_of_an_app_that_never_said_it_serves_is_a_slow_start() -> None:
    fact = finding(
        "probe_failure",
        container="api",
        probe="liveness",
        probe_message="Liveness probe failed: dial tcp 10.1.2.3:8080: connect: connection refused",
    )
    starting = [LogLine("api", True, "INFO Starting LeaveServiceApplication"), LogLine("api", True, "Migrating schema")]
    assert (
        first("probe_failure", signals(api(probes=[LIVENESS]), log_tail=starting), fact).action == "add_startup_probe"
    )


def test_a_refused_probe_of_a_serving_app_is_pointed_at_the_port_it_listens_on() -> None:
    readiness = Probe("readiness", "httpGet", path="/health", port="8080")
    fact = finding(
        "probe_failure",
        container="api",
        probe="readiness",
        probe_message="Readiness probe failed: dial tcp 10.1.2.3:8080: connect: connection refused",
    )
    serving = [LogLine("api", False, '{"msg":"content-api listening at http://0.0.0.0:3000"}')]
    rec = first("probe_failure", signals(api(probes=[readiness], state="running"), log_tail=serving), fact)
    assert rec.action == "fix_probe_endpoint"
    assert '"readinessProbe":{"httpGet":{"port":3000}}' in rec.commands[1]


@pytest.mark.parametrize(
    ("probe_", "message", "patch"),
    [
        (
            LIVENESS,
            'Get "https://10.1.2.3:8080/healthz": http: server gave HTTP response to HTTPS client',
            '"livenessProbe":{"httpGet":{"scheme":"HTTP"}}',
        ),
        (
            Probe("liveness", "grpc", port="50051"),
            "rpc error: code = Unimplemented desc = unknown service",
            '"livenessProbe":{"grpc":null,"tcpSocket":{"port":50051}}',
        ),
    ],
)
def test_a_probe_speaking_the_wrong_protocol_is_patched_to_the_right_one(
    probe_: Probe, message: str, patch: str
) -> None:
    fact = finding(
        "probe_failure", container="api", probe="liveness", probe_message=f"Liveness probe failed: {message}"
    )
    rec = first("probe_failure", signals(api(probes=[probe_])), fact)
    assert rec.action == "fix_probe_endpoint" and patch in rec.commands[1]


def test_an_exec_probe_timing_out_switches_to_tcp_on_the_known_port() -> None:
    probes = [
        Probe("liveness", "exec", command="redis-cli ping", timeout_s=1),
        Probe("readiness", "tcpSocket", port="6379"),
    ]
    fact = finding(
        "probe_failure",
        container="api",
        probe="liveness",
        handler="exec",
        probe_message="Liveness probe failed: command timed out",
    )
    rec = by_id("probe_failure", signals(api(probes=probes)), "switch_exec_probe_to_tcp", fact)
    assert '"livenessProbe":{"exec":null,"tcpSocket":{"port":6379}}' in rec.commands[0]
    assert rec.confidence > 0.6


def test_a_slow_start_gets_a_startup_probe_with_the_same_handler() -> None:
    fact = finding("probe_failure", container="api", probe="liveness", probe_message="Liveness probe failed: refused")
    rec = by_id("probe_failure", signals(api(probes=[LIVENESS], last_run_s=90)), "add_startup_probe", fact)
    assert rec.params["startup_budget_s"] == 270 and rec.params["failure_threshold"] == 27
    assert '"startupProbe":{"httpGet":{"path":"/healthz","port":8080},"failureThreshold":27,' in rec.commands[0]


# --- volumes -------------------------------------------------------------------------------------------------------


def test_multi_attach_on_a_single_replica_deployment_switches_to_recreate() -> None:
    sig = signals(owners=deployment(replicas=1, ready=0))
    rec = first("volume_mount", sig, finding("volume_mount", claim="data-cart", multi_attach=True, node="worker-1"))
    assert rec.action == "use_recreate_strategy"
    assert rec.commands == [
        "kubectl -n shop patch deployment/cart-api "
        """-p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'"""
    ]


def test_multi_attach_on_a_statefulset_releases_the_stale_attachment_with_high_risk() -> None:
    sig = signals(owners=[Owner("StatefulSet", "db", replicas=1)])
    rec = first("volume_mount", sig, finding("volume_mount", claim="data-db-0", multi_attach=True))
    assert rec.action == "release_stale_attachment" and rec.risk == "high" and not rec.unattended
    assert rec.commands[0] == "PV=$(kubectl -n shop get pvc data-db-0 -o jsonpath='{.spec.volumeName}')"


def test_an_unregistered_csi_driver_is_checked_on_the_node() -> None:
    fact = finding(
        "volume_mount",
        driver="ebs.csi.aws.com",
        node="worker-1",
        evidence=["driver name ebs.csi.aws.com not found in the list of registered CSI drivers"],
    )
    rec = first("volume_mount", signals(), fact)
    assert rec.action == "check_csi_driver"
    assert "kubectl get csinode worker-1 -o jsonpath='{.spec.drivers[*].name}'" in rec.commands


# --- unknown, fallbacks and restarts -------------------------------------------------------------------------------


def test_unknown_recommends_only_safe_evidence_gathering() -> None:
    result = recs("unknown", signals(), finding("unknown", "healthy_now"))
    assert [r.action for r in result] == ["gather_more_evidence"]
    assert result[0].risk == "low" and result[0].unattended
    assert result[0].title.startswith("No action needed")


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_answers_something_even_without_facts(category: Category) -> None:
    assert recommend(category, [], signals(), 0.6)


def test_actions_on_a_container_drop_out_when_the_snapshot_has_none() -> None:
    result = recs("oom_killed", signals(containers=[]), finding("oom_killed", node_oom=True))
    assert [r.action for r in result] == ["capture_memory_usage"]


def test_restart_runs_unattended_only_with_another_ready_replica() -> None:
    fact = finding("volume_mount", claim="data-cart")
    assert by_id("volume_mount", signals(), "restart_pod", fact).unattended is True
    single = signals(owners=deployment(replicas=1, ready=0))
    assert by_id("volume_mount", single, "restart_pod", fact).unattended is False


def test_a_bare_pod_is_exported_and_recreated_instead_of_patched() -> None:
    rec = first("oom_killed", signals(api(memory_peak=500 * MI), owners=[]), finding("oom_killed", container="api"))
    assert rec.commands == [
        f"kubectl -n shop get pod/{POD} -o yaml > {POD}.yaml",
        f"kubectl -n shop replace --force -f {POD}.yaml",
    ]


def test_a_cronjob_patch_targets_its_job_template() -> None:
    sig = signals(owners=[Owner("Job", "report-28934760"), Owner("CronJob", "report")])
    rec = first("image_pull", sig, finding("image_pull", container="api", pull_error="never_pull"))
    assert rec.commands[0].startswith("kubectl -n shop patch cronjob/report --type=strategic -p")
    assert '{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers"' in rec.commands[0]


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
