"""CPU throttling: the CFS quota runs out every period, so latency grows and probes time out.

The new limit is sized from the throttle ratio (the share of periods that hit the quota: demand is at least
``limit × (1 + ratio)``) and from measured use when known, capped at four times today's limit so one noisy
sample cannot ask for a whole node. Thread pools sized for the node instead of the limit are their own fix.
"""

from __future__ import annotations

import math
import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context
from knowledge.catalog.sizing import cores_quantity, round_up_millicores, with_headroom

PARALLEL_ENV = re.compile(r"(?:THREADS|WORKERS|CONCURRENCY|GOMAXPROCS|PROCS|PARALLELISM|POOL_SIZE)$", re.I)


def _limit(ctx: Context) -> float | None:
    return ctx.number("cpu_limit_cores") or (ctx.container.cpu_limit if ctx.container else None)


def _ratio(ctx: Context) -> float:
    return ctx.number("throttle_ratio") or (ctx.container.throttle_ratio if ctx.container else None) or 0.0


def _usage(ctx: Context) -> float | None:
    return ctx.number("cpu_usage_cores") or (ctx.container.cpu_usage_cores if ctx.container else None)


def new_cpu_limit(ctx: Context) -> tuple[int, str]:
    """Millicores to set and why."""
    limit, ratio, usage = _limit(ctx), _ratio(ctx), _usage(ctx)
    if not limit:
        return round_up_millicores(with_headroom(usage) if usage else 1.0), "no limit known: measured use + 30%"
    target, basis = limit * (1 + ratio), f"limit × (1 + throttle ratio {ratio:.0%})"
    if usage and with_headroom(usage) > target:
        target, basis = with_headroom(usage), "measured use + 30%"
    millis = round_up_millicores(min(target, limit * 4))
    floor = round_up_millicores(limit + 0.1)
    return max(millis, floor), basis


@action(
    "raise_cpu_limit", ("cpu_throttling",), "medium", 180, "Raise the CPU limit to the throttled demand", container=True
)
def raise_cpu_limit(ctx: Context) -> Plan:
    limit, ratio = _limit(ctx), _ratio(ctx)
    millis, basis = new_cpu_limit(ctx)
    new = cores_quantity(millis)
    old = cores_quantity(round(limit * 1000)) if limit else None
    commands, extra = k.template_change(ctx, [k.set_resources(ctx, limits={"cpu": new})])
    return Plan(
        title=f"Raise {ctx.container_name} CPU limit {old or 'none'} → {new}",
        fit=0.9 if limit else 0.3,
        params=ctx.base_params()
        | {
            "throttle_ratio": round(ratio, 3),
            "current_limit": old,
            "new_limit": new,
            "new_limit_millicores": millis,
            "cpu_usage_cores": _usage(ctx),
            "basis": basis,
        },
        steps=extra
        + [
            f"Set the CPU limit of {ctx.container_name} to {new} ({basis}); {ratio:.0%} of scheduling periods "
            f"hit the {old or 'current'} quota.",
            "Check the node has the room (kubectl describe node: Allocated resources).",
            "Watch throttling and latency after the rollout; the ratio should drop under 10%.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [k.restore_resources(ctx, limits={"cpu": old})]),
    )


@action(
    "remove_cpu_limit",
    ("cpu_throttling",),
    "medium",
    180,
    "Drop the CPU limit and keep an honest request",
    container=True,
)
def remove_cpu_limit(ctx: Context) -> Plan:
    limit, usage = _limit(ctx), _usage(ctx)
    request = ctx.container.cpu_request if ctx.container else None
    old = cores_quantity(round(limit * 1000)) if limit else None
    new_request = cores_quantity(round_up_millicores(usage * 1.1)) if usage and (not request or usage > request) else ""
    direct = [k.patch_container(ctx, {"resources": {"limits": {"cpu": None}}})]
    if new_request:
        direct.append(k.set_resources(ctx, requests={"cpu": new_request}))
    commands, extra = k.template_change(ctx, direct)
    guarded = any(o.startswith(("LimitRange/", "ResourceQuota/")) for o in ctx.signals.present_objects)
    steps = extra + [
        f"Remove the CPU limit of {ctx.container_name}: it may then burst into idle CPU of the node instead of "
        "being paused every period; the request still guarantees its share.",
    ]
    if new_request:
        steps.append(f"Raise the CPU request to {new_request} (measured use + 10%) so the scheduler reserves it.")
    if guarded:
        steps.append("A LimitRange or ResourceQuota in the namespace may require CPU limits: check it first.")
    old_request = cores_quantity(round(request * 1000)) if request else None
    restore: dict[str, str | None] = {"cpu": old_request} if new_request else {}
    inverse = [k.restore_resources(ctx, limits={"cpu": old}, requests=restore)] if old else []
    return Plan(
        title=f"Remove {ctx.container_name} CPU limit {old or ''}".rstrip() + " and keep the request",
        fit=(0.35 if guarded else 0.6) if limit else 0.0,
        params=ctx.base_params() | {"current_limit": old, "new_request": new_request or None},
        steps=steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


def oversized_parallelism(ctx: Context) -> str:
    """Name of a thread/worker-count variable set well above the CPU limit (its value is never echoed)."""
    c, limit = ctx.container, _limit(ctx)
    if c is None or not limit:
        return ""
    return next((n for n, v in c.env.items() if PARALLEL_ENV.search(n) and v.isdigit() and int(v) > 2 * limit), "")


@action("align_thread_count", ("cpu_throttling",), "medium", 180, "Size thread pools to the CPU limit", container=True)
def align_thread_count(ctx: Context) -> Plan:
    variable, limit = oversized_parallelism(ctx), _limit(ctx)
    count = max(1, math.ceil(limit or 1))
    if variable:
        commands, extra = k.template_change(ctx, [k.set_env(ctx, f"{variable}={count}")])
        inverse = [k.rollout_undo(ctx)] if ctx.workload.rollout else []
    else:
        commands, extra, inverse = [k.container_jsonpath(ctx, "env[*].name"), k.container_jsonpath(ctx, "args")], [], []
    return Plan(
        title=f"Set {variable or 'worker count'} of {ctx.container_name} to {count} to match its CPU",
        fit=0.93 if variable else 0.0,
        params=ctx.base_params() | {"variable": variable or None, "new_value": count, "cpu_limit_cores": limit},
        steps=extra
        + [
            f"{variable or 'The worker/thread count'} is sized for the node, not for the {limit or '?'} CPU limit: "
            "the threads share the quota and exhaust it in bursts.",
            f"Set it to {count}, or raise the limit to match the parallelism the service needs.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, inverse) if variable else ["Nothing changed: read-only commands."],
    )


@action("scale_out_replicas", ("cpu_throttling",), "low", 120, "Spread the load over more replicas")
def scale_out_replicas(ctx: Context) -> Plan:
    w, ratio = ctx.workload, _ratio(ctx)
    current = w.replicas or 1
    new = max(current + 1, math.ceil(current * (1 + ratio)))
    hpa = next(
        (o.split("/", 1)[1] for o in sorted(ctx.signals.present_objects) if o.startswith("HorizontalPodAutoscaler/")),
        "",
    )
    scalable = w.kind in ("Deployment", "StatefulSet", "ReplicaSet")
    if hpa:
        commands = [ctx.kubectl("patch", "hpa", hpa, "-p", k.as_json({"spec": {"minReplicas": new}}))]
        rollback = [ctx.kubectl("patch", "hpa", hpa, "-p", k.as_json({"spec": {"minReplicas": current}}))]
    else:
        commands = [ctx.kubectl("scale", w.ref, f"--replicas={new}")]
        rollback = [ctx.kubectl("scale", w.ref, f"--replicas={current}")]
    return Plan(
        title=f"Scale {w.ref} from {current} to {new} replicas",
        fit=(0.4 if w.replicas else 0.25) if scalable else 0.0,
        params=ctx.base_params() | {"current_replicas": current, "new_replicas": new, "hpa": hpa or None},
        steps=[
            f"Run {new} replicas instead of {current} so each one needs less CPU "
            "(only helps a service whose load is shared across replicas).",
            *([f"HorizontalPodAutoscaler {hpa} owns the replica count: raise its minReplicas."] if hpa else []),
        ],
        commands=commands,
        rollback=rollback,
        unattended=False,
    )
