"""The same mechanisms in other runtimes' and clusters' words, and explanations that read the evidence right."""

from __future__ import annotations

from typing import Any

from knowledge.loading import to_snapshot
from knowledge.rules import evaluate
from knowledge.signals import extract
from tests import builders as b
from tests.unit.knowledge.rules_support import category_of, facts_of


def test_failed_scheduling_events_of_a_pod_now_bound_to_a_node_are_history() -> None:
    pulling = b.waiting("migrate", reason="ImagePullBackOff", message='Back-off pulling image "ghcr.io/acme/m:2"')
    doc = b.snapshot(
        b.pod(
            phase="Pending",
            init_containers=[b.container("migrate")],
            init_statuses=[pulling],
            statuses=[b.waiting("api", reason="PodInitializing")],
        ),
        b.event("FailedScheduling", "0/14 nodes are available: 14 Insufficient cpu.", count=3),
        b.event("Failed", 'Failed to pull image "ghcr.io/acme/m:2": no match for platform in manifest', count=8),
    )
    assert category_of(doc) == "image_pull"
    assert "scheduling" not in {f.category for f in evaluate(extract(to_snapshot(doc)))}


def _crash(text: str, exit_code: int = 1) -> dict[str, Any]:
    return b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=exit_code)]), logs=[b.log(text)])


def test_a_ruby_env_fetch_of_an_unset_variable_is_a_config_error() -> None:
    trace = (
        '/app/config/initializers/stripe.rb:4:in `fetch\': key not found: "STRIPE_WEBHOOK_SECRET" (KeyError)\n'
        "\tfrom /app/config/initializers/stripe.rb:4:in `<main>'\n"
        "\tfrom /usr/local/bundle/gems/railties-7.1.3.2/lib/rails/engine.rb:688:in `load'"
    )
    assert category_of(_crash(trace)) == "config_error"


def test_a_tracing_exporter_that_cannot_reach_its_collector_does_not_outweigh_a_startup_crash() -> None:
    log = "\n".join(
        [
            "OTLPExporterError: connect ECONNREFUSED 10.43.88.14:4318",
            "OTLPExporterError: connect ECONNREFUSED 10.43.88.14:4318",
            "ERROR [ExceptionHandler] Nest can't resolve dependencies of the PricingService (CatalogRepository, ?).",
            "    at Injector.lookupComponentInParentModules (/app/node_modules/@nestjs/core/injector/injector.js:254:19)",
        ]
    )
    assert category_of(_crash(log)) == "crash_loop"


def test_a_pod_stopped_by_a_graceful_node_shutdown_is_no_workload_failure() -> None:
    pod = b.pod(phase="Failed", statuses=[b.running(ready=False)], reason="Terminated")
    pod["status"]["conditions"] = [
        {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
         "message": "Pod was terminated in response to imminent node shutdown."}
    ]  # fmt: skip
    assert category_of(b.snapshot(pod)) == "unknown"


def test_a_stale_nfs_handle_behind_create_container_error_is_a_volume_problem() -> None:
    message = (
        'failed to generate container "a7" spec: failed to stat "/var/lib/kubelet/pods/3c/volumes/kubernetes.io~nfs/'
        'media": stat /var/lib/kubelet/pods/3c/volumes/kubernetes.io~nfs/media: stale NFS file handle'
    )
    doc = b.snapshot(b.pod(statuses=[b.waiting(reason="CreateContainerError", message=message)]))
    assert category_of(doc) == "volume_mount"


def test_a_throttled_counter_that_dips_cannot_push_the_throttling_ratio_past_one() -> None:
    periods = b.series("container_cpu_cfs_periods_total", [1000, 1300, 1600, 1900], container="api")
    throttled = b.series("container_cpu_cfs_throttled_periods_total", [500, 780, 779, 1060], container="api")
    signals = extract(to_snapshot(b.snapshot(b.pod(), metrics=[periods, throttled])))
    ratio = signals.containers[0].throttle_ratio
    assert ratio is not None and 0.6 < ratio <= 1.0


def test_an_image_pull_that_fails_on_the_nodes_dns_lookup_says_dns() -> None:
    message = (
        'Failed to pull image "quay.io/acme/api:1.2": failed to resolve reference "quay.io/acme/api:1.2": '
        'failed to do request: Head "https://quay.io/v2/acme/api/manifests/1.2": dial tcp: lookup quay.io on '
        "10.60.0.2:53: read udp 10.60.1.7:43812->10.60.0.2:53: i/o timeout"
    )
    doc = b.snapshot(
        b.pod(statuses=[b.waiting(reason="ImagePullBackOff", message="Back-off pulling image")]),
        b.event("Failed", message, count=6),
    )
    assert facts_of(doc, "image_pull")["pull_error"] == "dns"


def test_a_kafka_client_that_never_reaches_its_brokers_is_a_network_failure() -> None:
    lines = [
        "WARN [Consumer clientId=orders-0] Connection to node -1 (kafka-bootstrap.streaming.svc/10.233.14.190:9092) "
        "could not be established. Node may not be available.",
        "WARN [Consumer clientId=orders-0] Bootstrap broker kafka-bootstrap.streaming.svc:9092 (id: -1) disconnected",
    ] * 3 + [
        "Caused by: org.apache.kafka.common.errors.TimeoutException: Timeout expired while fetching topic metadata"
    ]
    assert category_of(_crash("\n".join(lines))) == "network"


def test_a_memory_cgroup_oom_reported_by_the_node_is_the_containers_own_limit_not_the_node() -> None:
    oom = b.event(
        "OOMKilling",
        "Memory cgroup out of memory: Killed process 4121 (node) total-vm:1821044kB, anon-rss:521212kB",
        kind="Node", name="worker-1", namespace="",
    )  # fmt: skip
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=137)]), oom)
    assert category_of(doc) == "oom_killed"
    assert not facts_of(doc, "oom_killed").get("node_oom")


def test_a_gpu_shortage_is_the_scheduling_reason_even_when_other_nodes_fail_the_selector() -> None:
    message = (
        "0/9 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 6 Insufficient nvidia.com/gpu."
    )
    doc = b.snapshot(b.pod(phase="Pending", node="", statuses=[]), b.event("FailedScheduling", message, count=12))
    facts = facts_of(doc, "scheduling")
    assert (facts["scheduling_reason"], facts["scarce_resource"]) == ("insufficient_resource", "nvidia.com/gpu")


def test_a_missing_key_in_a_secret_that_exists_is_told_apart_from_a_missing_secret() -> None:
    waiting = b.waiting(
        reason="CreateContainerConfigError", message="couldn't find key STRIPE_API_KEY in Secret billing/api"
    )
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "namespace": "billing"}, "data": {}}
    with_secret = b.snapshot(b.pod(statuses=[waiting]), secret)
    without = b.snapshot(b.pod(statuses=[waiting]))
    assert facts_of(with_secret, "config_error").get("reference_exists") is True
    assert "reference_exists" not in facts_of(without, "config_error")


def test_an_eviction_for_the_pods_own_ephemeral_storage_limit_is_not_a_full_node() -> None:
    own = b.pod(phase="Failed", statuses=[b.running(ready=False)], reason="Evicted",
                message="Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ")  # fmt: skip
    node = b.pod(phase="Failed", statuses=[b.running(ready=False)], reason="Evicted",
                 message="The node was low on resource: ephemeral-storage. Threshold quantity: 10245364204.")  # fmt: skip
    assert facts_of(b.snapshot(own), "disk_pressure")["own_limit"] is True
    assert facts_of(b.snapshot(node), "disk_pressure")["own_limit"] is False
