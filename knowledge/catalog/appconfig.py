"""Configuration the *application* rejects: a setting it says is unset, a file it cannot parse.

The setting's name comes from a rule fact (``missing_setting``) or from the application's own error line;
settings that look like credentials go through a Secret. A configuration file that does not parse usually
comes from a ConfigMap edited since the last rollout: the ConfigMaps the container mounts are named, and the
previous revision is one rollback away.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context

_SETTING = re.compile(
    r"(?:variable|env(?: var)?|setting|KeyError:|property)\s*\\?['\"`]?(?P<a>[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{4,})\b"
    r"|\b(?P<b>[A-Z][A-Z0-9]*_[A-Z0-9_]+)\\?['\"`]?\s+(?:is\s+)?(?:not set|missing|required|undefined|must be)"
)
_SECRET_LIKE = re.compile(r"PASS|TOKEN|SECRET|KEY|CREDENTIAL|DSN|AUTH|PRIVATE|DATABASE_URL|CONNECTION", re.I)
_PARSE = re.compile(
    r"\b(?:yaml|json|toml|xml|ini|config(?:uration)?|settings|properties)\b[^\n]{0,80}?"
    r"\b(?:parse|parsing|syntax|unmarshal|decode|invalid|unknown|did not find|unexpected)\b"
    r"|\b(?:parse|syntax|unmarshal|decode) error|unknown directive|mapping values are not allowed",
    re.I,
)
_CONFIG_PATH = re.compile(r"(/[\w./-]+\.(?:ya?ml|json|toml|conf|cfg|ini|properties|xml|env))\b")


def missing_setting(ctx: Context) -> str:
    named = ctx.text("missing_setting")
    if named:
        return named
    match = _SETTING.search(ctx.evidence)
    return (match.group("a") or match.group("b")) if match else ""


@action(
    "set_missing_setting",
    ("config_error",),
    "medium",
    180,
    "Provide the setting the application requires",
    container=True,
)
def set_missing_setting(ctx: Context) -> Plan:
    name = missing_setting(ctx)
    if ctx.mechanism != "config" and not name:
        fit = 0.0
    else:
        fit = 0.85 if name else 0.35
    variable = name or "SETTING"
    secret = f"{ctx.workload.name}-env"
    sensitive = bool(_SECRET_LIKE.search(variable))
    if sensitive:
        direct = [
            ctx.kubectl("create", "secret", "generic", secret, f'--from-literal={variable}="${variable}"'),
            k.set_env(ctx, f"--from=secret/{secret}", f"--keys={variable}"),
        ]
        inverse = [k.set_env(ctx, f"{variable}-"), ctx.kubectl("delete", "secret", secret)]
    else:
        direct, inverse = [k.set_env(ctx, f'{variable}="${variable}"')], [k.set_env(ctx, f"{variable}-")]
    commands, extra = k.template_change(ctx, direct)
    return Plan(
        title=f"Set {variable} on {ctx.container_name}" + (" from a Secret" if sensitive else ""),
        fit=fit,
        params=ctx.base_params() | {"setting": name or None, "via_secret": secret if sensitive else None},
        steps=extra
        + [
            f"The application stops because {variable if name else 'a required setting'} is unset or invalid.",
            f"Provide it ({'through Secret ' + secret if sensitive else 'as an environment variable'}), with the "
            "value from your config source; compare with the previous release's configuration.",
        ],
        commands=[k.container_jsonpath(ctx, "env[*].name"), *commands],
        rollback=k.template_undo(ctx, inverse),
    )


def mounted_configs(ctx: Context) -> list[str]:
    """ConfigMaps the container reads as files or env (names only; Secrets are never shown)."""
    refs = ctx.container.env_refs if ctx.container else []
    return list(dict.fromkeys(r.name for r in refs if r.kind == "ConfigMap" and r.via in ("volume", "envFrom")))


@action("fix_config_file", ("config_error",), "medium", 300, "Fix the configuration file the application rejects")
def fix_config_file(ctx: Context) -> Plan:
    text = "\n".join([ctx.evidence, ctx.log_text])
    parse = _PARSE.search(text)
    path = (ctx.text("path") or (m.group(1) if (m := _CONFIG_PATH.search(text)) else "")) if parse else ""
    configs = mounted_configs(ctx)
    fit = (0.8 if configs else 0.6) if parse and ctx.mechanism in ("config", "file_permission", "") else 0.0
    commands = [ctx.kubectl("get", "configmap", name, "-o", "yaml") for name in configs[:2]]
    commands += [ctx.kubectl("rollout", "history", ctx.workload.ref)] if ctx.workload.rollout else []
    commands += [ctx.kubectl("edit", "configmap", configs[0])] if configs else []
    where = f"ConfigMap {configs[0]}" if configs else "the image or its source manifest"
    return Plan(
        title=f"Fix the configuration {path or 'file'} of {ctx.container_name}"
        + (f" (ConfigMap {configs[0]})" if configs else ""),
        fit=fit,
        params=ctx.base_params()
        | {"path": path or None, "configmaps": configs or None, "error": parse.group(0) if parse else None},
        steps=[
            f"{ctx.container_name} rejects its configuration{f' {path}' if path else ''}"
            + (f" ('{parse.group(0)}')" if parse else "")
            + f": fix it in {where}.",
            "Compare with the version of the last good rollout; a ConfigMap change does not restart pods, so the "
            "breaking edit may predate this rollout.",
            "Validate the file before applying it (a YAML/JSON linter, or the application's own config check).",
        ],
        commands=commands or [k.container_jsonpath(ctx, "volumeMounts")],
        rollback=["Re-apply the previous ConfigMap from source control (a ConfigMap has no rollout history)."]
        if configs
        else k.template_undo(ctx, []),
    )
