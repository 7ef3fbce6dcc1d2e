"""Actions every family can fall back on: look closer, or give a controller a fresh pod.

``gather_more_evidence`` is the answer for ``unknown`` and for any category whose own actions do not fit the
facts: read-only, so it may run unattended. ``restart_pod`` deletes one pod for its controller to replace; it
may run unattended only when another replica keeps serving meanwhile.
"""

from __future__ import annotations

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

_QUIET = {
    "completed_successfully": "No action needed: the pod completed successfully",
    "healthy_now": "No action needed: the pod has recovered; watch for a recurrence",
    "draining_for_rollout": "No action needed: the pod is being replaced by a rollout",
    "just_created": "No action yet: the pod is still starting; look again in a minute",
}


@action(
    "gather_more_evidence",
    ("unknown",),
    "low",
    60,
    "Change nothing; collect what a diagnosis needs (read-only)",
    unattended=True,
)
def gather_more_evidence(ctx: Context) -> Plan:
    quiet = next((_QUIET[f.rule] for f in ctx.findings if f.rule in _QUIET), "")
    commands = [ctx.kubectl("get", "pod", ctx.pod, "-o", "wide"), *k.describe_pod(ctx)]
    commands.append(ctx.kubectl("logs", ctx.pod, "--all-containers", "--tail=100"))
    if any(c.restart_count for c in ctx.signals.containers):
        commands.append(ctx.kubectl("logs", ctx.pod, "--all-containers", "--previous", "--tail=100"))
    return Plan(
        title=quiet or f"Gather more evidence on {ctx.pod} before acting",
        fit=1.0 if ctx.category == "unknown" else 0.3,
        params=ctx.base_params() | {"reason": quiet or "no convincing cause in the snapshot"},
        steps=[
            "Change nothing yet: the snapshot does not show a convincing cause.",
            "Capture the pod's events, the logs of the current and the previous run, and metrics over the "
            "incident window (memory, CPU throttling, restarts).",
            "Re-run the diagnosis on the fuller snapshot if the problem recurs.",
        ],
        commands=commands,
        rollback=read_only(ctx),
    )


@action(
    "restart_pod",
    ("network", "volume_mount"),
    "low",
    120,
    "Delete the pod so its controller replaces it",
    unattended=True,
)
def restart_pod(ctx: Context) -> Plan:
    w = ctx.workload
    replicas = w.replicas or 0
    fit = 0.0 if not w.controlled else 0.3 if ctx.category == "network" else 0.35
    return Plan(
        title=f"Restart pod {ctx.pod} ({w.ref} recreates it)",
        fit=fit,
        params=ctx.base_params() | {"replicas": replicas or None},
        steps=[
            f"Delete {ctx.pod}; {w.label} starts a fresh one (new connections, DNS cache, mounts, maybe another node).",
            "Only after the underlying cause is fixed: a restart alone brings the same failure back."
            if ctx.category == "network"
            else "A new pod retries the attach and mount from scratch.",
            *([] if replicas >= 2 else [f"{w.label} has a single replica: the service is down until it is back."]),
        ],
        commands=[ctx.kubectl("delete", "pod", ctx.pod, "--wait=false"), ctx.kubectl("get", "pods", "-o", "wide")],
        rollback=["Nothing to undo: the controller has recreated the pod."],
        unattended=replicas >= 2 and (w.ready_replicas or 0) >= 1,
    )
