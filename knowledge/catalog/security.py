"""Security context mismatches: the process may not read or write what it needs, or may not run at all.

``fsGroup`` makes mounted volumes (and Secret files) group-accessible to the pod. A read-only root file system
gets a writable emptyDir only at *scratch* locations: mounting over a directory of the image (``/etc/nginx``,
``/app``) would hide its files, so there the advice is to move the write, not the mount. A root image under
``runAsNonRoot`` gets a numeric unprivileged user. UIDs/GIDs come from rule facts when known.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context

_READ_ONLY = re.compile(r"read-only file system|EROFS", re.I)
_DIRECTORY = re.compile(r"(/[\w.-]+(?:/[\w.-]+)*)")
_NON_ROOT = re.compile(r"runAsNonRoot and image will run as root|non-numeric user .{0,40}cannot verify user", re.I)
SCRATCH = ("/tmp", "/var/tmp", "/var/cache", "/var/run", "/run", "/var/log", "/cache", "/scratch", "/home")
DEFAULT_ID = 1000
"""A common unprivileged UID/GID, used only when the snapshot does not say which one the image expects."""


def _directory(evidence: str) -> str:
    line = next((ln for ln in evidence.splitlines() if _READ_ONLY.search(ln) or "denied" in ln.lower()), "")
    found = _DIRECTORY.search(line.split(":", 1)[-1]) if line else None
    if not found:
        return ""
    path = found.group(1)
    return path.rsplit("/", 1)[0] if path.count("/") > 1 else path


@action("fix_file_permissions", ("config_error",), "medium", 180, "Let the process use the paths it needs")
def fix_file_permissions(ctx: Context) -> Plan:
    read_only = bool(_READ_ONLY.search(ctx.evidence))
    directory = ctx.text("path") or _directory(ctx.evidence)
    gid = int(ctx.number("fs_group") or ctx.number("run_as_group") or DEFAULT_ID)
    fit = 0.85 if ctx.mechanism == "file_permission" else 0.0
    scratch = directory.startswith(SCRATCH)
    if read_only and directory and not scratch:
        change, extra = k.edit(ctx)
        return Plan(
            title=f"Move {ctx.container_name}'s writes out of {directory} (read-only)",
            fit=fit * 0.5,
            params=ctx.base_params() | {"path": directory, "read_only_root": True, "fs_group": None},
            steps=extra
            + [
                f"The root file system is read-only and {ctx.container_name} writes to {directory}, a directory "
                "of the image: an emptyDir there would hide the image's files.",
                "Write to a scratch path instead (an emptyDir at /tmp), or mount the finished file from a "
                "ConfigMap; if the message is only a warning, look for the real error further on.",
            ],
            commands=[k.container_jsonpath(ctx, "securityContext"), *change],
            rollback=k.template_undo(ctx, []),
        )
    if read_only and directory:
        spec = {
            "volumes": [{"name": "writable", "emptyDir": {}}],
            **k.container_spec(ctx, {"volumeMounts": [{"name": "writable", "mountPath": directory}]}),
        }
        undo = {
            "volumes": [{"name": "writable", "$patch": "delete"}],
            **k.container_spec(ctx, {"volumeMounts": [{"mountPath": directory, "$patch": "delete"}]}),
        }
        title = f"Mount a writable emptyDir at {directory} in {ctx.container_name}"
        steps = [
            f"The root file system is read-only (readOnlyRootFilesystem): give {directory} a writable "
            "emptyDir instead of relaxing the security context."
        ]
    else:
        spec = {"securityContext": {"fsGroup": gid, "fsGroupChangePolicy": "OnRootMismatch"}}
        undo = {"securityContext": {"fsGroup": None, "fsGroupChangePolicy": None}}
        title = f"Set fsGroup {gid} so {ctx.container_name} can use its mounted files"
        steps = [
            f"The process may not access {directory or 'a mounted path'}: with fsGroup {gid} the kubelet makes "
            "mounted volumes and Secret files group-owned by that group.",
            "For a Secret volume, also check its defaultMode allows group read (0440).",
            f"Use the group the image's user runs as (id -g in the image); {DEFAULT_ID} is only a common default.",
        ]
        fit *= 1.0 if ctx.number("fs_group") else 0.8
    commands, extra = k.template_change(ctx, [k.patch_pod_spec(ctx, spec)])
    return Plan(
        title=title,
        fit=fit,
        params=ctx.base_params()
        | {"path": directory or None, "read_only_root": read_only, "fs_group": None if read_only else gid},
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, [k.patch_pod_spec(ctx, undo)]),
    )


@action(
    "run_as_non_root_user",
    ("config_error",),
    "medium",
    180,
    "Give a root image a numeric non-root user",
    container=True,
)
def run_as_non_root_user(ctx: Context) -> Plan:
    refused = bool(_NON_ROOT.search("\n".join([ctx.evidence, *(c.message for c in ctx.signals.containers)])))
    uid = int(ctx.number("run_as_user") or DEFAULT_ID)
    fields = {"securityContext": {"runAsUser": uid, "runAsGroup": uid}}
    commands, extra = k.template_change(ctx, [k.patch_container(ctx, fields)])
    undo = {"securityContext": {"runAsUser": None, "runAsGroup": None}}
    return Plan(
        title=f"Run {ctx.container_name} as UID {uid} (runAsNonRoot refuses a root image)",
        fit=0.85 if refused else 0.0,
        params=ctx.base_params() | {"run_as_user": uid},
        steps=extra
        + [
            f"runAsNonRoot forbids {ctx.container_name}'s image, which runs as root (or as a user name the kubelet "
            f"cannot check): give it a numeric unprivileged user, {uid}.",
            "The image must work as that user (files it writes owned by root will fail); an image built to run "
            "as non-root (USER 10001 in its Dockerfile) is the lasting fix. Never drop runAsNonRoot for it.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [k.patch_container(ctx, undo)]),
    )
