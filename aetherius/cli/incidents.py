"""``aeth incidents``: what the pipeline has opened, newest first, as a table or one JSON object per line."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aetherius.cli.pipeline_wiring import open_store
from aetherius.incidents import IncidentState
from aetherius.settings import Settings
from aetherius.store import IncidentView

COLUMNS = ("id", "fingerprint", "cluster", "namespace", "workload", "category", "state", "occurrences")


def as_record(incident: IncidentView) -> dict[str, Any]:
    return {
        "id": incident.id,
        "fingerprint": incident.fingerprint,
        "cluster": incident.cluster,
        "namespace": incident.namespace,
        "workload": incident.workload,
        "family": incident.family,
        "category": incident.category,
        "state": str(incident.state),
        "occurrences": incident.occurrences,
        "first_seen": _iso(incident.first_seen),
        "last_seen": _iso(incident.last_seen),
        "storm_id": incident.storm_id,
    }


def _iso(value: datetime) -> str:
    return value.isoformat()


def incidents(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", help="text or json (one object per line).")] = "text",
    state: Annotated[list[str] | None, typer.Option(help="Only incidents in this state (repeatable).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List incidents: fingerprint, cluster, namespace, workload, category, state, occurrences, first/last seen."""
    settings: Settings = ctx.obj
    if output_format not in ("text", "json"):
        raise typer.BadParameter(f"unknown format {output_format!r}; use text or json", param_hint="--format")
    try:
        states = [IncidentState(s) for s in state] if state else None
    except ValueError:
        names = ", ".join(s.value for s in IncidentState)
        raise typer.BadParameter(f"unknown state in {state}; use one of {names}", param_hint="--state") from None
    store = open_store(settings)
    try:
        found = store.list_incidents(states=states, limit=limit)
    finally:
        store.close()
    if output_format == "json":
        for incident in found:
            typer.echo(json.dumps(as_record(incident)))
        return
    table = Table(*COLUMNS, "first seen", "last seen", box=None, header_style="bold")
    for incident in found:
        record = as_record(incident)
        cells = [str(record[c] if record[c] is not None else "-") for c in COLUMNS]
        table.add_row(*cells, f"{incident.first_seen:%Y-%m-%d %H:%M:%S}", f"{incident.last_seen:%Y-%m-%d %H:%M:%S}")
    Console(width=200).print(table if found else "no incidents")
