"""Memory, crashes, images and CPU: the catalog sizes and rolls back from what the snapshot shows."""

from __future__ import annotations

from aetherius.signals import Event, LogLine, NodeInfo, Owner
from tests.unit.knowledge.catalog_support import GI, MI, api, by_id, deployment, finding, first, recs, signals

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
