"""Equivalent ``kubectl`` commands, built the same way everywhere so they stay runnable.

Patches are strategic-merge patches addressed by container *name* (containers merge on ``name``), so they
never depend on a container's index. Anything that came out of a log line is shell-quoted. Bare Pods and Jobs
cannot change their pod template in place: for them the change becomes "export, edit, recreate".
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from knowledge.catalog.context import Context


def q(value: str) -> str:
    return shlex.quote(value)


def as_json(body: Any) -> str:
    return q(json.dumps(body, separators=(",", ":")))


def pod_spec_body(ctx: Context, spec: dict[str, Any]) -> dict[str, Any]:
    """Wrap a pod-spec fragment at the path the workload keeps its pod template."""
    kind = ctx.workload.kind
    if kind == "Pod":
        return {"spec": spec}
    if kind == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}
    return {"spec": {"template": {"spec": spec}}}


def container_spec(ctx: Context, fields: dict[str, Any]) -> dict[str, Any]:
    key = "initContainers" if ctx.container is not None and ctx.container.init else "containers"
    return {key: [{"name": ctx.container_name, **fields}]}


def patch(ctx: Context, body: dict[str, Any], kind: str = "strategic") -> str:
    return ctx.kubectl("patch", ctx.workload.ref, f"--type={kind}", "-p", as_json(body))


def patch_pod_spec(ctx: Context, spec: dict[str, Any]) -> str:
    return patch(ctx, pod_spec_body(ctx, spec))


def patch_container(ctx: Context, fields: dict[str, Any]) -> str:
    return patch_pod_spec(ctx, container_spec(ctx, fields))


def set_resources(ctx: Context, limits: dict[str, str] | None = None, requests: dict[str, str] | None = None) -> str:
    args = ["set", "resources", ctx.workload.ref, "-c", ctx.container_name]
    if limits:
        args.append("--limits=" + ",".join(f"{k}={v}" for k, v in limits.items()))
    if requests:
        args.append("--requests=" + ",".join(f"{k}={v}" for k, v in requests.items()))
    return ctx.kubectl(*args)


def restore_resources(
    ctx: Context, limits: dict[str, str | None] | None = None, requests: dict[str, str | None] | None = None
) -> str:
    """Put resources back as they were: ``set resources`` when every old value existed, else a patch whose
    ``null`` removes the values that did not exist before (``set resources`` cannot unset)."""
    limits, requests = limits or {}, requests or {}
    if all(v is not None for v in (*limits.values(), *requests.values())):
        return set_resources(ctx, {r: v for r, v in limits.items() if v}, {r: v for r, v in requests.items() if v})
    fields = {key: value for key, value in (("limits", limits), ("requests", requests)) if value}
    return patch_container(ctx, {"resources": fields})


def set_env(ctx: Context, *assignments: str) -> str:
    return ctx.kubectl("set", "env", ctx.workload.ref, "-c", ctx.container_name, *assignments)


def set_image(ctx: Context, image: str) -> str:
    return ctx.kubectl("set", "image", ctx.workload.ref, f"{ctx.container_name}={q(image)}")


def rollout_status(ctx: Context) -> list[str]:
    return [ctx.kubectl("rollout", "status", ctx.workload.ref, "--timeout=5m")] if ctx.workload.rollout else []


def rollout_undo(ctx: Context, revision: str = "") -> str:
    extra = [f"--to-revision={revision}"] if revision else []
    return ctx.kubectl("rollout", "undo", ctx.workload.ref, *extra)


def _spec_prefix(ctx: Context) -> str:
    return {"Pod": ".spec", "CronJob": ".spec.jobTemplate.spec.template.spec"}.get(
        ctx.workload.kind, ".spec.template.spec"
    )


def pod_spec_jsonpath(ctx: Context, field: str) -> str:
    return ctx.kubectl("get", ctx.workload.ref, "-o", f"jsonpath={q('{' + _spec_prefix(ctx) + '.' + field + '}')}")


def container_jsonpath(ctx: Context, field: str) -> str:
    """``kubectl get`` of one field of the container in the workload's template (names only, never env values)."""
    prefix = _spec_prefix(ctx)
    key = "initContainers" if ctx.container is not None and ctx.container.init else "containers"
    path = f'{{{prefix}.{key}[?(@.name=="{ctx.container_name}")].{field}}}'
    return ctx.kubectl("get", ctx.workload.ref, "-o", f"jsonpath={q(path)}")


def template_change(ctx: Context, direct: list[str]) -> tuple[list[str], list[str]]:
    """Commands (and extra steps) that apply a pod-template change to this workload."""
    if ctx.workload.mutable:
        return [*direct, *rollout_status(ctx)], []
    manifest = f"{ctx.workload.name}.yaml"
    steps = [
        f"{ctx.workload.label} cannot change its pod template in place: export it, make the change in "
        f"{manifest} (or in its source manifest) and recreate it"
        + (" (drop spec.selector and the controller-uid labels of a Job)." if ctx.workload.kind == "Job" else ".")
    ]
    return [
        ctx.kubectl("get", ctx.workload.ref, "-o", "yaml", ">", manifest),
        ctx.kubectl("replace", "--force", "-f", manifest),
    ], steps


def edit(ctx: Context) -> tuple[list[str], list[str]]:
    """Hand-editing the workload (when the right value needs judgement), or export/recreate when immutable."""
    return template_change(ctx, [ctx.kubectl("edit", ctx.workload.ref)])


def template_undo(ctx: Context, inverse: list[str]) -> list[str]:
    """How to undo a template change: the precise inverse, or recreating from the exported manifest."""
    if ctx.workload.mutable:
        undo = [*inverse, *([rollout_undo(ctx)] if ctx.workload.rollout and not inverse else [])]
        return undo or [f"Re-apply {ctx.workload.label}'s previous manifest from source control."]
    return [f"Recreate {ctx.workload.label} from the exported manifest before the edit (kubectl replace --force)."]


def describe_pod(ctx: Context) -> list[str]:
    return [
        ctx.kubectl("describe", "pod", ctx.pod),
        ctx.kubectl("get", "events", f"--field-selector=involvedObject.name={ctx.pod}", "--sort-by=.lastTimestamp"),
    ]
