"""Out of memory: a bigger limit when the container hit its own ceiling, a truthful request when the *node* ran out.

The two look alike (exit 137) but need opposite fixes. A cgroup OOM kill means the container reached its limit:
raise the limit above the observed peak. A node-level OOM kill (``node_oom``) hits a container that never
reached its limit because the scheduler packed the node on requests far below real use: raising the limit
changes nothing, raising the request to the peak stops the overcommit.
"""

from __future__ import annotations

from aetherius.quantities import format_bytes, parse_quantity
from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context
from knowledge.catalog.sizing import bytes_quantity, round_up_bytes, with_headroom

DEFAULT_LIMIT = 512 * 2**20


def observed_peak(ctx: Context) -> float | None:
    c = ctx.container
    return ctx.number("memory_peak") or (c.memory_peak if c else None) or (c.memory_last if c else None)


def memory_limit(ctx: Context) -> float | None:
    return ctx.number("memory_limit") or (ctx.container.memory_limit if ctx.container else None)


def memory_request(ctx: Context) -> float | None:
    return ctx.number("memory_request") or (ctx.container.memory_request if ctx.container else None)


def node_oom(ctx: Context) -> bool:
    return ctx.flag("node_oom") or ctx.text("evicted_resource") == "memory"


def new_memory_limit(ctx: Context) -> tuple[int, str]:
    """The limit to set and why: the peak + 30% when metrics saw it reach the limit, else the limit × 1.5."""
    peak, limit = observed_peak(ctx), memory_limit(ctx)
    if peak and (not limit or peak >= 0.9 * limit):
        target, basis = with_headroom(peak), f"observed peak {format_bytes(peak)} + 30% headroom"
    elif limit:
        target, basis = limit * 1.5, "current limit × 1.5 (the spike outran the metrics)"
    else:
        target, basis = DEFAULT_LIMIT, "no limit or usage known: a starting point to verify with kubectl top"
    new = round_up_bytes(target)
    if limit and new <= limit:
        new = round_up_bytes(limit * 1.25)
    return new, basis


@action(
    "raise_memory_limit",
    ("oom_killed",),
    "medium",
    180,
    "Raise the memory limit above the observed peak",
    container=True,
)
def raise_memory_limit(ctx: Context) -> Plan:
    limit, peak = memory_limit(ctx), observed_peak(ctx)
    new, basis = new_memory_limit(ctx)
    fit = 0.95
    if node_oom(ctx):
        fit = 0.25  # the container never reached its limit
    elif ctx.mechanism == "app_oom":
        fit = 0.6  # the runtime's own heap cap fired first: tune_runtime_heap leads
    if not limit and not peak:
        fit *= 0.6
    allocatable = parse_quantity((ctx.signals.node.allocatable if ctx.signals.node else {}).get("memory"))
    steps = [
        f"Set the memory limit of container {ctx.container_name} in {ctx.workload.label} to "
        f"{bytes_quantity(new)} ({basis})."
    ]
    if allocatable and new > allocatable:
        fit *= 0.6
        steps.append(
            f"{bytes_quantity(new)} exceeds the node's allocatable {format_bytes(allocatable)}: the pod "
            "needs a larger node pool, or the memory use itself must come down."
        )
    steps += [
        "Watch the rollout: the new pods must become Ready.",
        "Watch memory over a day: if it climbs to the new limit again it is a leak; profile it, a bigger limit "
        "only buys time.",
    ]
    commands, extra = k.template_change(ctx, [k.set_resources(ctx, limits={"memory": bytes_quantity(new)})])
    inverse = [k.restore_resources(ctx, limits={"memory": bytes_quantity(limit) if limit else None})]
    params = ctx.base_params() | {
        "current_limit": bytes_quantity(limit) if limit else None,
        "observed_peak": format_bytes(peak) if peak else None,
        "new_limit": bytes_quantity(new),
        "new_limit_bytes": new,
        "basis": basis,
    }
    old = bytes_quantity(limit) if limit else "none"
    return Plan(
        title=f"Raise {ctx.container_name} memory limit {old} → {bytes_quantity(new)}",
        fit=fit,
        params=params,
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


@action(
    "raise_memory_request", ("oom_killed",), "medium", 180, "Raise the memory request to the real peak", container=True
)
def raise_memory_request(ctx: Context) -> Plan:
    peak, limit, request = observed_peak(ctx), memory_limit(ctx), memory_request(ctx)
    if peak:
        new, basis = round_up_bytes(peak), f"observed peak {format_bytes(peak)}"
    elif limit:
        new, basis = int(limit), "the limit (no usage metrics): Guaranteed QoS"
    else:
        new, basis = round_up_bytes((request or DEFAULT_LIMIT / 2) * 2), "twice the current request (no metrics)"
    if node_oom(ctx):
        fit = 0.95
    elif request and peak and peak > 1.25 * request:
        fit = 0.45
    else:
        fit = 0.15
    requests = {"memory": bytes_quantity(new)}
    limits = {"memory": bytes_quantity(new)} if limit and new > limit else None
    commands, extra = k.template_change(ctx, [k.set_resources(ctx, limits=limits, requests=requests)])
    inverse_limits: dict[str, str | None] = {"memory": bytes_quantity(limit)} if limits and limit else {}
    old_request = {"memory": bytes_quantity(request) if request else None}
    inverse = [k.restore_resources(ctx, limits=inverse_limits, requests=old_request)]
    node = ctx.node or "the node"
    steps = extra + [
        f"Set the memory request of {ctx.container_name} to {bytes_quantity(new)} ({basis}), so the scheduler "
        f"reserves what it really uses instead of overcommitting {node}.",
        "The node's OOM killer picks the container furthest above its request: a truthful request also makes it "
        "the last victim, not the first.",
        f"Check the other pods on {node} for the same gap between request and use (kubectl top pod).",
    ]
    if limits:
        steps.append(f"The limit rises to {bytes_quantity(new)} too: a request may not exceed its limit.")
    params = ctx.base_params() | {
        "current_request": bytes_quantity(request) if request else None,
        "new_request": bytes_quantity(new),
        "new_request_bytes": new,
        "observed_peak": format_bytes(peak) if peak else None,
        "new_limit": limits["memory"] if limits else None,
        "node": ctx.node or None,
        "basis": basis,
    }
    return Plan(
        title=f"Raise {ctx.container_name} memory request to {bytes_quantity(new)}"
        + (" (node-level OOM)" if node_oom(ctx) else ""),
        fit=fit,
        params=params,
        steps=steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


@action(
    "capture_memory_usage",
    ("oom_killed",),
    "low",
    60,
    "Collect memory usage of the pod and node (read-only)",
    unattended=True,
)
def capture_memory_usage(ctx: Context) -> Plan:
    commands = [ctx.kubectl("top", "pod", ctx.pod, "--containers")]
    if ctx.container_name:
        commands.append(ctx.kubectl("logs", ctx.pod, "-c", ctx.container_name, "--previous", "--tail=200"))
    commands += k.describe_pod(ctx)[:1]
    if ctx.node:
        commands += [f"kubectl describe node {ctx.node}", f"kubectl top node {ctx.node}"]
    return Plan(
        title=f"Collect memory usage of {ctx.pod} and its node"[:75],
        fit=0.3 if observed_peak(ctx) else 0.55,
        params=ctx.base_params() | {"node": ctx.node or None},
        steps=[
            "Record per-container memory now and the last run's final log lines.",
            "Compare requests, limits and use of the other pods on the node (Allocated resources in describe node).",
        ],
        commands=commands,
        rollback=read_only(ctx),
    )
