"""Network, disk and configuration: remedies that name the dependency, the volume or the key."""

from __future__ import annotations

import pytest

from aetherius.signals import Claim, EnvReference
from knowledge.catalog.context import build_context
from knowledge.catalog.network import target
from tests.unit.knowledge.catalog_support import GI, MI, api, by_id, finding, first, recs, signals

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
