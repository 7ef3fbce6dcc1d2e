#!/usr/bin/env python3
"""Generate the labelled Snapshot corpus (stdlib only, deterministic).

    python3 scripts/make_corpus.py          # writes examples/ and tests/data/corpus/

examples/            14 demo incidents, one per taxonomy id plus two tricky ones (shown by `aeth demo`)
tests/data/corpus/   hard, varied snapshots (>= 6 per category) for testing diagnosis rules
Each folder gets labels.json: {file stem: {category, also_acceptable, remediation, hard, why}}.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from corpus import REGISTRY  # noqa: E402
from corpus.render import document  # noqa: E402

# case families register themselves on import: demo_*.py -> examples/, c_*.py -> tests/data/corpus/
for _mod in sorted(m.name for m in pkgutil.iter_modules(corpus.__path__)):
    if _mod.startswith(("demo_", "c_")):
        importlib.import_module(f"corpus.{_mod}")

TAXONOMY = {"oom_killed", "crash_loop", "image_pull", "cpu_throttling", "network", "disk_pressure", "config_error",
            "rbac_denied", "scheduling", "probe_failure", "volume_mount", "unknown"}
OUT = {"demo": ROOT / "examples", "corpus": ROOT / "tests" / "data" / "corpus"}


def check(stem: str, doc: dict, label: dict) -> None:
    assert label, f"{stem}: no label"
    assert label["category"] in TAXONOMY, stem
    assert all(a in TAXONOMY and a != label["category"] for a in label["also_acceptable"]), stem
    first = doc["objects"][0]
    assert first["kind"] == "Pod" and first["apiVersion"] == "v1", stem
    assert label["why"] and label["remediation"], stem


def build(group: str) -> Counter[str]:
    folder = OUT[group]
    folder.mkdir(parents=True, exist_ok=True)
    labels: dict[str, dict] = {}
    for fn in REGISTRY[group]:
        s = fn()
        doc = document(s)
        stem = s.key
        assert stem not in labels, f"duplicate case {stem}"
        check(stem, doc, s.label)
        (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        labels[stem] = s.label
    for stale in folder.glob("*.json"):
        if stale.stem not in labels and stale.name != "labels.json":
            stale.unlink()
    (folder / "labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n")
    return Counter(v["category"] for v in labels.values())


def main() -> None:
    for group in ("demo", "corpus"):
        counts = build(group)
        print(f"{group}: {sum(counts.values())} snapshots -> {OUT[group].relative_to(ROOT)}")
        for cat in sorted(TAXONOMY):
            print(f"  {cat:<15} {counts.get(cat, 0)}")
        if group == "corpus":
            short = [c for c in TAXONOMY if counts.get(c, 0) < 6]
            assert not short, f"fewer than 6 cases for {short}"


if __name__ == "__main__":
    main()
