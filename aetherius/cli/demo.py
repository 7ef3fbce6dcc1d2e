"""``aeth demo``: replay the bundled example incidents and show each as the Slack thread it becomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aetherius.cli.wiring import build_engine
from aetherius.errors import AetheriusError
from aetherius.settings import Settings
from bot.console import render_thread
from bot.threads import build_thread
from knowledge.loading import load_snapshot
from knowledge.signals import extract

DEFAULT_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def demo(
    ctx: typer.Context,
    examples: Annotated[Path, typer.Option(help="Folder of example snapshots.")] = DEFAULT_EXAMPLES,
) -> None:
    """Diagnose the example incidents and print them as Slack threads (no Slack, no cluster needed)."""
    settings: Settings = ctx.obj
    files = sorted(p for p in examples.glob("*.json") if p.name != "labels.json") if examples.is_dir() else []
    if not files:
        raise typer.BadParameter(f"no example snapshots in {examples}", param_hint="--examples")
    labels = _labels(examples)
    console = Console()
    console.print(f"[bold]Aetherius demo[/] · {len(files)} incidents from {examples} · data dir {settings.data_dir}\n")
    engine = build_engine(settings, with_cases=True)
    right = 0
    for path in files:
        try:
            snapshot = load_snapshot(str(path), max_bytes=settings.max_snapshot_bytes)
        except AetheriusError as err:
            console.print(f"[red]error[/]: {path.name}: {err}")
            continue
        diagnosis = engine.diagnose(snapshot)
        sig = extract(snapshot)
        render_thread(build_thread(diagnosis, cluster=snapshot.metadata.cluster, workload=sig.workload), console)
        expected = labels.get(path.stem)
        if expected is not None:
            right += diagnosis.category in expected
    if labels:
        console.print(f"[bold]{right}/{len(labels)}[/] example diagnoses match their labels.")


def _labels(folder: Path) -> dict[str, list[str]]:
    path = folder / "labels.json"
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    return {key: [v["category"], *v.get("also_acceptable", [])] for key, v in raw.items()}
