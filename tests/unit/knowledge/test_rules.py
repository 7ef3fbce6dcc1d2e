"""Rules reason about mechanisms: each test is a trap an on-call engineer has fallen into."""

from __future__ import annotations

from knowledge.loading import to_snapshot
from knowledge.signals import extract
from tests import builders as b
from tests.unit.knowledge.rules_support import category_of, facts_of


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
