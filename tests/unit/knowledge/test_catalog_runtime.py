"""Probes, volumes, fallbacks and restarts: what changes at run time, and how to undo it."""

from __future__ import annotations

import pytest

from aetherius.signals import LogLine, Owner, Probe
from aetherius.taxonomy import CATEGORIES, Category
from knowledge.catalog import recommend
from tests.unit.knowledge.catalog_support import (
    LIVENESS,
    MI,
    POD,
    api,
    by_id,
    deployment,
    finding,
    first,
    recs,
    signals,
)

# --- probes --------------------------------------------------------------------------------------------------------


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
