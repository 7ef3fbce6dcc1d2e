"""Probes that ask the wrong question: a path that 404s, a port nothing listens on, HTTPS to a plain-HTTP
server, a gRPC health service the application does not implement, an exec command missing from the image.

The kubelet's message says which, and the patch follows from it when it can: the scheme back to HTTP, the
port the application's own log says it listens on, a TCP check instead of an unimplemented gRPC health call.
A refused connection from an application that never said it was serving is a slow start, not a wrong port.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context
from knowledge.catalog.probes import WRONG_ENDPOINT, listening, message, probe

LOCAL_PORT = 18080


def endpoint_fix(ctx: Context) -> tuple[dict[str, object] | None, str]:
    """(fields patching the probe, why), from the kubelet's message and the application's log."""
    kind, p = probe(ctx)
    text = message(ctx)
    port: object = (int(p.port) if p.port.isdigit() else p.port) if p else ""
    if re.search(r"HTTP response to HTTPS client|does not look like a TLS handshake", text, re.I):
        return {"httpGet": {"scheme": "HTTP"}}, "the probe speaks HTTPS to a plain-HTTP port: set scheme HTTP"
    if re.search(r"Unimplemented", text) and p is not None and p.handler == "grpc" and port:
        return {"grpc": None, "tcpSocket": {"port": port}}, (
            "the application does not implement grpc.health.v1.Health: check the port over TCP instead "
            "(or register the health service)"
        )
    serving, said = listening(ctx)
    if "refused" in text.lower() and serving and said and p is not None and said != p.port:
        handler = p.handler if p.handler in ("httpGet", "tcpSocket", "grpc") else "tcpSocket"
        return {handler: {"port": int(said)}}, f"the application listens on {said}, the probe asks {p.port}"
    if re.search(r"status ?code:? 404", text):
        return None, "the path answers 404: point the probe at the health endpoint the application serves"
    if re.search(r"not found|no such file", text) and p is not None and p.handler == "exec":
        return None, "the probe's command is not in the image (a tool renamed or removed in a newer image)"
    return None, "the probe does not reach a health endpoint"


@action(
    "fix_probe_endpoint",
    ("probe_failure",),
    "low",
    300,
    "Point the probe at the right path, port or scheme",
    container=True,
)
def fix_probe_endpoint(ctx: Context) -> Plan:
    kind, p = probe(ctx)
    text = message(ctx)
    wrong = WRONG_ENDPOINT.search(text)
    serving, _ = listening(ctx)
    fields, why = endpoint_fix(ctx)
    if not wrong:
        fit = 0.2
    elif "refused" in wrong.group(0).lower() and not serving:
        fit = 0.4  # nothing listens yet: most likely a slow start (add_startup_probe)
    else:
        fit = 0.9 if fields else 0.85
    port, path = (p.port, p.path.split("?", 1)[0]) if p else ("", "")
    field = f"{kind}Probe"
    if fields:
        commands, extra = k.template_change(ctx, [k.patch_container(ctx, {field: fields})])
        commands = [k.container_jsonpath(ctx, field), *commands]
    else:
        change, extra = k.edit(ctx)
        commands = [k.container_jsonpath(ctx, "ports"), k.container_jsonpath(ctx, field)]
        if port and p is not None and p.handler != "exec":
            commands.append(ctx.kubectl("port-forward", f"pod/{ctx.pod}", f"{LOCAL_PORT}:{port}"))
        commands += change
    steps = [
        f"The {kind} probe of {ctx.container_name} gets "
        + (f"'{wrong.group(0)}'" if wrong else "an error")
        + f": {why}."
    ]
    if not fields and p is not None and p.handler == "httpGet":
        steps.append(
            f"Try it by hand (curl -i http://127.0.0.1:{LOCAL_PORT}{path or '/'} through the "
            "port-forward), then correct the probe; an app bound to 127.0.0.1 also refuses the kubelet."
        )
    return Plan(
        title=f"Fix the {kind} probe of {ctx.container_name}" + (f" ({wrong.group(0)})" if wrong else ""),
        fit=fit,
        params=ctx.base_params()
        | {
            "probe": kind,
            "path": path or None,
            "port": port or None,
            "error": wrong.group(0) if wrong else None,
            "patch": fields,
        },
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, []),
        unattended=False,
    )
