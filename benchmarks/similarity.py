"""Quality of the similar-case search on the labelled snapshots, per embedding setting, measured in one run.

For every labelled snapshot (examples/, tests/data/corpus/ and, where present, ../shared/examples), the whole
diagnosis runs against a case store indexed with the same embedder settings, and we count:

similar_top1   share whose most similar past case has the labelled category
similar_top5   share of the top-5 similar cases that have the labelled category (precision)
diagnosis_top1 share whose final diagnosis has the labelled (or an also-acceptable) category
cosine         agreement of each setting's signature embeddings with the first setting's (min and mean)

This is how a faster setting (bf16, fewer tokens) is judged: it must not lose these figures.

Usage: python benchmarks/similarity.py [--precision float32 bfloat16] [--max-tokens 128] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402
from diagnose import SOURCES  # noqa: E402
from report import report  # noqa: E402

from aetherius.settings import Settings  # noqa: E402
from aetherius.snapshots import Snapshot  # noqa: E402
from knowledge.loading import load_snapshot  # noqa: E402


def labelled() -> list[tuple[Snapshot, set[str]]]:
    """Every snapshot that a labels.json beside it labels, with its acceptable categories."""
    found = []
    for folder in SOURCES:
        labels_file = folder / "labels.json"
        if not labels_file.is_file():
            continue
        for name, label in json.loads(labels_file.read_text()).items():
            accepted = {label["category"], *label.get("also_acceptable", [])}
            for path in (folder / f"{name}.json", folder / f"{name.removeprefix('ex-')}.json"):  # public set: ex-<file>
                if path.is_file():
                    found.append((load_snapshot(str(path), max_bytes=1 << 30), accepted))
                    break
    return found


def measure(precision: str, max_tokens: int, cases: list[tuple[Snapshot, set[str]]]) -> dict[str, object]:
    from aetherius.cli.wiring import build_engine, embedder_for
    from knowledge.engine import analyze

    with tempfile.TemporaryDirectory(prefix="aeth-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), embed_precision=precision, embed_max_tokens=max_tokens)  # type: ignore[arg-type]
        engine = build_engine(settings)
        embedder = embedder_for(settings)
        signatures = [analyze(s).signature for s, _ in cases]
        embedder.embed(signatures[:16])
        t = time.perf_counter()
        vectors = np.vstack([embedder.embed(signatures[i : i + 64]) for i in range(0, len(signatures), 64)])
        embeds_per_s = len(signatures) / (time.perf_counter() - t)
        diagnoses = engine.diagnose_many([s for s, _ in cases])
    judged = [(d, ok) for d, (_, ok) in zip(diagnoses, cases, strict=True)]
    top1 = [bool(d.similar_cases) and d.similar_cases[0].category in ok for d, ok in judged]
    top5 = [c.category in ok for d, ok in judged for c in d.similar_cases[:5]]
    right = [d.category in ok for d, ok in judged]
    return {
        "precision": embedder.precision,
        "max_tokens": max_tokens,
        "embeds_per_s": round(embeds_per_s, 1),
        "similar_top1_pct": round(100 * sum(top1) / len(top1), 1),
        "similar_top5_precision_pct": round(100 * sum(top5) / max(1, len(top5)), 1),
        "diagnosis_top1_pct": round(100 * sum(right) / len(right), 1),
        "vectors": vectors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    cases = labelled()
    results = [measure(p, args.max_tokens, cases) for p in args.precision]
    reference = results[0].pop("vectors")
    assert isinstance(reference, np.ndarray)
    for result in results:
        vectors = result.pop("vectors", reference)
        assert isinstance(vectors, np.ndarray)
        cosine = (reference * vectors).sum(axis=1)
        result["cosine_vs_first_min"] = round(float(cosine.min()), 6)
        result["cosine_vs_first_mean"] = round(float(cosine.mean()), 6)
        title = f"similar-case quality on {len(cases)} labelled snapshots"
        report(title, {"snapshots": len(cases), **result}, as_json=args.json)


if __name__ == "__main__":
    main()
