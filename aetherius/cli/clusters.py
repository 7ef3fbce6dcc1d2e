"""``aeth clusters``: the registered clusters, their last heartbeat, its age, the leading collector, stale or not.

Read from the state store (``AETH_DATABASE_URL``, default SQLite in the data dir); a cluster is stale when its
last heartbeat is older than ``AETH_STALE_AFTER_S``. ``--format json`` prints one JSON object per cluster per line.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aetherius.settings import Settings
from aetherius.store import Store
from collectors.registry import ClusterStatus, cluster_statuses, format_age


def clusters(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("--format", "-f", help="text | json (one JSON object per line)")] = "text",
) -> None:
    """List the clusters whose collectors heartbeat into the state store."""
    if output not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")
    settings: Settings = ctx.obj
    store = Store.open(settings.sqlalchemy_url)
    try:
        views = store.list_clusters()
    finally:
        store.close()
    statuses = cluster_statuses(views, now=datetime.now(UTC), stale_after_s=settings.stale_after_s)
    if output == "json":
        for status in statuses:
            sys.stdout.write(json.dumps(status.as_dict()) + "\n")
        return
    print_clusters(statuses, settings.stale_after_s, Console(soft_wrap=False))


def print_clusters(statuses: list[ClusterStatus], stale_after_s: float, console: Console) -> None:
    if not statuses:
        console.print("No cluster has registered yet: start a collector (aeth collect) to register one.")
        return
    table = Table("cluster", "last heartbeat", "age", "leader", "status")
    for s in statuses:
        beat = s.last_heartbeat.strftime("%Y-%m-%d %H:%M:%S UTC") if s.last_heartbeat else "never"
        state = f"[red]stale[/] (> {stale_after_s:g}s)" if s.stale else "[green]ok[/]"
        table.add_row(s.name, beat, format_age(s.age_s), s.leader or "-", state)
    console.print(table)
