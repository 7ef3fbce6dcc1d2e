"""Failing probes: make the probe measure health, not start-up time, load or a typo.

A probe that times out gets a longer ``timeoutSeconds`` (three times today's, at least 5s) and enough
failures to ride out a GC pause; a liveness probe that kills a slow starter gets a ``startupProbe`` with the
same handler; an ``exec`` probe that forks a shell in a throttled container becomes a TCP check; a 404 or a
refused connection from an application that says it is serving is a wrong path or port (probe_endpoints).
"""

from __future__ import annotations

import math
import re

from aetherius.signals import Probe
from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context

_TIMEOUT = re.compile(r"timed out|timeout(?!=)|deadline exceeded|Client\.Timeout", re.I)
"""A probe that ran out of time; ``timeout=1s`` (the probe's own setting, quoted in evidence) does not count."""
WRONG_ENDPOINT = re.compile(
    r"status ?code:? 404|connection refused|no such file|not found|Unimplemented|"
    r"server gave HTTP response to HTTPS client|first record does not look like a TLS handshake",
    re.I,
)
_LISTENING = re.compile(
    r"(?:listening|serving|server started|started server|bound|Tomcat started)\b[^\n]{0,60}?(?:port\(?s?\)?[ =:]*|:)"
    r"(?P<port>\d{2,5})\b|Started \w+ in [\d.]+ seconds|ready to accept connections",
    re.I,
)


def probe(ctx: Context) -> tuple[str, Probe | None]:
    kind = ctx.text("probe") or "liveness"
    found = next((p for p in ctx.container.probes if p.kind == kind), None) if ctx.container else None
    return kind, found


def listening(ctx: Context) -> tuple[bool, str]:
    """(the application says it is serving, the port it names): a refused probe then means a wrong port."""
    match = _LISTENING.search(ctx.log_text)
    return (match is not None, (match["port"] or "") if match else "")


def message(ctx: Context) -> str:
    return ctx.text("probe_message") + "\n" + ctx.evidence


def _handler(p: Probe) -> dict[str, object] | None:
    port: object = int(p.port) if p.port.isdigit() else p.port
    if p.handler == "httpGet" and p.port and "?" not in p.path:  # a query may carry a token: copy by hand
        return {"httpGet": {"path": p.path or "/", "port": port}}
    if p.handler in ("tcpSocket", "grpc") and p.port:
        return {p.handler: {"port": port}}
    return None


@action(
    "raise_probe_timeout", ("probe_failure",), "low", 180, "Give the probe time to answer under load", container=True
)
def raise_probe_timeout(ctx: Context) -> Plan:
    kind, p = probe(ctx)
    old = ctx.number("timeout_s") or (p.timeout_s if p else 1.0)
    new = min(30, max(5, math.ceil(old * 3)))
    period, threshold = (p.period_s, p.failure_threshold) if p else (10.0, 3)
    new_threshold = max(threshold, math.ceil(30 / period)) if period else threshold
    timeout = bool(_TIMEOUT.search(message(ctx)))
    throttled = bool(ctx.container and (ctx.container.throttle_ratio or 0) >= 0.5)
    wrong = bool(WRONG_ENDPOINT.search(message(ctx)))
    fit = 0.9 if timeout else 0.2 if wrong else 0.45
    field = f"{kind}Probe"
    commands, extra = k.template_change(
        ctx, [k.patch_container(ctx, {field: {"timeoutSeconds": new, "failureThreshold": new_threshold}})]
    )
    inverse = [k.patch_container(ctx, {field: {"timeoutSeconds": int(old), "failureThreshold": threshold}})]
    steps = [
        f"Raise the {kind} probe timeout of {ctx.container_name} from {old:g}s to {new}s and its "
        f"failureThreshold to {new_threshold}, so one slow answer (GC pause, burst) is not fatal."
    ]
    if throttled:
        fit *= 0.7
        steps.append(
            "The container is CPU-throttled: the probe is slow because the process is starved; raise the "
            "CPU limit too (cpu_throttling)."
        )
    if p is not None and p.handler == "exec":
        steps.append("exec probes only honour timeoutSeconds since Kubernetes 1.20; before that they hang.")
    return Plan(
        title=f"Raise {ctx.container_name} {kind} probe timeout {old:g}s → {new}s",
        fit=fit,
        params=ctx.base_params()
        | {"probe": kind, "current_timeout_s": old, "new_timeout_s": new, "failure_threshold": new_threshold},
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


@action("add_startup_probe", ("probe_failure",), "low", 180, "Protect a slow start with a startupProbe", container=True)
def add_startup_probe(ctx: Context) -> Plan:
    kind, p = probe(ctx)
    c = ctx.container
    existing = next((x for x in c.probes if x.kind == "startup"), None) if c else None
    run = (c.last_run_s if c else None) or 60
    budget = int(min(600, math.ceil(max(120, 3 * run) / 30) * 30))  # three times the run it was killed in
    threshold = math.ceil(budget / 10)
    source = existing or p
    handler = _handler(source) if source else None
    if kind == "startup" or existing is not None:
        fields: dict[str, object] = {"failureThreshold": threshold, "periodSeconds": 10}
        fit = 0.85 if kind == "startup" else 0.2
    else:
        fields = {**(handler or {}), "failureThreshold": threshold, "periodSeconds": 10}
        text = message(ctx)
        refused_early = "refused" in text.lower() and not listening(ctx)[0]
        wrong = WRONG_ENDPOINT.search(text) is not None and not refused_early
        fit = (
            0.0
            if kind == "readiness"
            else 0.85
            if refused_early
            else 0.2
            if wrong
            else 0.5
            if _TIMEOUT.search(text)
            else 0.7
        )
    commands: list[str]
    extra: list[str]
    if kind != "startup" and existing is None and handler is None:
        fit *= 0.6
        change, extra = k.edit(ctx)
        commands = [k.container_jsonpath(ctx, f"{kind}Probe"), *change]
    else:
        commands, extra = k.template_change(ctx, [k.patch_container(ctx, {"startupProbe": fields})])
    inverse = [k.patch_container(ctx, {"startupProbe": None})] if existing is None else []
    return Plan(
        title=f"Give {ctx.container_name} up to {budget}s to start (startupProbe)",
        fit=fit,
        params=ctx.base_params()
        | {
            "probe": kind,
            "startup_budget_s": budget,
            "failure_threshold": threshold,
            "period_s": 10,
            "handler": source.handler if source else None,
        },
        steps=extra
        + [
            f"Add a startupProbe (same check as the {kind} probe, every 10s, {threshold} failures allowed): the "
            f"{kind} probe only starts once the application has started, up to {budget}s.",
            "With an exec probe, copy its command into the startupProbe by hand (it is not repeated here)."
            if handler is None and p is not None
            else "Keep the liveness probe strict for the running application.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, inverse),
    )


@action(
    "switch_exec_probe_to_tcp",
    ("probe_failure",),
    "medium",
    180,
    "Replace a slow exec probe by a TCP check",
    container=True,
)
def switch_exec_probe_to_tcp(ctx: Context) -> Plan:
    kind, p = probe(ctx)
    c = ctx.container
    is_exec = (ctx.text("handler") or (p.handler if p else "")) == "exec"
    port = next((x.port for x in (c.probes if c else []) if x.port), "")
    fit = (0.75 if _TIMEOUT.search(message(ctx)) else 0.5) if is_exec else 0.0
    field = f"{kind}Probe"
    if port:
        value: object = int(port) if port.isdigit() else port
        commands, extra = k.template_change(
            ctx, [k.patch_container(ctx, {field: {"exec": None, "tcpSocket": {"port": value}}})]
        )
    else:
        fit *= 0.5
        change, extra = k.edit(ctx)
        commands = [k.container_jsonpath(ctx, "ports"), *change]
    return Plan(
        title=f"Switch {ctx.container_name} {kind} probe from exec to TCP port {port or '(its port)'}",
        fit=fit,
        params=ctx.base_params() | {"probe": kind, "port": port or None},
        steps=extra
        + [
            "An exec probe forks a process inside the container every period: under CPU throttling it is the "
            "first thing to time out.",
            f"A TCP check on {port or 'the serving port'} costs the application nothing; keep deep checks in "
            "the readiness probe or in monitoring.",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, []),
    )
