"""``aeth snapshot pod/NAME -n NS``: capture a pod's Snapshot through the API, exactly as the collector does.

The capture is ``collectors.kube.capture_pod`` (the collector's own), redacted before it is written anywhere:
the file can go into a ticket. ``aeth diagnose pod/NAME -n NS`` diagnoses the same redacted document, so a
snapshot written here and diagnosed later gives the same answer as diagnosing the pod directly.

Failures print one line and exit 1: the pod does not exist (or was deleted), the API refused (403), cannot be
reached or timed out, the kubeconfig or context cannot be loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from collectors.kube import capture_pod
from knowledge.redaction import redact_object, redact_text

Namespace = Annotated[str, typer.Option("--namespace", "-n", help="Namespace of the pod.")]
Kubeconfig = Annotated[
    str | None, typer.Option("--kubeconfig", help="Kubeconfig file (default: in-cluster, then ~/.kube/config).")
]
Context = Annotated[str | None, typer.Option("--context", help="Kubeconfig context (default: its current one).")]


def with_cluster(settings: Settings, kubeconfig: str | None, context: str | None) -> Settings:
    """``settings`` with the command line's kubeconfig/context, where given."""
    update = {k: v for k, v in (("kubeconfig", kubeconfig), ("kube_context", context)) if v}
    return settings.model_copy(update=update) if update else settings


def captured_document(settings: Settings, ref: str, namespace: str) -> dict[str, Any]:
    """The redacted Snapshot document (SNAPSHOT.md wire form) of ``ref`` in ``namespace``."""
    document: dict[str, Any] = redact_object(capture_pod(settings, ref, namespace).to_document())
    return document


def one_line(err: AetheriusError | OSError) -> str:
    return redact_text(" ".join(str(err).split()))


def snapshot(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The pod: pod/NAME (or NAME).", show_default=False)],
    namespace: Namespace = "default",
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")] = None,
) -> None:
    """Capture a pod's evidence (pod, events, node, owners, PVCs, logs, metrics) as a Snapshot JSON."""
    settings = with_cluster(ctx.obj, kubeconfig, context)
    try:
        document = captured_document(settings, ref, namespace)
    except AetheriusError as err:
        sys.stderr.write(f"error: {one_line(err)}\n")
        raise typer.Exit(1) from None
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as err:
        sys.stderr.write(f"error: cannot write {output}: {one_line(err)}\n")
        raise typer.Exit(1) from None
    skipped = len(document.get("metadata", {}).get("skipped") or [])
    sys.stderr.write(
        f"wrote {output}: {len(document['objects'])} objects, {len(document['logs'])} logs"
        + (f", {skipped} things not readable (metadata.skipped)" if skipped else "")
        + "\n"
    )
