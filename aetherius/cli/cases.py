"""``aeth cases``: browse the case library, search it by meaning, and grow it with new case files.

Errors reach the user as one ``error: ...`` line on stderr, never as a traceback. ``add`` treats each file on its
own: a bad file costs only its own line, the others are still added, and the exit code says something failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aetherius.cases import Case
from aetherius.cli.wiring import open_case_store
from aetherius.errors import AetheriusError, CaseError
from aetherius.settings import Settings
from aetherius.taxonomy import CATEGORIES, is_category
from knowledge.caselib import load_case_file
from knowledge.casestore import CaseStore

USER_SOURCE = "local"
"""``source`` of an added case whose file does not name one: it is not a seed, and seeds must not overwrite it."""

EXIT_FAILED = 2
"""The command could not run at all (bad settings, store unreachable); ``add`` uses 1 when only some files failed."""

app = typer.Typer(help="Browse and grow the case library.", no_args_is_help=True, add_completion=False)


@app.callback()
def _settings(ctx: typer.Context) -> None:
    """Browse and grow the case library."""
    if not isinstance(ctx.obj, Settings):  # mounted under ``aeth``, the root callback has already built them
        try:
            ctx.obj = Settings()
        except ValidationError as err:
            first = err.errors()[0]
            name = "AETH_" + "_".join(str(p) for p in first["loc"]).upper()
            _fail(f"invalid setting {name}: {first['msg']}")
        except SettingsError as err:
            _fail(f"invalid AETH_ settings: {err}")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(EXIT_FAILED)


def _store(ctx: typer.Context) -> CaseStore:
    settings: Settings = ctx.obj
    try:
        return open_case_store(settings)
    except AetheriusError as err:
        _fail(str(err))


def _check_format(output: str) -> None:
    if output not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--format")


@app.command("list")
def list_cases(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="Only cases of this category.")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
) -> None:
    """List the cases in the library."""
    _check_format(output)
    if category is not None and not is_category(category):
        raise typer.BadParameter(f"not one of {', '.join(CATEGORIES)}", param_hint="--category")
    try:
        cases = [c for c in _store(ctx).list_cases() if category is None or c.category == category]
    except AetheriusError as err:
        _fail(str(err))
    if output == "json":
        sys.stdout.write(json.dumps([c.model_dump(mode="json") for c in cases], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "category", "title", "source", title=f"{len(cases)} cases", title_justify="left")
    for case in cases:
        table.add_row(escape(case.id), case.category, escape(case.title), escape(case.source))
    Console().print(table)


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What the incident looks like: reasons, events, log lines.")],
    top: Annotated[int | None, typer.Option("--top", "-k", min=1, max=100, help="How many cases.")] = None,
    output: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
) -> None:
    """Find the past cases most similar to TEXT."""
    _check_format(output)
    settings: Settings = ctx.obj
    try:
        found = _store(ctx).search(text, k=top or settings.similar_cases)
    except AetheriusError as err:
        _fail(str(err))
    if output == "json":
        sys.stdout.write(json.dumps([s.model_dump(mode="json") for s in found], ensure_ascii=False, indent=2) + "\n")
        return
    if not found:
        sys.stdout.write("no similar cases: the library is empty\n")
        return
    table = Table("similarity", "id", "category", "title", "root cause", title_justify="left")
    for case in found:
        table.add_row(
            f"{case.similarity:.3f}", escape(case.id), case.category, escape(case.title), escape(case.root_cause)
        )
    Console().print(table)


@app.command()
def add(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Case files (YAML or JSON), one case each.")],
) -> None:
    """Validate case files and add them to the library (a case with an existing id replaces it)."""
    valid: list[tuple[Path, Case]] = []
    failed = 0
    for path in files:
        try:
            case = load_case_file(path)
        except CaseError as err:  # its message already starts with the file
            failed += 1
            sys.stderr.write(f"error: {err}\n")
            continue
        if "source" not in case.model_fields_set:
            case = case.model_copy(update={"source": USER_SOURCE})
        valid.append((path, case))
    if valid:
        store = _store(ctx)
        for path, case in valid:
            try:
                store.add(case)
            except AetheriusError as err:
                failed += 1
                sys.stderr.write(f"error: {path}: {err}\n")
                continue
            sys.stdout.write(f"added {case.id} ({case.category}) from {path}\n")
    if failed:
        raise typer.Exit(1)
