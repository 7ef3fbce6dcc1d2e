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
