"""Memory-managed runtimes (JVM, Node.js, Go) cap their heap themselves: size that cap to the container limit.

A JVM defaults to a quarter of the container's memory and throws OutOfMemoryError with most of it unused; a
Node.js heap ignores the cgroup and outgrows the limit until the kernel kills it. One environment variable,
computed from the limit, fixes both directions. Values are computed here, never read from the container's env.
"""

from __future__ import annotations

import math
import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context
from knowledge.catalog.memory import memory_limit, node_oom
from knowledge.catalog.sizing import bytes_quantity

_RUNTIMES: list[tuple[str, re.Pattern[str]]] = [
    ("java", re.compile(r"java\.lang\.OutOfMemoryError|\b(?:java|jdk|jre|openjdk|temurin|corretto|jvm)\b", re.I)),
    ("node", re.compile(r"JavaScript heap out of memory|\bnode(?:js)?\b|heap limit Allocation failed", re.I)),
    ("go", re.compile(r"fatal error: runtime: out of memory|\bgolang\b|\bgo\d", re.I)),
]


def runtime(ctx: Context) -> str:
    """The memory-managed runtime, from a rule fact, the error lines or the image name."""
    named = (ctx.text("language") or ctx.text("runtime")).lower()
    aliases = {"javascript": "node", "nodejs": "node", "typescript": "node", "golang": "go", "kotlin": "java"}
    if named:
        return aliases.get(named, named)
    lines = " ".join(ln.text for ln in ctx.signals.log_errors if ln.container == ctx.container_name)
    image = ctx.container.image if ctx.container else ""
    for source in (lines, ctx.evidence, image):
        for name, pattern in _RUNTIMES:
            if pattern.search(source):
                return name
    return ""


def _heap_setting(name: str, limit: float | None) -> tuple[str, str] | None:
    """(variable, value) capping the heap under the container limit; values are computed, never read from env."""
    if name == "java":
        return "JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75.0"
    if name == "node" and limit:
        return "NODE_OPTIONS", f"--max-old-space-size={math.floor(limit * 0.75 / 2**20)}"
    if name == "go" and limit:
        return "GOMEMLIMIT", f"{math.floor(limit * 0.9 / 2**20)}MiB"
    return None


@action(
    "tune_runtime_heap",
    ("oom_killed",),
    "medium",
    180,
    "Size the runtime's heap to the container limit",
    container=True,
)
def tune_runtime_heap(ctx: Context) -> Plan:
    name, limit = runtime(ctx), memory_limit(ctx)
    setting = _heap_setting(name, limit)
    app_oom = ctx.mechanism == "app_oom"
    fit = 0.0 if setting is None else 0.9 if app_oom else 0.1 if node_oom(ctx) else 0.45
    params = ctx.base_params() | {"runtime": name or None, "memory_limit": bytes_quantity(limit) if limit else None}
    if setting is None:
        return Plan(
            title=f"Size {ctx.container_name} heap to its memory limit",
            fit=0.0,
            params=params,
            steps=[
                "No memory-managed runtime (JVM, Node.js, Go) recognised, or no limit to size it from: check "
                "the application's own memory settings against the container limit."
            ],
            commands=[k.container_jsonpath(ctx, "resources")],
            rollback=read_only(ctx),
        )
    variable, value = setting
    params |= {"variable": variable, "value": value}
    existing = ctx.container is not None and variable in ctx.container.env
    steps = [
        f"Set {variable}={value} on {ctx.container_name}: the {name} heap then tracks the container limit "
        "instead of its own default, so it collects garbage before the kernel kills it."
        + (
            " Raising the heap cap is the fix when the runtime itself reported running out of memory."
            if app_oom
            else ""
        ),
    ]
    if existing:
        fit *= 0.7
        steps.append(f"{variable} is already set: add the flag to its existing value rather than replacing it.")
    commands, extra = k.template_change(ctx, [k.set_env(ctx, f"{variable}={value}")])
    inverse = [k.rollout_undo(ctx)] if existing and ctx.workload.rollout else [k.set_env(ctx, f"{variable}-")]
    return Plan(
        title=f"Set {variable} on {ctx.container_name} so the heap fits "
        + (f"the {bytes_quantity(limit)} limit" if limit else "the memory limit"),
        fit=fit,
        params=params,
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )
