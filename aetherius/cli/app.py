"""The ``aeth`` commands (typer): the composition root that wires settings, stores, knowledge and renderers together.

The console script enters through `aetherius.cli.main`, which stays light so that ``aeth worker``'s supervisor
does not carry all of this.

No traceback reaches a user: Aetherius errors print one line; anything unexpected prints one line too and, with
``AETH_DEBUG=1``, the traceback for us.
"""

from __future__ import annotations

import os
import sys

import typer
from pydantic import ValidationError

from aetherius import __version__
from aetherius.cli import cases, demo, diagnose
from aetherius.cli import clusters as clusters_cli
from aetherius.cli import incidents as incidents_cli
from aetherius.cli import run as run_cli
from aetherius.cli import serve as serve_cli
from aetherius.cli import snapshot as snapshot_cli
from aetherius.cli import worker as worker_cli
from aetherius.errors import AetheriusError, ConfigurationError
from aetherius.settings import Settings

app = typer.Typer(
    name="aeth",
    help="Aetherius: Kubernetes incident diagnosis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("diagnose")(diagnose.diagnose)
app.command("demo")(demo.demo)
app.add_typer(cases.app, name="cases")
app.command("snapshot")(snapshot_cli.snapshot)
app.command("clusters")(clusters_cli.clusters)
app.command("worker")(worker_cli.worker)
app.command("collect")(run_cli.collect)
app.command("run")(run_cli.run)
app.command("incidents")(incidents_cli.incidents)
app.command("serve")(serve_cli.serve)


@app.callback()
def _settings(ctx: typer.Context) -> None:
    try:
        ctx.obj = Settings()
    except ValidationError as err:  # one line naming the variable, not pydantic's multi-line report
        first = err.errors()[0]
        name = "AETH_" + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigurationError(f"{name}: {first['msg']} ({err.error_count()} setting(s) invalid)") from None


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app(prog_name="aeth")
    except AetheriusError as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # the last bulkhead: one line for users, the traceback only on request
        if os.environ.get("AETH_DEBUG"):
            raise
        sys.stderr.write(f"internal error: {type(err).__name__}: {err} (set AETH_DEBUG=1 for details)\n")
        sys.exit(70)
