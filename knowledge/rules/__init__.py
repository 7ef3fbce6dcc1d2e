"""Rules per failure mechanism. Each is a pure function ``Signals -> list[Finding]``; ``evaluate`` runs them all."""

from __future__ import annotations

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules import (
    admission,
    configs,
    cpu,
    crashes,
    evictions,
    health,
    images,
    initwait,
    memory,
    policies,
    probes,
    sandboxes,
    scheduling,
    volumes,
)
from knowledge.rules.base import Rule

RULES: tuple[Rule, ...] = (
    images.image_cannot_be_pulled,
    configs.container_config_unavailable,
    memory.killed_for_memory,
    memory.processes_killed_for_memory,
    evictions.evicted_by_kubelet,
    evictions.node_under_disk_pressure,
    evictions.volume_nearly_full,
    scheduling.cannot_be_scheduled,
    admission.owner_cannot_create_pods,
    volumes.volume_cannot_be_mounted,
    sandboxes.pod_network_not_set_up,
    cpu.cpu_throttled,
    probes.probe_kills_container,
    probes.readiness_never_passes,
    crashes.process_exits,
    crashes.running_but_cut_off,
    policies.egress_blocked_by_policy,
    initwait.init_waits_for_dependency,
    health.completed_successfully,
    health.draining_for_rollout,
    health.healthy_now,
    health.just_created,
)


def evaluate(signals: Signals) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(signals))
    return findings
