"""Application crashes: go back to what worked, read the last words, look inside.

A crash loop after a rollout is cheapest to end by rolling back, and the rollback names the image it returns
to so the human approving it knows what will run. Without history the action still shows, saying so, with a
lower confidence. Reading the previous run's logs is always safe and may run unattended.
"""

from __future__ import annotations

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context
from knowledge.catalog.history import current_image, previous_image, revisions, same_image_before, split_image

EXIT_MEANINGS = {
    0: "exited successfully, but the pod restarts it (restartPolicy Always): a batch program in a Deployment?",
    1: "application error: the last log lines say why",
    2: "misuse of a shell builtin or bad arguments",
    126: "command found but not executable (permissions, wrong architecture)",
    127: "command not found in the image",
    134: "aborted (SIGABRT): an assertion or a native crash",
    137: "killed (SIGKILL): memory, a failed probe or an eviction",
    139: "segmentation fault (SIGSEGV): a native crash",
    143: "terminated (SIGTERM): asked to stop",
}


def exit_code(ctx: Context) -> int | None:
    code = ctx.number("exit_code")
    if code is not None:
        return int(code)
    c = ctx.container
    return (c.exit_code if c.exit_code is not None else c.last_exit_code) if c else None


@action(
    "rollback_to_previous_image",
    ("crash_loop", "config_error"),
    "medium",
    240,
    "Roll the workload back to its previous revision",
)
def rollback_to_previous_image(ctx: Context) -> Plan:
    w, current, previous = ctx.workload, current_image(ctx), previous_image(ctx)
    revision, target = revisions(ctx)
    params = ctx.base_params() | {
        "current_image": current or None,
        "previous_image": previous or None,
        "current_revision": revision or None,
        "to_revision": target or None,
    }
    fit = 0.85 if ctx.category == "crash_loop" else 0.55
    if w.rollout:
        commands = [k.rollout_undo(ctx, target), *k.rollout_status(ctx)]
        rollback = [k.rollout_undo(ctx, revision)] if revision else [k.set_image(ctx, current)] if current else []
    elif previous and w.mutable:
        commands, rollback = [k.set_image(ctx, previous)], [k.set_image(ctx, current)]
    else:
        commands, rollback = [ctx.kubectl("get", w.ref, "-o", "yaml")], []
        fit = 0.1
    if previous:
        title = f"Roll back {w.ref} to {split_image(previous).short}"
        steps = [
            f"Return {w.label} to its previous revision{f' ({target})' if target else ''}: container "
            f"{ctx.container_name} goes from {current} back to {previous}."
        ]
    elif same_image_before(ctx):
        fit *= 0.8
        title = f"Roll back {w.ref} to its previous spec (same image)"
        steps = [
            f"The previous revision ran the same image {current}: the breaking change was in the spec "
            "(environment, configuration, command). Rolling back restores that spec."
        ]
    else:
        fit *= 0.4
        title = f"Roll back {w.ref} (no previous image recorded)"
        steps = [
            f"No earlier image of {ctx.container_name} is recorded in the snapshot: check the rollout "
            f"history before undoing (kubectl -n {ctx.namespace} rollout history {w.ref})."
        ]
    steps += [
        "Confirm the new pods stay Ready for a few minutes after the rollback.",
        "Keep the failing version out of the pipeline until the crash is understood (see the previous logs).",
    ]
    return Plan(
        title=title,
        fit=fit,
        params=params,
        steps=steps,
        commands=commands,
        rollback=rollback or [f"Re-apply {w.label}'s current manifest from source control."],
    )


@action(
    "inspect_previous_logs",
    ("crash_loop",),
    "low",
    60,
    "Read the crashed run's logs and events (read-only)",
    unattended=True,
    container=True,
)
def inspect_previous_logs(ctx: Context) -> Plan:
    code = exit_code(ctx)
    meaning = EXIT_MEANINGS.get(code, "") if code is not None else ""
    steps = [f"Read the last lines of the crashed run of {ctx.container_name}: the cause is usually there."]
    if meaning:
        steps.append(f"Exit code {code}: {meaning}.")
    steps.append("Check the events for what happened around the restarts (probes, OOM, config).")
    commands = [ctx.kubectl("logs", ctx.pod, "-c", ctx.container_name, "--previous", "--tail=200")]
    return Plan(
        title=f"Read the last run's logs of {ctx.container_name}" + (f" (exit {code})" if code is not None else ""),
        fit=0.85 if not ctx.signals.has_logs else 0.55,
        params=ctx.base_params() | {"exit_code": code, "exit_meaning": meaning or None},
        steps=steps,
        commands=commands + k.describe_pod(ctx),
        rollback=read_only(ctx),
    )


@action(
    "debug_crash_in_copy", ("crash_loop",), "low", 600, "Open a shell in a copy of the crashing pod", container=True
)
def debug_crash_in_copy(ctx: Context) -> Plan:
    copy = f"{ctx.pod}-debug"
    return Plan(
        title=f"Debug {ctx.container_name} in a copy of the pod",
        fit=0.4,
        params=ctx.base_params() | {"debug_pod": copy},
        steps=[
            f"Start a copy of {ctx.pod} whose {ctx.container_name} runs a shell instead of its command, so it "
            "stays up: inspect files, configuration and the command by hand.",
            "Run the original command from the shell to watch it fail.",
            f"Delete {copy} when done.",
        ],
        commands=[
            ctx.kubectl("debug", ctx.pod, "-it", f"--copy-to={copy}", f"--container={ctx.container_name}", "--", "sh")
        ],
        rollback=[ctx.kubectl("delete", "pod", copy, "--ignore-not-found")],
        unattended=False,
    )


@action(
    "fix_entrypoint",
    ("crash_loop", "config_error"),
    "medium",
    300,
    "Fix a command the image cannot run",
    container=True,
)
def fix_entrypoint(ctx: Context) -> Plan:
    code = exit_code(ctx)
    fits = code in (126, 127) or "entrypoint_not_runnable" in ctx.rules
    overridden = bool(ctx.container and ctx.container.command)
    steps = [
        f"The command of {ctx.container_name} cannot run in its image "
        f"({EXIT_MEANINGS.get(code or 127, 'not runnable')}).",
        "Compare the command/args of the container with the image's ENTRYPOINT and files "
        "(wrong path, missing interpreter, image built for another CPU architecture).",
    ]
    commands = [k.container_jsonpath(ctx, "command"), k.container_jsonpath(ctx, "args")]
    inverse: list[str] = []
    if overridden:
        steps.append(
            "The container overrides the image's command: removing the override runs the image's own ENTRYPOINT."
        )
        change, extra = k.template_change(ctx, [k.patch_container(ctx, {"command": None})])
        commands += change
        steps = extra + steps
        inverse = [k.rollout_undo(ctx)] if ctx.workload.rollout else []
    return Plan(
        title=f"Fix the command of {ctx.container_name}" + (f" (exit {code})" if code is not None else ""),
        fit=(0.9 if overridden else 0.7) if fits else 0.0,
        params=ctx.base_params() | {"exit_code": code, "command_overridden": overridden},
        steps=steps,
        commands=commands,
        rollback=k.template_undo(ctx, inverse) if overridden else read_only(ctx),
    )
