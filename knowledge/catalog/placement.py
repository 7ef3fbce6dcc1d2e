"""Pods the scheduler *may not* place: taints, affinity, spread constraints, cordoned nodes.

Tolerations are only offered for taints someone put on purpose (``dedicated=gpu``); Kubernetes' own taints
(not-ready, unreachable, disk-pressure, control-plane) describe broken or reserved nodes and tolerating them
would hide the real problem. Affinity and spread constraints are edited by hand: the fix (required → preferred,
a label typo, more zones) depends on intent the snapshot does not carry.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

_TAINT = re.compile(r"\{(?P<key>[\w./-]+):\s*(?P<value>[\w./-]*)\}")
SYSTEM_TAINTS = (
    "CriticalAddonsOnly",
    "node.kubernetes.io/",
    "node-role.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
)
_CONSTRAINTS = {
    "affinity": "nodeSelector / node affinity matches no node with room: check the labels it asks for exist "
    "(a typo, or a node pool that was renamed).",
    "anti_affinity": "required pod anti-affinity allows one replica per node (or zone): there are more replicas "
    "than places; make it preferred, or add nodes.",
    "topology_spread": "a topologySpreadConstraint with whenUnsatisfiable: DoNotSchedule cannot be met: use "
    "ScheduleAnyway or raise maxSkew, or add nodes in the missing zone.",
}


def taints(evidence: str) -> list[tuple[str, str]]:
    return list(dict.fromkeys((m["key"], m["value"]) for m in _TAINT.finditer(evidence)))


def node_share(evidence: str, key: str) -> float:
    """Share of the cluster's nodes the taint keeps out ("0/4 nodes are available: 1 node(s) had untolerated
    taint {key: ...}"): tolerating a taint that blocks one node of four rarely places the pod."""
    total = re.search(r"0/(\d+) nodes are available", evidence)
    blocked = re.search(r"(\d+) node\(s\) had (?:untolerated )?taints? \{" + re.escape(key), evidence)
    if not total or not blocked or not int(total.group(1)):
        return 1.0
    return min(1.0, int(blocked.group(1)) / int(total.group(1)))


@action("add_toleration", ("scheduling",), "medium", 180, "Tolerate the taint of the nodes meant for this pod")
def add_toleration(ctx: Context) -> Plan:
    found = taints(ctx.evidence)
    custom = [(key, value) for key, value in found if not key.startswith(SYSTEM_TAINTS)]
    key, value = custom[0] if custom else (found[0] if found else ("", ""))
    toleration = {"key": key, "operator": "Equal", "value": value} if value else {"key": key, "operator": "Exists"}
    is_taint = ctx.text("scheduling_reason") == "taint"
    fit = (0.75 * (0.4 + 0.6 * node_share(ctx.evidence, key)) if custom else 0.05) if is_taint else 0.0
    if custom:
        change, extra = k.template_change(ctx, [k.patch_pod_spec(ctx, {"tolerations": [toleration]})])
    else:
        change, extra = ["kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints"], []
    shown = f"{key}={value}" if value else key or "?"
    steps = [
        f"The only nodes with room carry taint {shown}: if this workload belongs on them, tolerate it.",
        "The patch replaces the template's tolerations list: if the first command shows existing tolerations, "
        "add this one to them by hand (kubectl edit) instead.",
    ]
    if not custom:
        steps = [
            f"The taint {shown} is Kubernetes' own (node not ready, cordoned, under pressure or control "
            "plane): fix the nodes rather than tolerating it."
        ]
    return Plan(
        title=f"Tolerate taint {shown} on {ctx.workload.ref}",
        fit=fit,
        params=ctx.base_params()
        | {"taint_key": key or None, "taint_value": value or None, "toleration": toleration if key else None},
        steps=extra + steps,
        commands=[k.pod_spec_jsonpath(ctx, "tolerations"), *change],
        rollback=k.template_undo(ctx, []) if custom else read_only(ctx),
    )


@action("relax_scheduling_constraints", ("scheduling",), "medium", 300, "Relax affinity or spread constraints")
def relax_scheduling_constraints(ctx: Context) -> Plan:
    why = ctx.text("scheduling_reason")
    if why == "affinity" and re.search(r"anti-affinity", ctx.evidence, re.I):
        why = "anti_affinity"
    replicas = ctx.workload.replicas
    steps = [_CONSTRAINTS.get(why, "Compare the pod's placement constraints with the nodes' labels.")]
    if why in ("anti_affinity", "topology_spread") and replicas:
        steps.append(f"{ctx.workload.label} wants {replicas} replicas: count the nodes/zones that qualify.")
    steps.append(f"Edit the constraint in {ctx.workload.label} (and in its source manifest).")
    field = {"topology_spread": "topologySpreadConstraints"}.get(why, "affinity")
    change, extra = k.edit(ctx)
    return Plan(
        title=f"Relax the {why.replace('_', ' ') or 'placement'} constraints of {ctx.workload.ref}",
        fit=0.85 if why in _CONSTRAINTS else 0.0,
        params=ctx.base_params() | {"scheduling_reason": why or None, "replicas": replicas},
        steps=extra + steps,
        commands=[
            k.pod_spec_jsonpath(ctx, field),
            k.pod_spec_jsonpath(ctx, "nodeSelector"),
            "kubectl get nodes --show-labels",
            *change,
        ],
        rollback=k.template_undo(ctx, []),
    )


@action("uncordon_nodes", ("scheduling",), "high", 120, "Return cordoned nodes to service")
def uncordon_nodes(ctx: Context) -> Plan:
    cordoned = "unschedulable_nodes" in ctx.text("scheduling_reason") or bool(
        re.search(r"node\(s\) were unschedulable", ctx.evidence)
    )
    return Plan(
        title="Find cordoned nodes and uncordon those whose maintenance is over",
        fit=0.6 if cordoned else 0.0,
        params=ctx.base_params() | {"cordoned_nodes_seen": cordoned},
        steps=[
            "Some nodes are cordoned (unschedulable): find out why before uncordoning (maintenance, a failing "
            "disk, an upgrade in progress).",
            "Uncordon only nodes whose maintenance is over, one by one (NODE from the first command).",
        ],
        commands=["kubectl get nodes --field-selector spec.unschedulable=true -o wide", 'kubectl uncordon "$NODE"'],
        rollback=['kubectl cordon "$NODE"'],
    )
