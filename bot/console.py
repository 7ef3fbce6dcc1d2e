"""Console notifier: draws an incident thread in a terminal, the same content Slack receives."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.threads import Thread

_SEVERITY_STYLE = {"high": "bold red", "medium": "bold yellow", "info": "bold blue"}


def render_thread(thread: Thread, console: Console) -> None:
    style = _SEVERITY_STYLE.get(thread.severity, "bold")
    fields = "  ".join(f"[dim]{k}[/] {escape(v)}" for k, v in thread.fields.items())
    parent = Group(
        Text.from_markup(f"[{style}]● {thread.severity.upper()}[/]  {fields}"), Text(""), Text(thread.summary)
    )
    console.print(
        Panel(
            parent,
            title=f"[bold]#incidents[/] · aetherius · {escape(thread.header)}",
            title_align="left",
            border_style=style.split()[-1],
        )
    )
    for reply in thread.replies:
        body = Text()
        for line in reply.lines:
            body.append("  " + line + "\n")
        if reply.buttons:
            body.append("  " + "  ".join(f"[ {b.label} ]" for b in reply.buttons) + "\n", style="bold cyan")
        console.print(Text(f"  ↳ {reply.title}", style="bold"))
        console.print(body, end="")
    console.print()
