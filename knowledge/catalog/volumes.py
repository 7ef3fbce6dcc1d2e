"""Volumes that cannot be attached or mounted: the pod is scheduled, the storage is not ready for it.

Multi-Attach on a ReadWriteOnce volume is the classic: a Deployment's rolling update starts the new pod before
the old one releases the disk (fix the strategy), or a dead node still holds the attachment (release it, high
risk: force-detaching a disk still in use corrupts it). A missing CSI driver, an unbound claim and a volume in
another zone are read from the cluster before anything is changed.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

_ZONE_CONFLICT = re.compile(r"volume node affinity conflict|had no available volume zone", re.I)
_NOT_REGISTERED = re.compile(r"not found in the list of registered CSI drivers|driver name .{0,60} not found", re.I)


def claim_name(ctx: Context) -> str:
    return ctx.text("claim") or next((c.name for c in ctx.signals.claims), "")


def _pv_lookup(ctx: Context, claim: str) -> str:
    lookup = ctx.kubectl("get", "pvc", claim, "-o", "jsonpath='{.spec.volumeName}'")
    return f"PV=$({lookup})"


@action("use_recreate_strategy", ("volume_mount",), "medium", 120, "Stop rolling updates fighting over one disk")
def use_recreate_strategy(ctx: Context) -> Plan:
    w, replicas = ctx.workload, ctx.workload.replicas or 1
    fit = (0.9 if replicas <= 1 else 0.4) if ctx.flag("multi_attach") and w.kind == "Deployment" else 0.0
    body = {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}
    undo = {
        "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}
    }
    steps = [
        f"{w.label} mounts a ReadWriteOnce volume: with RollingUpdate the new pod waits for a disk the old pod "
        "still holds. Recreate stops the old pod first (a short outage on each rollout).",
    ]
    if replicas > 1:
        steps.append(
            f"It runs {replicas} replicas on one RWO volume: only one node can attach it; use a "
            "StatefulSet with volumeClaimTemplates or a ReadWriteMany storage class."
        )
    return Plan(
        title=f"Switch {w.ref} to the Recreate strategy (RWO volume)",
        fit=fit,
        params=ctx.base_params() | {"claim": claim_name(ctx) or None, "replicas": replicas, "strategy": "Recreate"},
        steps=steps,
        commands=[ctx.kubectl("patch", w.ref, "-p", k.as_json(body))],
        rollback=[ctx.kubectl("patch", w.ref, "-p", k.as_json(undo))],
    )


@action("release_stale_attachment", ("volume_mount",), "high", 600, "Release a volume still attached elsewhere")
def release_stale_attachment(ctx: Context) -> Plan:
    claim, multi = claim_name(ctx), ctx.flag("multi_attach")
    fit = (0.6 if ctx.workload.kind == "Deployment" else 0.85) if multi else 0.0
    commands = [
        _pv_lookup(ctx, claim or "CLAIM"),
        "kubectl get volumeattachment -o custom-columns=NAME:.metadata.name,PV:.spec.source.persistentVolumeName,"
        "NODE:.spec.nodeName,ATTACHED:.status.attached",
        ctx.kubectl("get", "pods", "-o", "wide"),
        'kubectl delete volumeattachment "$ATTACHMENT"',
    ]
    return Plan(
        title=f"Release PVC {claim or '(unknown)'} from the node still holding it",
        fit=fit if claim else fit * 0.5,
        # the pod's own node is where the volume must go, not where it is stuck: never name it as the holder
        params=ctx.base_params() | {"claim": claim or None, "waiting_on_node": ctx.node or None, "multi_attach": multi},
        steps=[
            f"Find the VolumeAttachment of {claim or 'the claim'}'s volume and the node it names"
            + (f" (not {ctx.node}: the new pod waits there for the volume)." if ctx.node else "."),
            "If an old pod still runs there, delete that pod and wait: the disk detaches by itself.",
            "Only if that node is gone or powered off: delete the stale VolumeAttachment (ATTACHMENT from the "
            "list). Never while a pod on it may still write: the file system would be corrupted.",
        ],
        commands=commands,
        rollback=["A deleted attachment is recreated by the attach controller when a pod needs the volume there."],
    )


@action(
    "check_csi_driver",
    ("volume_mount",),
    "low",
    120,
    "Check the CSI driver is installed and running on the node",
    unattended=True,
)
def check_csi_driver(ctx: Context) -> Plan:
    driver, node = ctx.text("driver"), ctx.node
    missing = bool(_NOT_REGISTERED.search(ctx.evidence))
    fit = 0.9 if missing else 0.55 if driver else 0.3
    commands = [f"kubectl get csidriver {driver}" if driver else "kubectl get csidriver"]
    if node:
        commands += [
            f"kubectl get csinode {node} -o jsonpath='{{.spec.drivers[*].name}}'",
            f"kubectl get pods -A -o wide --field-selector spec.nodeName={node}",
        ]
    return Plan(
        title=f"Check CSI driver {driver or '(volume plugin)'} on {node or 'the node'}",
        fit=0.0 if ctx.flag("multi_attach") else fit,
        params=ctx.base_params() | {"driver": driver or None, "node": node or None, "not_registered": missing},
        steps=[
            f"Check {driver or 'the driver'} is registered on {node or 'the node'} and its node plugin pod runs "
            "there (a DaemonSet pod that crashed or was not scheduled on a new node pool).",
            "Restart or fix the node plugin; the kubelet retries the mount by itself.",
        ],
        commands=commands,
        rollback=read_only(ctx),
    )


@action(
    "inspect_pvc_binding", ("volume_mount",), "low", 120, "See why the claim is not bound (read-only)", unattended=True
)
def inspect_pvc_binding(ctx: Context) -> Plan:
    claim = claim_name(ctx)
    known = next((c for c in ctx.signals.claims if c.name == claim), None)
    unbound = (
        (known is not None and known.phase in ("Pending", "Lost"))
        or ctx.text("scheduling_reason") in ("volume_unbound", "unknown")
        or "volume_cannot_be_provisioned" in ctx.rules
    )
    return Plan(
        title=f"Inspect why PVC {claim or '(unknown)'} is not bound",
        fit=0.9 if unbound and claim else 0.3 if claim else 0.1,
        params=ctx.base_params()
        | {
            "claim": claim or None,
            "phase": known.phase if known else None,
            "storage_class": known.storage_class if known else None,
        },
        steps=[
            "Read the claim's events: a StorageClass that does not exist, a provisioner that is down, a quota of "
            "the cloud account, or no PersistentVolume matching a static claim.",
            "Fix the StorageClass name in the claim (it is immutable: recreate the claim) or the provisioner.",
        ],
        commands=[
            ctx.kubectl("describe", "pvc", claim or ""),
            "kubectl get storageclass",
            "kubectl get pv",
        ],
        rollback=read_only(ctx),
    )


@action("move_to_volume_zone", ("volume_mount", "scheduling"), "medium", 900, "Run the pod in its volume's zone")
def move_to_volume_zone(ctx: Context) -> Plan:
    claim = claim_name(ctx) or "CLAIM"
    zone = (
        ctx.text("scheduling_reason") == "volume_zone"
        or "volume_topology" in ctx.rules
        or bool(_ZONE_CONFLICT.search(ctx.evidence))
    )
    return Plan(
        title=f"Make room in the zone of PVC {claim}'s volume",
        fit=(0.9 if ctx.category == "scheduling" else 0.6) if zone else 0.0,
        params=ctx.base_params() | {"claim": claim},
        steps=[
            f"The volume of {claim} lives in one zone and no node with room is in that zone.",
            "Add capacity in that zone (node pool per zone), or remove a nodeSelector/affinity that keeps the pod "
            "out of it.",
            "For new claims, a StorageClass with volumeBindingMode: WaitForFirstConsumer provisions in the pod's zone.",
        ],
        commands=[
            _pv_lookup(ctx, claim),
            "kubectl get pv \"$PV\" -o jsonpath='{.spec.nodeAffinity}'",
            "kubectl get nodes -L topology.kubernetes.io/zone",
        ],
        rollback=read_only(ctx),
    )
