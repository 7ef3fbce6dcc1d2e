"""Pods that run and still fail at their job: workers OOM-killed inside them, dependencies they cannot reach,
API calls the server denies, with or without a failing readiness probe."""

from __future__ import annotations

from typing import Any

from tests import builders as b
from tests.unit.knowledge.rules_support import category_of, facts_of

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
