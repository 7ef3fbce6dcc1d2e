"""Rules reason about mechanisms: each test is a trap an on-call engineer has fallen into."""

from __future__ import annotations

from typing import Any

from aetherius.taxonomy import Category
from knowledge.decision import decide
from knowledge.loading import to_snapshot
from knowledge.rules import evaluate
from knowledge.signals import extract
from tests import builders as b


def category_of(doc: dict[str, Any]) -> Category:
    findings = evaluate(extract(to_snapshot(doc)))
    return decide(findings, []).category


def facts_of(doc: dict[str, Any], category: Category) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for f in evaluate(extract(to_snapshot(doc))):
        if f.category == category:
            facts.update(f.facts)
    return facts


def test_oomkilled_reason_is_oom() -> None:
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=137, reason="OOMKilled")]))
    assert category_of(doc) == "oom_killed"


def test_exit_137_without_memory_evidence_is_not_called_oom() -> None:
    doc = b.snapshot(
        b.pod(statuses=[b.crashlooping(exit_code=137)]),
        b.event(
            "Unhealthy",
            'Liveness probe failed: Get "http://10.1.2.3:8080/healthz": context deadline exceeded',
            count=12,
        ),
        b.event("Killing", "Container api failed liveness probe, will be restarted", type="Normal", count=5),
        logs=[b.log("INFO serving on :8080\nINFO request handled")],
    )
    assert category_of(doc) == "probe_failure"


def test_exit_137_with_a_node_system_oom_is_oom_even_below_the_limit() -> None:
    doc = b.snapshot(
        b.pod(
            statuses=[
                b.running(
                    restarts=3,
                    last={
                        "exitCode": 137,
                        "reason": "Error",
                        "startedAt": "2025-03-02T10:00:00Z",
                        "finishedAt": "2025-03-02T10:12:00Z",
                    },
                )
            ]
        ),
        b.event("SystemOOM", "System OOM encountered, victim process: java, pid: 4242", kind="Node", name="worker-1"),
        b.node(),
    )
    assert category_of(doc) == "oom_killed"
    assert facts_of(doc, "oom_killed")["node_oom"] is True


def test_an_oom_hours_ago_on_a_healthy_pod_stays_quiet() -> None:
    last = {
        "exitCode": 137,
        "reason": "OOMKilled",
        "startedAt": "2025-03-02T05:00:00Z",
        "finishedAt": "2025-03-02T06:00:00Z",
    }
    doc = b.snapshot(b.pod(statuses=[b.running(restarts=1, last=last)]))
    assert category_of(doc) == "unknown"


def test_connection_refused_retries_that_later_connect_do_not_explain_a_panic() -> None:
    text = "\n".join(
        [
            "WARN redis connect attempt 1/5 failed: Connection refused (os error 111)",
            "WARN redis connect attempt 2/5 failed: Connection refused (os error 111)",
            "INFO redis connected",
            "thread 'main' panicked at src/billing.rs:88:13:",
            "called `Option::unwrap()` on a `None` value",
        ]
    )
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=101)]), logs=[b.log(text)])
    assert category_of(doc) == "crash_loop"


def test_dns_failure_that_makes_the_process_give_up_is_network() -> None:
    text = "\n".join(
        [
            "ERROR failed to reach payments: dial tcp: lookup payments.prod.svc.cluster.local on 10.96.0.10:53: no such host",
            "FATAL giving up after 5 attempts",
        ]
    )
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(text)])
    assert category_of(doc) == "network"
    assert facts_of(doc, "network")["dns"] is True


def test_a_placeholder_that_could_not_be_resolved_is_configuration_not_dns() -> None:
    text = "\n".join(
        [
            "ERROR Application run failed",
            "java.lang.IllegalArgumentException: Could not resolve placeholder 'ORDERS_DB_URL' in value \"${ORDERS_DB_URL}\"",
        ]
    )
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(text)])
    assert category_of(doc) == "config_error"


def test_a_host_that_could_not_be_resolved_is_still_dns() -> None:
    text = "curl: (6) Could not resolve host: api.partner.example.com\nFATAL startup check failed"
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(text)])
    assert category_of(doc) == "network"


def test_a_403_from_an_external_http_api_is_not_kubernetes_rbac() -> None:
    text = 'ERROR stripe webhook registration failed: 403 Forbidden: {"error": "forbidden"}\nTraceback (most recent call last):\nRuntimeError: webhook setup failed'
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(text)])
    assert category_of(doc) != "rbac_denied"


def test_a_serviceaccount_denied_by_the_api_is_rbac_with_verb_and_resource() -> None:
    text = (
        "E0302 10:13:59 reflector.go:147] failed to list *v1.ConfigMap: configmaps is forbidden: User "
        '"system:serviceaccount:shop:api" cannot list resource "configmaps" in API group "" in the namespace "shop"'
    )
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=255)]), logs=[b.log(text)])
    assert category_of(doc) == "rbac_denied"
    facts = facts_of(doc, "rbac_denied")
    assert (facts["verb"], facts["resource"], facts["service_account"]) == (
        "list",
        "configmaps",
        "system:serviceaccount:shop:api",
    )


def test_permission_denied_on_a_file_is_configuration_not_rbac() -> None:
    text = "Traceback (most recent call last):\nPermissionError: [Errno 13] Permission denied: '/data/cache'\n[ERROR] Worker failed to boot."
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=3)]), logs=[b.log(text)])
    assert category_of(doc) == "config_error"


def test_a_missing_configmap_key_names_the_key_and_the_configmap() -> None:
    status = b.waiting(
        reason="CreateContainerConfigError", message="couldn't find key DATABASE_URL in ConfigMap shop/api-env"
    )
    doc = b.snapshot(b.pod(phase="Pending", statuses=[status]))
    assert category_of(doc) == "config_error"
    facts = facts_of(doc, "config_error")
    assert (facts["missing_kind"], facts["missing_name"], facts["missing_key"]) == (
        "ConfigMap",
        "api-env",
        "DATABASE_URL",
    )


def test_a_missing_secret_volume_is_configuration_not_storage() -> None:
    doc = b.snapshot(
        b.pod(phase="Pending", statuses=[b.waiting()]),
        b.event("FailedMount", 'MountVolume.SetUp failed for volume "tls" : secret "api-tls" not found', count=9),
    )
    assert category_of(doc) == "config_error"


def test_a_multi_attach_error_is_a_volume_mount_problem() -> None:
    doc = b.snapshot(
        b.pod(phase="Pending", statuses=[b.waiting()]),
        b.event(
            "FailedAttachVolume",
            'Multi-Attach error for volume "pvc-1234" Volume is already exclusively attached to one node and can\'t be attached to another',
        ),
    )
    assert category_of(doc) == "volume_mount"
    assert facts_of(doc, "volume_mount")["multi_attach"] is True


def test_image_pull_wording_from_cri_o_and_containerd_both_count() -> None:
    for message in (
        'Failed to pull image "registry.example.com/api:9.9": rpc error: code = NotFound desc = failed to pull and unpack image: not found',
        'Failed to pull image "quay.io/acme/api:9.9": reading manifest 9.9 in quay.io/acme/api: manifest unknown',
    ):
        doc = b.snapshot(
            b.pod(phase="Pending", statuses=[b.waiting(reason="ErrImagePull", message="")]), b.event("Failed", message)
        )
        assert category_of(doc) == "image_pull"
        assert facts_of(doc, "image_pull")["pull_error"] == "not_found"


def test_an_untolerated_disk_pressure_taint_points_at_the_disk() -> None:
    message = "0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }."
    doc = b.snapshot(b.pod(phase="Pending", node="", statuses=[]), b.event("FailedScheduling", message, count=4))
    assert category_of(doc) == "disk_pressure"


def test_insufficient_memory_is_scheduling() -> None:
    message = "0/5 nodes are available: 5 Insufficient memory. preemption: 0/5 nodes are available: 5 No preemption victims found."
    doc = b.snapshot(b.pod(phase="Pending", node="", statuses=[]), b.event("FailedScheduling", message))
    assert category_of(doc) == "scheduling"
    assert facts_of(doc, "scheduling")["scheduling_reason"] == "insufficient_memory"


def test_heavy_throttling_at_the_limit_is_cpu_throttling() -> None:
    periods = [float(i * 1000) for i in range(20)]
    throttled = [float(i * 800) for i in range(20)]
    usage = [i * 30 * 0.49 for i in range(20)]
    doc = b.snapshot(
        b.pod(),
        metrics=[
            b.series("container_cpu_cfs_periods_total", periods, container="api"),
            b.series("container_cpu_cfs_throttled_periods_total", throttled, container="api"),
            b.series("container_cpu_usage_seconds_total", usage, container="api"),
        ],
    )
    assert category_of(doc) == "cpu_throttling"


def test_counter_resets_do_not_fake_throttling() -> None:
    periods = [100.0, 200.0, 300.0, 10.0, 110.0, 210.0]
    throttled = [90.0, 91.0, 92.0, 0.0, 1.0, 2.0]
    doc = b.snapshot(
        b.pod(),
        metrics=[
            b.series("container_cpu_cfs_periods_total", periods, container="api"),
            b.series("container_cpu_cfs_throttled_periods_total", throttled, container="api"),
        ],
    )
    sig = extract(to_snapshot(doc))
    assert sig.containers[0].throttle_ratio is not None and sig.containers[0].throttle_ratio < 0.05


def test_events_about_another_pod_are_ignored() -> None:
    doc = b.snapshot(
        b.pod(), b.event("BackOff", "Back-off restarting failed container", name="other-pod-abcde", count=50)
    )
    sig = extract(to_snapshot(doc))
    assert sig.events == []
    assert category_of(doc) == "unknown"


def test_events_k8s_io_v1_events_are_read_with_their_series_count() -> None:
    doc = b.snapshot(
        b.pod(phase="Pending", statuses=[b.waiting()]),
        b.events_v1(
            "FailedMount",
            'MountVolume.MountDevice failed for volume "pvc-9" : rpc error: code = Internal desc = mount failed: exit status 32',
            count=14,
        ),
    )
    sig = extract(to_snapshot(doc))
    assert sig.events[0].count == 14 and sig.events[0].reason == "FailedMount"
    assert category_of(doc) == "volume_mount"


def test_a_completed_job_pod_is_not_an_incident() -> None:
    status = {
        "name": "api",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        "lastState": {},
    }
    doc = b.snapshot(b.pod(phase="Succeeded", statuses=[status]))
    assert category_of(doc) == "unknown"


def test_a_pod_draining_in_a_rollout_with_a_readiness_blip_is_not_an_incident() -> None:
    subject = b.pod(statuses=[b.running(ready=False)])
    subject["metadata"]["deletionTimestamp"] = "2025-03-02T10:14:50Z"
    doc = b.snapshot(
        subject,
        b.event("Killing", "Stopping container api", type="Normal"),
        b.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=2),
    )
    assert category_of(doc) == "unknown"


def test_java_out_of_memory_error_in_the_log_is_oom_but_the_heap_dump_flag_is_not() -> None:
    oom = 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n\tat com.acme.Cache.load(Cache.java:42)'
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(oom)])
    assert category_of(doc) == "oom_killed"
    flag = "INFO JVM args: -Xmx512m -XX:+HeapDumpOnOutOfMemoryError\nERROR NullPointerException: cart is null\n\tat com.acme.Cart.total(Cart.java:10)"
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(flag)])
    assert category_of(doc) == "crash_loop"


def test_no_space_left_on_device_is_disk_pressure() -> None:
    text = 'FATAL:  could not write to file "pg_wal/xlogtemp.42": No space left on device'
    doc = b.snapshot(b.pod(statuses=[b.crashlooping(exit_code=1)]), logs=[b.log(text)])
    assert category_of(doc) == "disk_pressure"


def test_an_emptydir_over_its_size_limit_is_disk_pressure_naming_the_volume() -> None:
    message = 'Usage of EmptyDir volume "spool" exceeds the limit "5Gi". '
    doc = b.snapshot(
        b.pod(statuses=[b.crashlooping(exit_code=137)], phase="Failed", reason="Evicted", message=message),
        b.event("Evicted", message),
    )
    assert category_of(doc) == "disk_pressure"
    facts = facts_of(doc, "disk_pressure")
    assert (facts["emptydir_volume"], facts["emptydir_limit"]) == ("spool", "5Gi")


def test_routine_events_and_pod_names_stay_out_of_the_similarity_text() -> None:
    from knowledge.signature import essential

    text = (
        "container api: waiting CrashLoopBackOff\n"
        "event Warning BackOff x<n>: Back-off restarting failed container api in pod api-<pod>_shop(<uuid>)\n"
        "event Normal Pulled x<n>: Container image already present on machine\n"
        "event Normal Started x<n>: Started container api"
    )
    assert essential(text) == (
        "container api: waiting CrashLoopBackOff\nevent Warning BackOff x<n>: Back-off restarting failed container api"
    )


# --- a worker process killed for memory while its container keeps running (cgroup v1) ---

GIB_HALF = 512 * 1024 * 1024
FPM_KILLS = "\n".join(
    f"[11-Jun-2024 09:4{i}:07] WARNING: [pool www] child 2{i}190 exited on signal 9 (SIGKILL) after 38.1 seconds"
    for i in range(4)
)


def _fpm_pod(**extra: Any) -> dict[str, Any]:
    return b.pod(containers=[b.container("php-fpm", memory="512Mi")], statuses=[b.running("php-fpm")], **extra)


def test_workers_killed_by_sigkill_at_the_memory_limit_are_an_oom_though_the_container_never_restarted() -> None:
    memory = b.series("container_memory_working_set_bytes", [0.9 * GIB_HALF, 0.99 * GIB_HALF], container="php-fpm")
    doc = b.snapshot(_fpm_pod(), logs=[b.log(FPM_KILLS, container="php-fpm", previous=False)], metrics=[memory])
    assert category_of(doc) == "oom_killed"
    assert facts_of(doc, "oom_killed")["child_oom"] is True


def test_the_kernels_oom_event_counter_alone_says_a_process_was_killed_for_memory() -> None:
    oom_events = b.series("container_oom_events_total", [3, 3, 5, 7], container="php-fpm")
    doc = b.snapshot(_fpm_pod(), metrics=[oom_events])
    assert category_of(doc) == "oom_killed"


def test_workers_killed_by_sigkill_far_below_the_limit_are_not_called_oom() -> None:
    memory = b.series("container_memory_working_set_bytes", [0.3 * GIB_HALF, 0.35 * GIB_HALF], container="php-fpm")
    doc = b.snapshot(_fpm_pod(), logs=[b.log(FPM_KILLS, container="php-fpm", previous=False)], metrics=[memory])
    assert category_of(doc) != "oom_killed"


# --- a readiness probe that fails because what the app needs is unreachable ---

DB_TIMEOUTS = "\n".join(
    f'{{"level_name":"ERROR","message":"SQLSTATE[HY000] [2002] Connection timed out (Connection: mysql, host '
    f'mysql.databases.svc.cluster.local)","n":{i}}}'
    for i in range(5)
)
PROXY_TIMEOUTS = "\n".join(
    f"2024/07/23 10:5{i}:02 [error] 29#29: *4011{i} upstream timed out (110: Connection timed out) while reading "
    f'response header from upstream, request: "GET /healthz HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000"'
    for i in range(5)
)


def _proxied_pod() -> dict[str, Any]:
    return b.pod(
        containers=[b.container("nginx"), b.container("php-fpm")],
        statuses=[b.running("nginx", ready=False), b.running("php-fpm")],
    )


def test_a_failing_readiness_probe_behind_a_proxy_is_a_network_failure_when_the_app_cannot_reach_its_database() -> None:
    doc = b.snapshot(
        _proxied_pod(),
        b.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=40),
        logs=[
            b.log(PROXY_TIMEOUTS, container="nginx", previous=False),
            b.log(DB_TIMEOUTS, container="php-fpm", previous=False),
        ],
    )
    assert category_of(doc) == "network"


def test_a_proxy_timing_out_on_its_own_app_container_is_no_network_failure() -> None:
    doc = b.snapshot(
        _proxied_pod(),
        b.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=40),
        logs=[b.log(PROXY_TIMEOUTS, container="nginx", previous=False)],
    )
    assert category_of(doc) == "probe_failure"


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


# --- mechanisms from the second independent probe set ---


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


DENIED = (
    'pods is forbidden: User "system:serviceaccount:orders:order-matcher" cannot list resource "pods" in API group '
    '"" in the namespace "orders"'
)


def test_one_api_denial_behind_a_failing_readiness_probe_is_the_cause_not_the_probe() -> None:
    doc = b.snapshot(
        b.pod(statuses=[b.running(ready=False)]),
        b.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", count=70),
        logs=[b.log(f"[WARN] [KubernetesApiServiceDiscovery] Forbidden to list pods: {DENIED}", previous=False)],
    )
    assert category_of(doc) == "rbac_denied"


def test_a_ready_controller_denied_twice_by_the_api_server_is_rbac_denied() -> None:
    line = f'time="2024-11-18T10:05:24Z" level=error msg="Failed to sync cluster" error="{DENIED}"'
    doc = b.snapshot(b.pod(), logs=[b.log(f"{line}\n{line.replace('10:05', '10:15')}", previous=False)])
    assert category_of(doc) == "rbac_denied"


def test_a_ready_service_that_keeps_timing_out_on_a_dependency_is_a_network_failure() -> None:
    timeouts = "\n".join(
        f'level=error msg="upload failed" err="Put https://objects.example.net/t/{i}: net/http: '
        f'request canceled: i/o timeout" size={90000 + i}'
        for i in range(5)
    )
    assert category_of(b.snapshot(b.pod(), logs=[b.log(timeouts, previous=False)])) == "network"


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
