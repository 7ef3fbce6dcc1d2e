"""Pods the scheduler cannot place for lack of room: more nodes, smaller requests, or a bigger quota.

Which one is right depends on the evidence: requests far above measured use are the bug (lower them, sized from
the metrics); requests that are honest need capacity. A quota refusal names the quota, what was requested and
what is used, so the new hard limit is computed from the scheduler's own numbers.
"""

from __future__ import annotations

import dataclasses
import re

from aetherius.quantities import parse_quantity
from aetherius.signals import Container
from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context
from knowledge.catalog.sizing import bytes_quantity, cores_quantity, round_up_bytes, round_up_millicores

_QUOTA = re.compile(
    r"exceeded quota: (?P<quota>[\w.-]+), requested: (?P<req>.+?), used: (?P<used>.+?), "
    r"limited: (?P<lim>[\w.=/,-]+)"
)


def reason(ctx: Context) -> str:
    return ctx.text("scheduling_reason")


def pod_requests(ctx: Context) -> dict[str, str]:
    regular = [c for c in ctx.signals.containers if not c.init]
    cpu = sum(c.cpu_request or 0 for c in regular)
    memory = sum(c.memory_request or 0 for c in regular)
    return {"cpu": cores_quantity(round(cpu * 1000)) if cpu else "", "memory": bytes_quantity(memory) if memory else ""}


def _largest(ctx: Context, resource: str) -> Container | None:
    def size(c: Container) -> float:
        return (c.cpu_request if resource == "cpu" else c.memory_request) or 0.0

    return max((c for c in ctx.signals.containers if not c.init), key=size, default=None)


@action("add_node_capacity", ("scheduling",), "medium", 900, "Add nodes (or bigger ones) to the node pool")
def add_node_capacity(ctx: Context) -> Plan:
    why = reason(ctx)
    fit = {"too_many_pods": 0.9, "insufficient_cpu": 0.8, "insufficient_memory": 0.8, "insufficient_resource": 0.85}
    requests = pod_requests(ctx)
    wanted = ", ".join(f"{v} {r}" for r, v in requests.items() if v) or "its requests"
    return Plan(
        title=f"Add node capacity for {ctx.pod} ({why.replace('_', ' ') or 'no room'})",
        fit=fit.get(why, 0.1),
        params=ctx.base_params() | {"scheduling_reason": why or None, "pod_requests": requests},
        steps=[
            f"No node has {wanted} free"
            + (" (or the nodes are at their pod limit)." if why == "too_many_pods" else "."),
            "Compare allocatable with what is already requested on each node; check whether the cluster "
            "autoscaler is blocked (max size reached, quota of the cloud account).",
            "Raise the node pool's size (or its machine type) in your cloud console or IaC.",
        ],
        commands=[
            "kubectl get nodes -o custom-columns=NAME:.metadata.name,CPU:.status.allocatable.cpu,"
            "MEMORY:.status.allocatable.memory,PODS:.status.allocatable.pods",
            "kubectl top nodes",
            "kubectl -n kube-system get configmap cluster-autoscaler-status -o yaml",
        ],
        rollback=["Scale the node pool back to its previous size once the load is gone."],
        unattended=False,
    )


@action("lower_resource_requests", ("scheduling",), "medium", 180, "Lower requests that exceed real use")
def lower_resource_requests(ctx: Context) -> Plan:
    why = reason(ctx)
    resource = {"insufficient_cpu": "cpu", "insufficient_memory": "memory"}.get(why, "")
    c = _largest(ctx, resource or "memory")
    if c is None:
        return Plan(
            "Lower the pod's requests (no container found)",
            0.0,
            ctx.base_params(),
            ["No container."],
            [ctx.kubectl("get", "pod", ctx.pod, "-o", "yaml")],
            ["Nothing changed."],
        )
    ctx = dataclasses.replace(ctx, container=c, container_name=c.name)
    current = (c.cpu_request if resource == "cpu" else c.memory_request) or 0.0
    used = (c.cpu_usage_cores if resource == "cpu" else c.memory_peak) or 0.0
    if used and used * 1.3 < current:
        target, basis, fit = used * 1.3, "measured use + 30%", 0.85
    else:
        target, basis, fit = current * 0.75, "25% lower, unverified: check kubectl top first", 0.35
    if resource == "cpu":
        new, old = cores_quantity(round_up_millicores(target)), cores_quantity(round(current * 1000))
    else:
        new, old = bytes_quantity(round_up_bytes(target, fine=True)), bytes_quantity(current)
    if not resource or not current or (parse_quantity(new) or 0) >= current:
        fit = 0.0
    commands, extra = k.template_change(ctx, [k.set_resources(ctx, requests={resource or "memory": new})])
    return Plan(
        title=f"Lower {c.name} {resource or 'resource'} request {old} → {new}",
        fit=fit,
        params=ctx.base_params()
        | {"resource": resource or None, "current_request": old, "new_request": new, "basis": basis},
        steps=extra
        + [
            f"Request {new} {resource or 'memory'} for {c.name} instead of {old} ({basis}): the scheduler "
            "places pods on requests, not on use.",
            "Keep the limit: the container may still use more when the node has it.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [k.set_resources(ctx, requests={resource or "memory": old})]),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class QuotaChange:
    quota: str
    new: dict[str, str]
    old: dict[str, str]


def quota_refusal(evidence: str) -> QuotaChange | None:
    """The quota named by an "exceeded quota" message and the hard values that would admit the pod."""
    match = _QUOTA.search(evidence)
    if not match:
        return None

    def pairs(text: str) -> dict[str, str]:
        return dict(p.split("=", 1) for p in text.split(",") if "=" in p)

    requested, used, limited = pairs(match["req"]), pairs(match["used"]), pairs(match["lim"])
    hard: dict[str, str] = {}
    for resource, amount in requested.items():
        need = (parse_quantity(amount) or 0) + (parse_quantity(used.get(resource, "0")) or 0)
        if need <= (parse_quantity(limited.get(resource, "0")) or 0):
            continue
        if resource.endswith("cpu"):
            hard[resource] = cores_quantity(round_up_millicores(need))
        elif resource.endswith(("memory", "storage")):
            hard[resource] = bytes_quantity(round_up_bytes(need))
        else:
            hard[resource] = str(int(need))
    return QuotaChange(match["quota"], hard, {r: limited[r] for r in hard if r in limited})


@action("raise_resource_quota", ("scheduling",), "medium", 120, "Raise the namespace's ResourceQuota")
def raise_resource_quota(ctx: Context) -> Plan:
    change = quota_refusal(ctx.evidence)
    is_quota = reason(ctx) == "quota" or change is not None
    quota, new, old = (change.quota, change.new, change.old) if change else ("", {}, {})
    commands = [ctx.kubectl("describe", "resourcequota", *([quota] if quota else []))]
    rollback = read_only(ctx)
    if quota and new:
        commands.append(
            ctx.kubectl("patch", "resourcequota", quota, "--type=merge", "-p", k.as_json({"spec": {"hard": new}}))
        )
        rollback = [
            ctx.kubectl("patch", "resourcequota", quota, "--type=merge", "-p", k.as_json({"spec": {"hard": old}}))
        ]
    return Plan(
        title=f"Raise ResourceQuota {quota or '(namespace)'}"
        + (" to " + ", ".join(f"{r}={v}" for r, v in new.items()) if new else ""),
        fit=(0.9 if new else 0.6) if is_quota else 0.0,
        params=ctx.base_params() | {"quota": quota or None, "new_hard": new or None, "current_hard": old or None},
        steps=[
            f"The namespace {ctx.namespace} is at its ResourceQuota: new pods are refused before scheduling.",
            "Raise the quota if the team's budget allows it; otherwise free room (scale down or lower requests).",
        ],
        commands=commands,
        rollback=rollback,
    )
