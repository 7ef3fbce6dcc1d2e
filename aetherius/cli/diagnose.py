"""``aeth diagnose``: snapshot files in, one diagnosis per file out (text or JSON lines).

``aeth diagnose pod/NAME -n NS`` captures the pod through the API first (the collector's capture, redacted, see
``aeth snapshot``) and diagnoses it like a file; its ``source`` is ``NS/pod/NAME``.

A bad file costs only its own line: the others still run, and the exit code says something failed.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from aetherius.cli.report import print_report
from aetherius.cli.snapshot import Context, Kubeconfig, Namespace, captured_document, with_cluster
from aetherius.cli.wiring import build_engine
from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from aetherius.snapshots import Snapshot
from knowledge.engine import DiagnosisEngine
from knowledge.loading import load_snapshot, to_snapshot
from knowledge.redaction import redact_text

BATCH = 64
"""Snapshots diagnosed together: one embedding batch and one case-store query for up to this many files."""


def diagnose(
    ctx: typer.Context,
    pod: Annotated[
        str | None, typer.Argument(help="pod/NAME: capture it from the cluster and diagnose it.", show_default=False)
    ] = None,
    snapshot: Annotated[
        list[str] | None,
        typer.Option("--snapshot", "-s", help="Snapshot file (JSON/YAML, Pod or List); - for stdin."),
    ] = None,
    namespace: Namespace = "default",
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[str, typer.Option("--format", "-f", help="text | json (one JSON object per line)")] = "text",
    cases: Annotated[
        bool, typer.Option("--cases/--no-cases", help="Compare with past cases (loads the model).")
    ] = True,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Let the configured LLM (AETH_LLM_BASE_URL) word the summary.")
    ] = True,
) -> None:
    """Diagnose one or more snapshots, or a pod captured from the cluster (pod/NAME -n NS)."""
    if output not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    if not pod and not snapshot:
        raise typer.BadParameter("give a pod (pod/NAME -n NS) or --snapshot FILE", param_hint="POD / --snapshot")
    settings: Settings = ctx.obj
    engine = build_engine(settings, with_cases=cases, with_llm=llm)
    console = Console(soft_wrap=False)
    sources = ([f"{namespace}/pod/{pod.rpartition('/')[2]}"] if pod else []) + list(snapshot or [])
    failed = 0
    for start in range(0, len(sources), BATCH):
        chunk = sources[start : start + BATCH]
        loaded: list[Snapshot | str] = []  # a snapshot, or the one-line reason it could not be read
        for index, source in enumerate(chunk, start):
            try:
                if pod and index == 0:
                    document = captured_document(with_cluster(settings, kubeconfig, context), pod, namespace)
                    loaded.append(
                        to_snapshot(document, tail_lines=settings.log_tail_lines, error_lines=settings.log_error_lines)
                    )
                else:
                    loaded.append(
                        load_snapshot(
                            source,
                            max_bytes=settings.max_snapshot_bytes,
                            tail_lines=settings.log_tail_lines,
                            error_lines=settings.log_error_lines,
                        )
                    )
            except AetheriusError as err:
                loaded.append(str(err))
        failed += _diagnose_and_print(engine, chunk, loaded, output, console)
    if failed:
        raise typer.Exit(1)


def _diagnose_and_print(
    engine: DiagnosisEngine, sources: list[str], loaded: list[Snapshot | str], output: str, console: Console
) -> int:
    """Diagnose the readable snapshots of a chunk in one batch, then print every outcome in input order."""
    readable = [snap for snap in loaded if not isinstance(snap, str)]
    try:
        results = iter(engine.diagnose_many(readable))
    except AetheriusError as err:  # the case store went away mid-run: every file of the chunk reports it
        results, loaded = iter(()), [str(err)] * len(loaded)
    failed = 0
    for source, outcome in zip(sources, loaded, strict=True):
        if isinstance(outcome, str):
            failed += 1
            _report_error(source, outcome, output)
            continue
        result = next(results)
        if output == "json":
            sys.stdout.write(json.dumps({"source": source, "diagnosis": result.contract()}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            print_report(source, result, console)
    return failed


def _report_error(source: str, message: str, output: str) -> None:
    message = redact_text(message)
    if output == "json":
        sys.stdout.write(json.dumps({"source": source, "error": message}) + "\n")
        sys.stdout.flush()
    else:
        sys.stderr.write(f"error: {source}: {message}\n")
