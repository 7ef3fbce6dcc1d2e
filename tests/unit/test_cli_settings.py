"""A bad AETH_ setting is one line naming the variable, before any command runs."""

from __future__ import annotations

import subprocess
import sys


def test_an_invalid_setting_is_one_line_naming_its_variable_and_exits_non_zero() -> None:
    env = {"AETH_SLACK_MODE": "carrier-pigeon", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "aetherius.cli.main", "version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: AETH_SLACK_MODE: ")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_every_setting_has_a_row_in_the_readme_configuration_table() -> None:
    from pathlib import Path

    from aetherius.settings import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `AETH_")]
    documented = " ".join(rows)

    def covered(field: str) -> bool:
        name = f"AETH_{field.upper()}"
        return f"`{name}`" in documented or (name.startswith("AETH_SLACK_") and "`AETH_SLACK_*`" in documented)

    assert [field for field in Settings.model_fields if not covered(field)] == []
