"""RBAC failures that are about *who* the pod is, not what it may do.

A pod running as ``default`` while a service account named after its workload exists has most likely lost its
``serviceAccountName`` in a refactor: pointing it back is better than granting ``default`` anything. A 401 from
the API server (or ``system:anonymous``) means no valid token at all: the token is not mounted, or an old client
library does not reload the projected token that now expires every hour.
"""

from __future__ import annotations

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context


def dedicated_account(ctx: Context) -> str:
    accounts = sorted(o.split("/", 1)[1] for o in ctx.signals.present_objects if o.startswith("ServiceAccount/"))
    accounts = [a for a in accounts if a != "default"]
    preferred = (ctx.workload.name, ctx.container_name)
    return next((a for a in accounts if a in preferred), accounts[0] if len(accounts) == 1 else "")


@action(
    "use_dedicated_service_account",
    ("rbac_denied",),
    "high",
    180,
    "Run the workload as its own service account instead of default",
)
def use_dedicated_service_account(ctx: Context) -> Plan:
    current = ctx.signals.service_account or "default"
    candidate = dedicated_account(ctx) if current == "default" else ""
    target = candidate or ctx.workload.name
    commands, extra = k.template_change(ctx, [ctx.kubectl("set", "serviceaccount", ctx.workload.ref, target)])
    return Plan(
        title=f"Run {ctx.workload.ref} as service account {target}",
        fit=0.85 if candidate else 0.0,
        params=ctx.base_params() | {"current_service_account": current, "service_account": target},
        steps=extra
        + [
            f"{ctx.workload.label} runs as '{current}', but service account {target} exists in {ctx.namespace}, "
            "probably with the bindings the application needs."
            if candidate
            else f"{ctx.workload.label} runs as '{current}'; no other service account for it is in the snapshot.",
            f"Check its bindings first: kubectl auth can-i --list --as=system:serviceaccount:{ctx.namespace}:{target}"
            f" -n {ctx.namespace}",
            "Restore serviceAccountName in the workload's source manifest too.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [ctx.kubectl("set", "serviceaccount", ctx.workload.ref, current)]),
    )


@action(
    "restore_service_account_token",
    ("rbac_denied",),
    "medium",
    180,
    "Mount a valid service account token into the pod",
)
def restore_service_account_token(ctx: Context) -> Plan:
    user = ctx.text("service_account") or ctx.text("user")
    anonymous = user == "system:anonymous"
    account = ctx.signals.service_account or "default"
    fit = 0.9 if ctx.mechanism == "api_unauthorized" or anonymous else 0.05
    body = {"automountServiceAccountToken": True}
    commands, extra = k.template_change(ctx, [k.patch_pod_spec(ctx, body)])
    return Plan(
        title=f"Mount a service account token into {ctx.container_name}",
        fit=fit,
        params=ctx.base_params() | {"service_account": account, "anonymous": anonymous},
        steps=extra
        + [
            "The API server does not know who the pod is (401 / system:anonymous): no valid token reaches it.",
            f"Check automountServiceAccountToken on the pod and on service account {account}; enable it for this "
            "workload only.",
            "If the token is mounted, the client library may be too old to reload the projected token (it expires "
            "hourly): upgrade the Kubernetes client in the application.",
        ],
        commands=[
            ctx.kubectl("get", "serviceaccount", account, "-o", "jsonpath='{.automountServiceAccountToken}'"),
            *commands,
        ],
        rollback=k.template_undo(ctx, [k.patch_pod_spec(ctx, {"automountServiceAccountToken": None})]),
    )
