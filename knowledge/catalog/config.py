"""Configuration the container needs but cannot get: a missing ConfigMap/Secret or key, an unset setting.

Commands name objects and keys, never values: values are read from the operator's shell (``"$DB_HOST"``) so
they reach neither the chat nor the bot's logs. A key missing from an object that exists is patched in; an
object that does not exist is created with every key the pod references. Once it exists, the kubelet retries
``CreateContainerConfigError`` by itself: no restart needed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context


@dataclass(frozen=True, slots=True)
class Missing:
    kind: str  # ConfigMap | Secret
    name: str
    keys: tuple[str, ...]
    exists: bool
    """The object exists and only a key is missing ("couldn't find key K in ConfigMap ns/name")."""

    @property
    def resource(self) -> str:
        return "configmap" if self.kind == "ConfigMap" else "secret"


def shell_var(key: str) -> str:
    return re.sub(r"\W", "_", key).upper().lstrip("0123456789") or "VALUE"


def missing(ctx: Context) -> Missing | None:
    kind, name, key = ctx.text("missing_kind"), ctx.text("missing_name"), ctx.text("missing_key")
    refs = [r for c in ctx.signals.containers for r in c.env_refs]
    if not name:
        ref = next(
            (
                r
                for r in refs
                if not r.optional
                and f"{r.kind}/{r.name}" not in ctx.signals.present_objects
                and ctx.container is not None
                and r in ctx.container.env_refs
            ),
            None,
        )
        if ref is None:
            return None
        kind, name = ref.kind, ref.name
    kind = "Secret" if kind.lower() == "secret" else "ConfigMap"
    keys = (key,) if key else tuple(dict.fromkeys(r.key for r in refs if r.kind == kind and r.name == name and r.key))
    return Missing(kind, name, keys, bool(key) or f"{kind}/{name}" in ctx.signals.present_objects)


def close_match(ctx: Context, m: Missing | None) -> str:
    """An object of the same kind whose name is one typo away from the missing one."""
    if m is None or m.exists:
        return ""
    present = [o.split("/", 1)[1] for o in sorted(ctx.signals.present_objects) if o.startswith(f"{m.kind}/")]
    close = difflib.get_close_matches(m.name, present, n=1, cutoff=0.75)
    return close[0] if close else ""


def _create(ctx: Context, m: Missing) -> str:
    sources = [f'--from-literal={key}="${shell_var(key)}"' for key in m.keys] or [f"--from-env-file={m.name}.env"]
    verb = ["create", "configmap"] if m.kind == "ConfigMap" else ["create", "secret", "generic"]
    return ctx.kubectl(*verb, m.name, *sources)


def _patch_key(ctx: Context, m: Missing, key: str) -> str:
    """A merge patch in a double-quoted shell string, so ``$VAR`` expands and the value is never written here."""
    field = "data" if m.kind == "ConfigMap" else "stringData"
    var = shell_var(key)
    body = f'{{\\"{field}\\":{{\\"{key}\\":\\"${var}\\"}}}}'
    return ctx.kubectl("patch", m.resource, m.name, "--type=merge", "-p", f'"{body}"')


def _remove_key(ctx: Context, m: Missing, key: str) -> str:
    pointer = key.replace("~", "~0").replace("/", "~1")
    return ctx.kubectl(
        "patch", m.resource, m.name, "--type=json", "-p", k.as_json([{"op": "remove", "path": f"/data/{pointer}"}])
    )


@action("create_missing_config", ("config_error",), "medium", 120, "Create the missing ConfigMap/Secret or key")
def create_missing_config(ctx: Context) -> Plan:
    m = missing(ctx)
    if m is None:
        return Plan(
            "Create the missing configuration (none identified)",
            0.0,
            ctx.base_params(),
            ["No missing ConfigMap or Secret was identified: read the container's waiting message."],
            k.describe_pod(ctx),
            ["Nothing changed."],
        )
    keys = ", ".join(m.keys)
    if m.exists and m.keys:
        commands = [_patch_key(ctx, m, key) for key in m.keys]
        rollback = [_remove_key(ctx, m, key) for key in m.keys]
        title = f"Add key {keys} to {m.kind} {m.name}"
        steps = [f"{m.kind} {m.name} exists but has no key {keys}: add it (value from your config source)."]
    else:
        commands, rollback = [_create(ctx, m)], [ctx.kubectl("delete", m.resource, m.name)]
        title = f"Create {m.kind} {m.name}" + (f" with key {keys}" if keys else "")
        steps = [
            f"{m.kind} {m.name} does not exist in {ctx.namespace}: create it"
            + (f" with {keys}" if keys else " from its env file")
            + " (values from your config source)."
        ]
    steps += [
        f"Values come from your shell ({', '.join('$' + shell_var(x) for x in m.keys) or 'the env file'}): "
        "never paste them into chat.",
        "If it was deleted or renamed by mistake, restore it from source control instead.",
        "The kubelet retries the container by itself once the reference resolves.",
    ]
    direct = ctx.text("missing_name") != ""
    return Plan(
        title=title,
        fit=(0.95 if direct else 0.5) * (0.85 if close_match(ctx, m) else 1.0),
        params=ctx.base_params() | {"kind": m.kind, "name": m.name, "keys": list(m.keys), "exists": m.exists},
        steps=steps,
        commands=commands + [ctx.kubectl("get", "pod", ctx.pod)],
        rollback=rollback,
    )


@action("point_to_existing_config", ("config_error",), "medium", 240, "Fix a reference to a misnamed ConfigMap")
def point_to_existing_config(ctx: Context) -> Plan:
    m = missing(ctx)
    kind = m.kind if m else "ConfigMap"
    candidate = close_match(ctx, m)
    resource = "configmap" if kind == "ConfigMap" else "secret"
    commands = [ctx.kubectl("describe", resource, candidate)] if candidate else [ctx.kubectl("get", resource)]
    change, extra = k.edit(ctx)
    return Plan(
        title=f"Point {ctx.container_name} at {kind} {candidate}"
        if candidate
        else f"Check {ctx.container_name}'s {kind} reference for a typo",
        fit=0.9 if candidate else 0.15 if m else 0.0,
        params=ctx.base_params() | {"kind": kind, "missing": m.name if m else None, "candidate": candidate or None},
        steps=extra
        + [
            f"{kind} {m.name if m else '?'} is missing"
            + (f" but {candidate} exists: the reference is likely misspelt." if candidate else "."),
            f"Correct the name in {ctx.workload.label} (and in its source manifest).",
        ],
        commands=commands + change,
        rollback=k.template_undo(ctx, []),
    )
