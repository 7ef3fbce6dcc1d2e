"""The human-readable ``aeth diagnose --format text`` report."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aetherius.diagnoses import Diagnosis
from aetherius.taxonomy import TITLES


def print_report(source: str, diagnosis: Diagnosis, console: Console) -> None:
    console.rule(f"[bold]{escape(source)}")
    color = "green" if diagnosis.category == "unknown" else "red" if diagnosis.confidence >= 0.6 else "yellow"
    console.print(
        f"[bold {color}]{TITLES[diagnosis.category]}[/] ({diagnosis.category}) · "
        f"confidence {diagnosis.confidence:.0%} · {escape(diagnosis.subject)}"
    )
    console.print(escape(diagnosis.summary), highlight=False)
    if diagnosis.evidence:
        console.print("\n[bold]Evidence[/]")
        for line in diagnosis.evidence:
            console.print(f"  • {escape(line)}", highlight=False)
    if diagnosis.alternatives:
        console.print(
            "[dim]also possible: "
            + ", ".join(f"{a.category} {a.confidence:.0%}" for a in diagnosis.alternatives)
            + "[/]"
        )
    if diagnosis.similar_cases:
        table = Table("similarity", "case", "category", "fix", title="Similar past cases", title_justify="left")
        for case in diagnosis.similar_cases:
            table.add_row(f"{case.similarity:.2f}", escape(case.title), case.category, escape(case.fix[:100]))
        console.print(table)
    for i, rec in enumerate(diagnosis.recommendations, 1):
        console.print(
            f"\n[bold]{i}. {escape(rec.title)}[/] [dim]({rec.action}, risk {rec.risk}, "
            f"confidence {rec.confidence:.0%}, ~{rec.duration_s}s)[/]"
        )
        for n, step in enumerate(rec.steps, 1):
            console.print(f"   {n}. {escape(step)}", highlight=False)
        for cmd in rec.commands:
            console.print(f"   [cyan]$ {escape(cmd)}[/]", highlight=False)
        if rec.rollback:
            console.print(f"   [dim]rollback: {escape('; '.join(rec.rollback))}[/]", highlight=False)
    console.print()
