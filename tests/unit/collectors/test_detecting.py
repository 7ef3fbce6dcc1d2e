"""Detection rules: each failure mechanism fires once with its family; each kind of noise stays quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from collectors.kube.detecting import Detection, Policy, detect, detect_event, detect_node, detect_pod, is_healthy
from tests import builders

NOW = datetime(2025, 3, 2, 10, 15, tzinfo=UTC)


def pod_detection(pod: dict[str, Any], **kwargs: Any) -> Detection | None:
    return detect_pod(pod, cluster="prod", now=NOW, **kwargs)


def event_detection(event: dict[str, Any], **kwargs: Any) -> Detection | None:
    return detect_event(event, cluster="prod", now=NOW, **kwargs)


def terminated(name: str = "api", *, reason: str, exit_code: int, finished: str) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0,
            "state": {"terminated": {"reason": reason, "exitCode": exit_code, "finishedAt": finished}}}  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "family"),
    [
        ("CrashLoopBackOff", "crash"),
        ("ImagePullBackOff", "image"),
        ("ErrImagePull", "image"),
        ("ErrImageNeverPull", "image"),
        ("InvalidImageName", "image"),
        ("CreateContainerConfigError", "config"),
        ("CreateContainerError", "config"),
        ("RunContainerError", "config"),
    ],
)
def test_each_waiting_reason_is_a_detection_of_its_family(reason: str, family: str) -> None:
    found = pod_detection(builders.pod(statuses=[builders.waiting("api", reason, "boom")]))
    assert found is not None
    assert (found.family, found.reason, found.container, found.message) == (family, reason, "api", "boom")
    assert (found.namespace, found.pod, found.source) == ("shop", "api-7d9f8c6b5-x2k4q", "pod")


def test_a_crash_loop_of_oom_kills_is_an_oom() -> None:
    found = pod_detection(builders.pod(statuses=[builders.crashlooping(reason="OOMKilled", exit_code=137)]))
    assert found is not None and (found.family, found.reason) == ("oom", "CrashLoopBackOff")


def test_a_recent_oom_kill_is_detected_even_when_the_container_is_back() -> None:
    last = {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2025-03-02T10:12:00Z"}
    found = pod_detection(builders.pod(statuses=[builders.running(restarts=1, last=last)]))
    assert found is not None and (found.family, found.reason) == ("oom", "OOMKilled")


def test_an_oom_hours_ago_on_a_pod_healthy_since_is_not_a_detection() -> None:
    last = {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2025-03-02T06:00:00Z"}
    ready = [{"type": "Ready", "status": "True"}]
    assert pod_detection(builders.pod(statuses=[builders.running(restarts=1, last=last)], conditions=ready)) is None


def test_a_failed_run_that_did_not_restart_is_a_crash() -> None:
    pod = builders.pod(phase="Failed", owner=("Job", "nightly-28972800"),
                       statuses=[terminated(reason="Error", exit_code=2, finished="2025-03-02T10:14:00Z")])  # fmt: skip
    found = pod_detection(pod)
    assert found is not None and (found.family, found.reason, found.message) == ("crash", "Error", "exit code 2")
    assert (found.workload_kind, found.workload_name) == ("CronJob", "nightly")


def test_a_completed_job_pod_is_noise() -> None:
    done = terminated(reason="Completed", exit_code=0, finished="2025-03-02T10:14:00Z")
    pod = builders.pod(phase="Succeeded", owner=("Job", "migrate"), statuses=[done])
    assert pod_detection(pod) is None


def test_a_failure_that_ended_long_ago_is_history() -> None:
    pod = builders.pod(
        phase="Failed", statuses=[terminated(reason="Error", exit_code=1, finished="2025-03-02T08:00:00Z")]
    )
    assert pod_detection(pod) is None
    assert pod_detection(pod, policy=Policy(recent_s=4 * 3600)) is not None


def test_a_pod_being_deleted_in_a_rollout_is_noise() -> None:
    pod = builders.pod(statuses=[terminated(reason="Error", exit_code=143, finished="2025-03-02T10:14:50Z")])
    pod["metadata"]["deletionTimestamp"] = "2025-03-02T10:14:30Z"
    assert pod_detection(pod) is None


def test_a_container_still_creating_is_noise() -> None:
    assert pod_detection(builders.pod(phase="Pending", statuses=[builders.waiting()])) is None


@pytest.mark.parametrize(
    ("reason", "family"), [("Evicted", "eviction"), ("NodeLost", "node"), ("OutOfmemory", "scheduling")]
)
def test_a_failed_pod_phase_reason_is_detected(reason: str, family: str) -> None:
    pod = builders.pod(phase="Failed", statuses=[], reason=reason, message="The node was low on resource: memory.")
    found = pod_detection(pod)
    assert found is not None and (found.family, found.reason) == (family, reason)
    assert found.message == "The node was low on resource: memory."


def test_a_pending_pod_that_cannot_be_scheduled_is_scheduling() -> None:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}
    found = pod_detection(builders.pod(phase="Pending", statuses=[], conditions=[cond]))
    assert found is not None and (found.family, found.message) == ("scheduling", "0/3 nodes are available")


def test_the_config_failure_wins_over_a_crash_in_another_container() -> None:
    statuses = [builders.crashlooping("api"), builders.waiting("sidecar", "CreateContainerConfigError")]
    found = pod_detection(builders.pod(statuses=statuses))
    assert found is not None and (found.family, found.container) == ("config", "sidecar")


def test_an_init_container_failure_is_detected() -> None:
    pod = builders.pod(phase="Pending", statuses=[builders.waiting()],
                       init_statuses=[builders.crashlooping("migrate")])  # fmt: skip
    found = pod_detection(pod)
    assert found is not None and (found.family, found.container) == ("crash", "migrate")


@pytest.mark.parametrize(
    ("reason", "message", "family"),
    [
        ("FailedScheduling", "0/3 nodes are available: 3 Insufficient memory.", "scheduling"),
        ("FailedMount", 'MountVolume.SetUp failed for volume "data"', "mount"),
        ("FailedAttachVolume", "AttachVolume.Attach failed for volume pvc-1", "mount"),
        ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500", "probe"),
        ("Unhealthy", "Startup probe failed: dial tcp 10.0.0.1:8080: connect: connection refused", "probe"),
        ("BackOff", "Back-off restarting failed container api in pod api-7d9f8c6b5-x2k4q", "crash"),
        ("BackOff", 'Back-off pulling image "registry.example.com/api:2.0"', "image"),
        ("Failed", 'Failed to pull image "registry.example.com/api:2.0": not found', "image"),
        ("Failed", 'Error: configmap "api-config" not found', "config"),
        ("Evicted", "The node was low on resource: ephemeral-storage.", "eviction"),
    ],
)
def test_warning_events_are_detected_by_reason(reason: str, message: str, family: str) -> None:
    found = event_detection(builders.event(reason, message))
    assert found is not None and (found.family, found.reason, found.message) == (family, reason, message)
    assert (found.source, found.subject, found.pod) == ("event", "Pod/shop/api-7d9f8c6b5-x2k4q", "api-7d9f8c6b5-x2k4q")


def test_failed_create_on_a_replicaset_names_its_deployment() -> None:
    event = builders.event("FailedCreate", 'pods "api-7d9f8c6b5-" is forbidden: exceeded quota', kind="ReplicaSet",
                           name="api-7d9f8c6b5")  # fmt: skip
    found = event_detection(event)
    assert found is not None and found.family == "config" and found.pod == ""
    assert (found.workload_kind, found.workload_name) == ("Deployment", "api")


def test_one_readiness_failure_is_a_blip_but_repeated_ones_are_a_probe_failure() -> None:
    blip = builders.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=1)
    assert event_detection(blip) is None
    repeated = builders.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=5)
    found = event_detection(repeated)
    assert found is not None and found.family == "probe"
    assert event_detection(repeated, policy=Policy(readiness_repeats=10)) is None


@pytest.mark.parametrize(
    "reason",
    ["Scheduled", "Pulling", "Pulled", "Created", "Started", "Killing", "SuccessfulCreate", "ScalingReplicaSet"],
)
def test_normal_rollout_events_are_noise(reason: str) -> None:
    assert event_detection(builders.event(reason, "whatever happened", type="Normal")) is None


def test_unknown_warnings_and_old_events_are_noise() -> None:
    assert event_detection(builders.event("FailedToUpdateEndpoint", "conflict")) is None
    old = builders.event("FailedMount", "MountVolume.SetUp failed", last="2025-03-02T09:00:00Z")
    assert event_detection(old) is None


def test_events_k8s_io_events_are_read_by_their_own_field_names() -> None:
    found = event_detection(builders.events_v1("BackOff", "Back-off restarting failed container", count=12))
    assert found is not None and (found.family, found.message) == ("crash", "Back-off restarting failed container")
    blip = builders.events_v1("Unhealthy", "Readiness probe failed: timeout", count=1)
    assert event_detection(blip) is None
    assert event_detection(builders.events_v1("Unhealthy", "Readiness probe failed: timeout", count=4)) is not None


def test_node_trouble_reported_as_normal_events_is_detected() -> None:
    event = builders.event("NodeNotReady", "Node worker-1 status is now: NodeNotReady", type="Normal", kind="Node",
                           name="worker-1", namespace="")  # fmt: skip
    found = event_detection(event)
    assert found is not None and (found.family, found.subject, found.workload_kind) == ("node", "Node/worker-1", "Node")


def test_an_event_about_a_known_pod_names_the_pods_workload() -> None:
    pod = builders.pod(owner=("StatefulSet", "db"))
    found = event_detection(builders.event("BackOff", "Back-off restarting failed container"), pod=pod)
    assert found is not None and (found.workload_kind, found.workload_name) == ("StatefulSet", "db")
    alone = event_detection(builders.event("BackOff", "Back-off restarting failed container"))
    assert alone is not None and (alone.workload_kind, alone.workload_name) == ("Pod", "api-7d9f8c6b5-x2k4q")


@pytest.mark.parametrize(
    ("owner", "workload"),
    [
        (("ReplicaSet", "api-7d9f8c6b5"), ("Deployment", "api")),
        (("ReplicaSet", "legacy-set"), ("ReplicaSet", "legacy-set")),
        (("StatefulSet", "db"), ("StatefulSet", "db")),
        (("DaemonSet", "agent"), ("DaemonSet", "agent")),
        (("Job", "backup-28972800"), ("CronJob", "backup")),
        (("Job", "migrate"), ("Job", "migrate")),
        (None, ("Pod", "api-7d9f8c6b5-x2k4q")),
    ],
)
def test_the_workload_comes_from_the_controller_reference(
    owner: tuple[str, str] | None, workload: tuple[str, str]
) -> None:
    found = pod_detection(builders.pod(owner=owner, statuses=[builders.crashlooping()]))
    assert found is not None and (found.workload_kind, found.workload_name) == workload


def test_the_dedup_key_is_cluster_namespace_workload_and_family() -> None:
    from_status = pod_detection(builders.pod(statuses=[builders.crashlooping()]))
    from_event = event_detection(builders.event("BackOff", "Back-off restarting failed container"),
                                 pod=builders.pod())  # fmt: skip
    assert from_status is not None and from_event is not None
    assert from_status.dedup_key == from_event.dedup_key == "prod/shop/Deployment/api/crash"


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        ({"Ready": "False"}, "NodeNotReady"),
        ({"Ready": "Unknown"}, "NodeNotReady"),
        ({"DiskPressure": "True"}, "DiskPressure"),
        ({"MemoryPressure": "True"}, "MemoryPressure"),
        ({"PIDPressure": "True"}, "PIDPressure"),
    ],
)
def test_node_conditions_are_node_detections(conditions: dict[str, str], reason: str) -> None:
    node = builders.node("worker-1")
    node["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    node["status"]["conditions"] = [c for c in node["status"]["conditions"] if c["type"] not in conditions]
    node["status"]["conditions"] += [
        {"type": t, "status": s, "message": "kubelet says so"} for t, s in conditions.items()
    ]
    found = detect_node(node, cluster="prod", now=NOW)
    assert found is not None and (found.family, found.reason, found.subject) == ("node", reason, "Node/worker-1")
    assert detect(node, cluster="prod", now=NOW) == found


def test_a_healthy_node_and_a_healthy_pod_are_noise_and_healthy() -> None:
    node = builders.node("worker-1", DiskPressure="False")
    pod = builders.pod(conditions=[{"type": "Ready", "status": "True"}])
    assert detect_node(node, cluster="prod", now=NOW) is None and is_healthy(node)
    assert pod_detection(pod) is None and is_healthy(pod)
    assert not is_healthy(builders.pod(statuses=[builders.crashlooping()]))


def test_objects_of_other_kinds_are_ignored() -> None:
    assert detect({"kind": "ConfigMap", "metadata": {"name": "x"}}, cluster="prod", now=NOW) is None
