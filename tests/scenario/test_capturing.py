"""Capturing a Snapshot through the API: everything about a pod, and a clear record of what could not be read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aetherius.errors import AccessDenied, ApiUnavailable, ConfigurationError, NotFound, TemporaryError
from aetherius.settings import Settings
from collectors.kube import capture_pod
from collectors.kube.capturing import CapturingSink, capture
from collectors.kube.clients import ClusterReader
from collectors.kube.detecting import Detection, detect_pod
from collectors.prometheus import pod_queries
from knowledge.loading import to_snapshot
from knowledge.signals import extract
from tests import builders
from tests.fakes import NOW
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(60)]

POD = "api-7d9f8c6b5-x2k4q"
MANAGED = [{"manager": "kubelet", "operation": "Update", "fieldsV1": {"f:status": {}}}]


class Metrics:
    """The MetricsSource port: answers the memory series, fails the CPU one."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        self.queries.append(promql)
        if promql.startswith("container_cpu_usage_seconds_total"):
            raise TemporaryError("Prometheus answered 503")
        if promql.startswith("container_memory_working_set_bytes"):
            return [builders.series("container_memory_working_set_bytes", [2.4e8, 2.5e8], container="api")]
        return []


def owned(obj: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": name, "controller": True}]
    return obj


def apps(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    labels = {"app": "api"}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "shop", "labels": labels,
            **extra}, "spec": {"selector": {"matchLabels": labels}, "replicas": 2}}  # fmt: skip


def world(kube: FakeKube) -> None:
    """A Deployment with two revisions, its crashlooping pod on worker-1 with a PVC and a ConfigMap, and logs."""
    kube.create(apps("Deployment", "api"))
    kube.create(owned(apps("ReplicaSet", "api-7d9f8c6b5", annotations={"deployment.kubernetes.io/revision": "2"}),
                      "Deployment", "api"))  # fmt: skip
    kube.create(owned(apps("ReplicaSet", "api-5c6d7f8b9", annotations={"deployment.kubernetes.io/revision": "1"}),
                      "Deployment", "api"))  # fmt: skip
    kube.create(owned(apps("ReplicaSet", "impostor-5c6d7f8b9"), "Deployment", "someone-else"))
    node = builders.node("worker-1")
    node["metadata"]["managedFields"] = MANAGED
    kube.create(node)
    kube.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "standard"},
                 "provisioner": "ebs.csi.aws.com"})  # fmt: skip
    kube.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-data"},
                 "spec": {"storageClassName": "standard", "capacity": {"storage": "10Gi"}}})  # fmt: skip
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "shop"}}
    claim_spec = {"storageClassName": "standard", "volumeName": "pv-data"}
    kube.create(claim | {"spec": claim_spec, "status": {"phase": "Bound"}})
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config", "namespace": "shop"},
                 "data": {"LOG_LEVEL": "debug", "DB_PASSWORD": "hunter2"}})  # fmt: skip
    pod = builders.pod(statuses=[builders.crashlooping(restarts=5)])
    pod["metadata"]["managedFields"] = MANAGED
    pod["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                              {"name": "cfg", "configMap": {"name": "api-config"}}]  # fmt: skip
    kube.create(pod)
    kube.create(builders.event("BackOff", "Back-off restarting failed container", last="2025-03-02T10:14:30Z"))
    kube.create(builders.events_v1("Unhealthy", "Liveness probe failed: connection refused"))  # the other Event API
    node_event = builders.event("NodeHasSufficientMemory", "Node worker-1 status is now: NodeHasSufficientMemory",
                                type="Normal", kind="Node", name="worker-1", namespace="")  # fmt: skip
    node_event["metadata"] = {"name": "worker-1.abc", "namespace": "default"}
    kube.create(node_event)
    kube.set_log("shop", POD, "api", "starting\nlistening on :8080\n")
    kube.set_log("shop", POD, "api", "starting\npanic: nil map\n", previous=True)


def test_a_full_capture_follows_the_pod_to_its_node_owners_volumes_logs_and_metrics(
    kube: FakeKube, reader: ClusterReader
) -> None:
    world(kube)
    metrics = Metrics()
    snapshot = capture(reader, "shop", POD, cluster="test", prometheus=metrics, tail_lines=1, now=lambda: NOW)
    kinds = [(o["kind"], o["metadata"]["name"]) for o in snapshot.objects]
    assert kinds == [
        ("Pod", POD), ("Event", f"{POD}.18b"), ("Event", f"{POD}.17a"),  # oldest first, each event once
        ("Node", "worker-1"), ("Event", "worker-1.abc"),
        ("ReplicaSet", "api-7d9f8c6b5"), ("Deployment", "api"), ("ReplicaSet", "api-5c6d7f8b9"),
        ("PersistentVolumeClaim", "data"), ("PersistentVolume", "pv-data"), ("StorageClass", "standard"),
        ("ConfigMap", "api-config"),
    ]  # fmt: skip
    assert all(o["apiVersion"] and "managedFields" not in o["metadata"] for o in snapshot.objects)
    assert snapshot.objects[-1]["data"] == {"LOG_LEVEL": "", "DB_PASSWORD": ""}
    assert [(log.container, log.previous, log.text) for log in snapshot.logs] == [
        ("api", False, "listening on :8080\n"), ("api", True, "panic: nil map\n"),
    ]  # fmt: skip
    assert [m.name for m in snapshot.metrics] == ["container_memory_working_set_bytes"]
    assert metrics.queries == pod_queries("shop", POD, "worker-1")
    meta = snapshot.metadata.model_dump(by_alias=True)
    assert (meta["cluster"], meta["name"], meta["namespace"]) == ("test", POD, "shop")
    assert meta["skipped"] == ["metrics container_cpu_usage_seconds_total: Prometheus answered 503"]
    reread = to_snapshot(snapshot.to_document())  # what `aeth diagnose --snapshot` would read back
    assert reread.pod["metadata"]["name"] == POD and len(reread.objects) == len(snapshot.objects)


def test_a_pod_deleted_before_capture_is_not_found_with_a_clear_message(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.pod())
    kube.delete("v1", "Pod", "shop", POD)
    with pytest.raises(NotFound, match=f"pod shop/{POD} not found: it was deleted before it could be captured"):
        capture(reader, "shop", POD, cluster="test")


def test_a_forbidden_node_is_skipped_and_the_capture_succeeds(kube: FakeKube, reader: ClusterReader) -> None:
    world(kube)
    denied = kube.fail("get", "/api/v1/nodes/worker-1", 403)
    snapshot = capture(reader, "shop", POD, cluster="test")
    assert denied.hits == 1
    assert "Node" not in [o["kind"] for o in snapshot.objects] and snapshot.pod["metadata"]["name"] == POD
    assert snapshot.metadata.model_dump()["skipped"] == ["nodes/worker-1: forbidden"]


def test_the_namespaces_network_policies_are_captured_and_a_forbidden_list_is_only_skipped(
    kube: FakeKube, reader: ClusterReader
) -> None:
    world(kube)
    lockdown = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "egress-lockdown", "namespace": "shop"},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}  # fmt: skip
    kube.create(lockdown)
    kube.create(lockdown | {"metadata": {"name": "elsewhere", "namespace": "payments"}})
    snapshot = capture(reader, "shop", POD, cluster="test")
    policies = [o for o in snapshot.objects if o["kind"] == "NetworkPolicy"]
    assert [(p["apiVersion"], p["metadata"]["name"]) for p in policies] == [("networking.k8s.io/v1", "egress-lockdown")]
    assert extract(snapshot).network_policies[0].egress_allows == ["nothing"]

    kube.fail("get", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", 403)
    snapshot = capture(reader, "shop", POD, cluster="test")
    assert "NetworkPolicy" not in [o["kind"] for o in snapshot.objects]
    assert snapshot.metadata.model_dump()["skipped"] == ["networkpolicies: forbidden"]


def test_a_500_on_a_log_is_recorded_and_the_rest_is_kept(kube: FakeKube, reader: ClusterReader) -> None:
    world(kube)
    kube.fail("get", f"/api/v1/namespaces/shop/pods/{POD}/log?previous=true", 500)
    snapshot = capture(reader, "shop", POD, cluster="test")
    assert [(log.previous, log.text) for log in snapshot.logs] == [(False, "starting\nlistening on :8080\n")]
    (skip,) = snapshot.metadata.model_dump()["skipped"]
    assert skip.startswith("logs/api (previous): ") and "500" in skip


def test_403_and_timeouts_on_optional_evidence_are_recorded_skips(kube: FakeKube, kube_settings: Settings) -> None:
    world(kube)
    kube.fail("get", "/apis/apps/v1/namespaces/shop/deployments/api", 403)
    kube.fail("get", "/api/v1/namespaces/shop/persistentvolumeclaims/data", 403)
    kube.delay("get", "/api/v1/namespaces/shop/pods/*/log", 2.0)
    reader = ClusterReader.from_settings(kube_settings, timeout_s=0.5)
    snapshot = capture(reader, "shop", POD, cluster="test")
    skipped = snapshot.metadata.model_dump()["skipped"]
    assert skipped[:2] == ["deployments/api: forbidden", "persistentvolumeclaims/data: forbidden"]
    assert skipped[2:] == [f"logs/api: get pods/{POD}/log in shop (api): timed out",
                           f"logs/api (previous): get pods/{POD}/log in shop (api, previous): timed out"]  # fmt: skip
    assert [o["kind"] for o in snapshot.objects if o["kind"] in ("ReplicaSet", "Deployment")] == ["ReplicaSet"]
    assert snapshot.logs == []


def test_a_timeout_on_the_pod_is_api_unavailable(kube: FakeKube, kube_settings: Settings) -> None:
    kube.create(builders.pod())
    kube.delay("get", f"/api/v1/namespaces/shop/pods/{POD}", 2.0)
    reader = ClusterReader.from_settings(kube_settings, timeout_s=0.3)
    with pytest.raises(ApiUnavailable, match="timed out"):
        capture(reader, "shop", POD, cluster="test")


def test_a_forbidden_pod_is_access_denied_naming_what_to_grant(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.pod())
    kube.fail("get", f"/api/v1/namespaces/shop/pods/{POD}", 403)
    with pytest.raises(AccessDenied, match=f"get pods/{POD} in shop: forbidden .*cannot get resource"):
        capture(reader, "shop", POD, cluster="test")


def test_a_restarted_container_without_a_previous_log_is_not_an_error(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create(builders.pod(owner=None, node="", statuses=[builders.running(restarts=2)]))
    kube.set_log("shop", POD, "api", "ok\n")
    snapshot = capture(reader, "shop", POD, cluster="test")  # the kubelet answers 400 "previous ... not found"
    assert [(log.previous, log.text) for log in snapshot.logs] == [(False, "ok\n")]
    assert snapshot.metadata.model_dump()["skipped"] == []


def test_a_missing_configmap_and_an_unknown_owner_are_recorded_clues(kube: FakeKube, reader: ClusterReader) -> None:
    pod = builders.pod(owner=None, node="", statuses=[builders.waiting("api", "CreateContainerConfigError")])
    pod["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "feature-flags"}}]
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api",
                                           "uid": "r-1", "controller": True}]  # fmt: skip
    kube.create(pod)
    snapshot = capture(reader, "shop", POD, cluster="test")
    assert snapshot.metadata.model_dump()["skipped"] == [
        "Rollout/api: owner kind not followed (argoproj.io/v1alpha1)",
        "configmaps/feature-flags: not found",
    ]
    assert snapshot.logs == []  # waiting to start: no log yet, and that is not an error


def test_a_cronjob_pod_is_followed_to_its_cronjob(kube: FakeKube, reader: ClusterReader) -> None:
    kube.create({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "namespace": "shop"}})
    cron_ref = {"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup", "controller": True}
    job_meta = {"name": "backup-28972800", "namespace": "shop", "ownerReferences": [cron_ref]}
    kube.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta})
    pod = builders.pod("backup-28972800-abcde", owner=None, node="", phase="Failed", statuses=[])
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": "backup-28972800",
                                           "controller": True}]  # fmt: skip
    kube.create(pod)
    snapshot = capture(reader, "shop", "backup-28972800-abcde", cluster="test")
    assert [o["kind"] for o in snapshot.objects] == ["Pod", "Job", "CronJob"]
    assert snapshot.metadata.model_dump()["skipped"] == []


def test_capture_pod_reads_the_settings_and_a_pod_reference(kube: FakeKube, kube_settings: Settings) -> None:
    world(kube)
    snapshot = capture_pod(kube_settings, f"pod/{POD}", "shop")
    assert snapshot.pod["metadata"]["name"] == POD and snapshot.metadata.cluster == "test"
    assert snapshot.metadata.model_dump()["skipped"] == []


def test_the_settings_context_picks_the_cluster_from_a_kubeconfig(kube: FakeKube, tmp_path: Path) -> None:
    world(kube)
    path = kube.kubeconfig(tmp_path / "kubeconfig", context="fake")
    config = json.loads(path.read_text())
    config["clusters"].append({"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}})
    config["contexts"].append({"name": "prod", "context": {"cluster": "elsewhere", "user": "fake"}})
    config["current-context"] = "prod"
    path.write_text(json.dumps(config))
    settings = Settings(kubeconfig=str(path), kube_context="fake", cluster_name="picked", data_dir=tmp_path)
    assert capture_pod(settings, POD, "shop").metadata.cluster == "picked"
    with pytest.raises(ApiUnavailable, match="connection failed"):  # the file's current context: nobody there
        capture_pod(Settings(kubeconfig=str(path), data_dir=tmp_path), POD, "shop")


@pytest.mark.skipif("KUBECONFIG" in os.environ, reason="the client reads $KUBECONFIG once, at import")
def test_without_settings_outside_a_cluster_it_reads_the_users_kubeconfig(
    kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(kube)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # not in a pod: no in-cluster config
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".kube").mkdir()
    kube.kubeconfig(tmp_path / ".kube" / "config")
    assert capture_pod(Settings(data_dir=tmp_path), f"pods/{POD}", "shop").pod["metadata"]["name"] == POD
    (tmp_path / ".kube" / "config").unlink()
    with pytest.raises(ConfigurationError, match="cannot load Kubernetes credentials"):
        capture_pod(Settings(data_dir=tmp_path), POD, "shop")


def test_a_kubeconfig_without_the_context_is_a_configuration_error(kube: FakeKube, tmp_path: Path) -> None:
    path = kube.kubeconfig(tmp_path / "kubeconfig")
    settings = Settings(kubeconfig=str(path), kube_context="missing", data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="context 'missing'"):
        capture_pod(settings, POD, "shop")


def test_a_detection_is_handed_over_with_its_snapshot_or_with_why_there_is_none(
    kube: FakeKube, reader: ClusterReader
) -> None:
    world(kube)
    handed: list[tuple[Detection, Any, str | None]] = []
    sink = CapturingSink(reader, lambda d, snap, problem: handed.append((d, snap, problem)), tail_lines=50)
    detection = detect_pod(kube.get("v1", "Pod", "shop", POD), cluster="test", now=NOW)
    assert detection is not None
    sink(detection)
    kube.delete("v1", "Pod", "shop", POD)
    sink(detection)  # the pod is gone by the time the incident is captured again
    (first, snapshot, none), (second, nothing, problem) = handed
    assert first is second is detection
    assert snapshot.pod["metadata"]["name"] == POD and none is None
    assert nothing is None and problem is not None and "deleted before it could be captured" in problem
