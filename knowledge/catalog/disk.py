"""Disk pressure of the *workload*: a full volume, a container filling its node's disk, dumps with nowhere to go.

A full PVC grows (when its StorageClass allows expansion) to keep use under 70%; a PVC never shrinks, which the
rollback says plainly. A container evicted for ephemeral storage gets a request and limit sized from what it
wrote, so the scheduler accounts for it and the kubelet evicts it alone instead of starving the node.
"""

from __future__ import annotations

import re

from aetherius.quantities import format_bytes, parse_quantity
from aetherius.signals import Claim
from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context
from knowledge.catalog.sizing import GI, bytes_quantity, round_up_bytes, round_up_storage, with_headroom

TARGET_USE = 0.7
_OWN_LIMIT = re.compile(
    r"exceeds the total limit|exceeded its local ephemeral storage limit|emptyDir usage exceeds", re.I
)
_NODE_LOW = re.compile(r"node was low on resource|DiskPressure|disk-pressure|EvictionThresholdMet|ImageGCFailed", re.I)
_NODE_RULES = {"node_under_disk_pressure", "node_disk_pressure_taint"}
_SCRATCH = ("/tmp", "/var/tmp", "/dumps", "/heapdump", "/var/log", "/cache", "/var/cache", "/scratch")
_PATH = re.compile(r"(?:write|open|create|mkdir|dump)\w*[^/\n]{0,40}(/[\w.-]+(?:/[\w.-]+)*)", re.I)


def eviction_scope(ctx: Context) -> str:
    """ "container" when the pod outgrew its own ephemeral-storage limit, "node" when the node ran short of disk
    (the pod is then a victim, evicted for using more than its request, often zero), "" when unknown."""
    text = "\n".join([ctx.evidence, ctx.signals.pod_message])
    if _OWN_LIMIT.search(text):
        return "container"
    if ctx.text("evicted_resource") in ("nodefs", "imagefs") or _NODE_LOW.search(text) or ctx.rules & _NODE_RULES:
        return "node"
    return ""


def scratch_path(evidence: str) -> str:
    """The directory the log says it failed to write, when it is a scratch location; mounting over an
    application directory would hide the image's own files."""
    match = _PATH.search(evidence)
    directory = match.group(1).rsplit("/", 1)[0] if match else ""
    return directory if directory.startswith(_SCRATCH) else "/tmp"


def claim(ctx: Context) -> Claim | None:
    name = ctx.text("claim")
    claims = ctx.signals.claims
    named = next((c for c in claims if c.name == name), None)
    if named or name:
        return named or Claim(name=name)
    return max(claims, key=lambda c: c.used_ratio or 0.0, default=None)


@action("expand_pvc", ("disk_pressure",), "medium", 300, "Expand the full PersistentVolumeClaim")
def expand_pvc(ctx: Context) -> Plan:
    pvc = claim(ctx)
    if pvc is None:
        return Plan(
            "Expand the full volume (no claim found)",
            0.0,
            ctx.base_params(),
            ["The pod mounts no PersistentVolumeClaim: free space inside the container instead."],
            [ctx.kubectl("get", "pvc")],
            ["Nothing changed."],
        )
    ratio = ctx.number("used_ratio") or pvc.used_ratio
    size = parse_quantity(pvc.requested)
    new = round_up_storage(max(size * 1.5, size * (ratio or 0) / TARGET_USE)) if size else None
    if "volume_nearly_full" in ctx.rules or (ratio or 0) >= 0.9:
        fit = 0.95
    else:
        fit = 0.75 if ctx.mechanism == "disk_full" else 0.2
    commands = [
        f"kubectl get storageclass {pvc.storage_class} -o jsonpath='{{.allowVolumeExpansion}}'"
        if pvc.storage_class
        else ctx.kubectl("get", "pvc", pvc.name, "-o", "jsonpath='{.spec.storageClassName}'"),
    ]
    steps = [
        f"Check that StorageClass {pvc.storage_class or '(of the claim)'} has allowVolumeExpansion: true; "
        "otherwise migrate the data to a new, larger claim."
    ]
    if new:
        body = {"spec": {"resources": {"requests": {"storage": bytes_quantity(new)}}}}
        commands.append(ctx.kubectl("patch", "pvc", pvc.name, "-p", k.as_json(body)))
        steps.append(
            f"Grow {pvc.name} from {pvc.requested} to {bytes_quantity(new)}"
            + (f" ({ratio:.0%} used now; ~{TARGET_USE:.0%} after)." if ratio else ".")
        )
    else:
        fit *= 0.5
        steps.append("The claim's size is unknown: read it and grow it by half.")
    commands.append(ctx.kubectl("describe", "pvc", pvc.name))
    steps.append(
        "Watch the claim's conditions: some drivers finish the file-system resize only when the pod "
        "restarts (FileSystemResizePending)."
    )
    return Plan(
        title=f"Expand PVC {pvc.name} {pvc.requested or ''} → {bytes_quantity(new) if new else 'larger'}",
        fit=fit,
        params=ctx.base_params()
        | {
            "claim": pvc.name,
            "storage_class": pvc.storage_class or None,
            "current_size": pvc.requested or None,
            "used_ratio": ratio,
            "new_size": bytes_quantity(new) if new else None,
        },
        steps=steps,
        commands=commands,
        rollback=[
            f"A PVC cannot shrink: going back to {pvc.requested or 'the old size'} means restoring a "
            "snapshot into a new, smaller claim."
        ],
    )


@action(
    "set_ephemeral_storage_limit",
    ("disk_pressure",),
    "medium",
    180,
    "Size the container's ephemeral storage",
    container=True,
)
def set_ephemeral_storage_limit(ctx: Context) -> Plan:
    c, evicted, scope = ctx.container, ctx.text("evicted_resource"), eviction_scope(ctx)
    peak = c.fs_usage_peak if c else None
    limit = c.ephemeral_limit if c else None
    if scope == "container":
        fit = 0.9
    elif scope == "node":
        fit = 0.6 if peak and peak >= GI / 2 else 0.25  # a request keeps the scheduler honest; the node is the cause
    else:
        fit = 0.7 if evicted == "ephemeral-storage" else 0.1
    new = round_up_bytes(max(with_headroom(peak) if peak else 2 * GI, 2 * limit if limit else 0))
    request = round_up_bytes(peak) if peak else new // 2
    quantities = {"limits": bytes_quantity(new), "requests": bytes_quantity(min(request, new))}
    direct = [
        k.set_resources(
            ctx,
            limits={"ephemeral-storage": quantities["limits"]},
            requests={"ephemeral-storage": quantities["requests"]},
        )
    ]
    commands, extra = k.template_change(ctx, direct)
    # the old ephemeral-storage *request* is not in the snapshot: a rollout undo restores both exactly
    old = {"ephemeral-storage": bytes_quantity(limit) if limit else None}
    inverse = (
        [k.rollout_undo(ctx)]
        if ctx.workload.rollout
        else [k.restore_resources(ctx, limits=old, requests={"ephemeral-storage": None})]
    )
    return Plan(
        title=f"Set {ctx.container_name} ephemeral-storage limit to {quantities['limits']}",
        fit=fit,
        params=ctx.base_params()
        | {
            "evicted_resource": evicted or None,
            "eviction_scope": scope or None,
            "current_limit": bytes_quantity(limit) if limit else None,
            "observed_peak": format_bytes(peak) if peak else None,
            "new_limit": quantities["limits"],
            "new_request": quantities["requests"],
        },
        steps=extra
        + [
            f"Give {ctx.container_name} an ephemeral-storage request of {quantities['requests']} and a limit of "
            f"{quantities['limits']}"
            + (f" (it wrote {format_bytes(peak)} to its writable layer and logs)." if peak else "."),
            "The scheduler then places it on a node with that room, and if it overgrows it is evicted alone.",
            "Move large files (dumps, caches, uploads) to a volume: see add_scratch_volume or a PVC.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


@action(
    "add_scratch_volume",
    ("disk_pressure",),
    "medium",
    180,
    "Give dumps and temp files a bounded volume",
    container=True,
)
def add_scratch_volume(ctx: Context) -> Plan:
    c = ctx.container
    peak = c.fs_usage_peak if c else None
    path = ctx.text("path") or scratch_path(ctx.evidence)
    size = bytes_quantity(round_up_storage(peak * 1.5) if peak else 2 * GI)
    if ctx.mechanism == "disk_full" and claim(ctx) is None:
        fit = 0.8
    elif ctx.text("evicted_resource") == "ephemeral-storage" and peak:
        fit = 0.55
    else:
        fit = 0.2
    volume = {"name": "scratch", "emptyDir": {"sizeLimit": size}}
    mount = {"volumeMounts": [{"name": "scratch", "mountPath": path}]}
    undo_mount = {"volumeMounts": [{"mountPath": path, "$patch": "delete"}]}
    spec = {"volumes": [volume], **k.container_spec(ctx, mount)}
    undo = {"volumes": [{"name": "scratch", "$patch": "delete"}], **k.container_spec(ctx, undo_mount)}
    commands, extra = k.template_change(ctx, [k.patch_pod_spec(ctx, spec)])
    return Plan(
        title=f"Mount a {size} scratch volume at {path} in {ctx.container_name}",
        fit=fit,
        params=ctx.base_params() | {"mount_path": path, "size_limit": size, "volume": "scratch"},
        steps=extra
        + [
            f"Mount an emptyDir of at most {size} at {path}, where {ctx.container_name} writes its temporary "
            "files or heap dumps, instead of its image's writable layer.",
            "Point dump and temp paths at it (for the JVM: -XX:HeapDumpPath); use a PVC if the files must survive "
            "the pod.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [k.patch_pod_spec(ctx, undo)]),
    )


@action(
    "raise_emptydir_size_limit",
    ("disk_pressure",),
    "medium",
    180,
    "Raise an emptyDir's sizeLimit (or move its data to a PVC)",
)
def raise_emptydir_size_limit(ctx: Context) -> Plan:
    volume, old = ctx.text("emptydir_volume"), ctx.text("emptydir_limit")
    old_bytes = parse_quantity(old) if old else None
    new = bytes_quantity(round_up_storage(old_bytes * 2) if old_bytes else 2 * GI)
    fit = 0.85 if volume else 0.0  # only when the kubelet named the volume that outgrew its limit
    name = volume or "scratch"
    commands, extra = k.template_change(
        ctx, [k.patch_pod_spec(ctx, {"volumes": [{"name": name, "emptyDir": {"sizeLimit": new}}]})]
    )
    inverse = [k.patch_pod_spec(ctx, {"volumes": [{"name": name, "emptyDir": {"sizeLimit": old or None}}]})]
    return Plan(
        title=f"Raise emptyDir {name} sizeLimit " + (f"from {old} " if old else "") + f"to {new}",
        fit=fit,
        params=ctx.base_params() | {"volume": name, "current_size_limit": old or None, "new_size_limit": new},
        steps=extra
        + [
            f"Find out why {name} grows: a backlog that cannot drain (a queue, a spool, retries to an unreachable "
            "destination) grows again after any new limit.",
            f"Raise the sizeLimit of emptyDir {name} to {new}; the node must have that much free local storage, so "
            "give the container a matching ephemeral-storage request.",
            "If the data must survive the pod or keeps growing, move it to a PersistentVolumeClaim.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )
