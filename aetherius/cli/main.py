"""The ``aeth`` entry point, light on purpose.

``aeth worker`` is supervised (`aetherius.cli.supervise`) from this process, which then imports nothing heavy
(about 20 MiB instead of the 130 MiB of the whole CLI); every command, and the supervised worker itself, runs the
typer app in `aetherius.cli.app`.
"""

from __future__ import annotations

import sys

from aetherius.cli.supervise import supervise_worker_if_asked


def main() -> None:
    code = supervise_worker_if_asked(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from aetherius.cli.app import main as run_command

    run_command()


if __name__ == "__main__":
    main()
