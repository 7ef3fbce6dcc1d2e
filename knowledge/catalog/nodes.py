"""Disk pressure of the *node*: the kubelet evicts pods because nodefs or imagefs is full.

Cleaning unused images is the cheap, reversible first step (they are pulled again on demand). Cordoning and
draining moves every pod off the node and deletes emptyDir data: it is high risk and never unattended.
"""

from __future__ import annotations

from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context
from knowledge.catalog.disk import eviction_scope


def _node_pressure(ctx: Context) -> bool:
    return eviction_scope(ctx) == "node"


@action("clean_node_disk", ("disk_pressure",), "medium", 600, "Free disk on the node: unused images, old logs")
def clean_node_disk(ctx: Context) -> Plan:
    node, resource = ctx.node, ctx.text("evicted_resource")
    ratio = ctx.signals.node.fs_avail_ratio_min if ctx.signals.node else None
    if resource == "imagefs":
        fit = 0.9
    elif _node_pressure(ctx):
        fit = 0.85 if node else 0.4
    elif eviction_scope(ctx) == "container":
        fit = 0.05  # the pod hit its own limit: the node is fine
    else:
        fit = 0.35 if "evicted_by_kubelet" in ctx.rules else 0.1
    target = node or "NODE"
    commands = [
        f"kubectl describe node {target}",
        f"kubectl get --raw /api/v1/nodes/{target}/proxy/stats/summary",
        f"kubectl debug node/{target} -it --image=busybox:1.36 -- chroot /host crictl rmi --prune",
    ]
    return Plan(
        title=f"Free disk on node {node or '(unknown)'}: prune unused images, find big writers",
        fit=fit,
        params=ctx.base_params()
        | {"node": node or None, "evicted_resource": resource or None, "fs_available_ratio": ratio},
        steps=[
            f"Find what fills {node or 'the node'}: the kubelet's stats summary lists each pod's ephemeral use "
            "and the image file system.",
            "Prune images no container uses (crictl rmi --prune from a node debug pod); they are pulled again "
            "when needed.",
            "If one pod writes most of it, give it an ephemeral-storage limit or a volume (see the other actions).",
            "The kubelet lifts DiskPressure by itself once free space is back above its eviction threshold.",
        ],
        commands=commands,
        rollback=[
            "Pruned images are pulled again on demand: nothing to restore.",
            "Delete the node-debugger pod kubectl debug leaves behind (kubectl get pods).",
        ],
    )


@action("cordon_and_drain_node", ("disk_pressure",), "high", 900, "Move all pods off the pressured node")
def cordon_and_drain_node(ctx: Context) -> Plan:
    node = ctx.node
    fit = 0.45 if node and _node_pressure(ctx) else 0.0
    target = node or "NODE"
    return Plan(
        title=f"Cordon and drain node {node or '(unknown)'}",
        fit=fit,
        params=ctx.base_params() | {"node": node or None},
        steps=[
            f"Cordon {target} so nothing new lands on it, then drain it: its pods restart elsewhere.",
            "Drain deletes emptyDir data of the evicted pods and respects PodDisruptionBudgets; single-replica "
            "workloads go down while they move.",
            f"Repair or replace the node's disk, then uncordon {target}.",
        ],
        commands=[
            f"kubectl cordon {target}",
            f"kubectl drain {target} --ignore-daemonsets --delete-emptydir-data --timeout=10m",
            f"kubectl get pods -A -o wide --field-selector spec.nodeName={target}",
        ],
        rollback=[
            f"kubectl uncordon {target}",
            "Evicted pods do not move back by themselves; deleted emptyDir data is gone.",
        ],
    )
