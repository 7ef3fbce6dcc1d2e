"""Diagnosis speed against its own floor, measured in the same run.

floor      = embedding one incident signature with the warm MiniLM model (the one thing a diagnosis cannot skip)
diagnosis  = the whole pipeline for one parsed snapshot: signals, rules, signature, embedding, Chroma query,
             decision, recommendations, redaction
batch      = diagnose_many over chunks of 64 snapshots (one embedding batch, one Chroma query per chunk), against
             its own floor: embedding the same chunks' distinct signatures alone
parallel   = the same chunks spread over N processes each pinned to one core (one torch thread each), which is how
             ``aeth worker --concurrency N`` runs; wall time from the first chunk's start to the last one's end

Usage: python benchmarks/diagnose.py [--rounds N] [--processes N] [--json]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing import Queue
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from report import report  # noqa: E402

from aetherius.settings import Settings  # noqa: E402
from aetherius.snapshots import Snapshot  # noqa: E402
from knowledge.engine import DiagnosisEngine, analyze  # noqa: E402
from knowledge.loading import load_snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "examples",
    ROOT / "tests" / "data" / "corpus",
    ROOT.parent / "shared" / "examples" / "snapshots",
    ROOT.parent / "shared" / "examples" / "hard",
]


def corpus() -> list[Snapshot]:
    files = [p for d in SOURCES if d.is_dir() for p in sorted(d.glob("*.json")) if p.name != "labels.json"]
    return [load_snapshot(str(p), max_bytes=1 << 30) for p in files]


_WORKER: dict[str, object] = {}


def _pinned_worker(cores: Queue[int]) -> None:
    """A process pinned to one core (so torch uses one thread), with its own warm engine and case store."""
    os.sched_setaffinity(0, {cores.get()})
    from aetherius.cli.wiring import embedder_for, open_case_store

    tmp = tempfile.mkdtemp(prefix="aeth-bench-")
    settings = Settings(data_dir=Path(tmp))
    engine = DiagnosisEngine(
        embedder_for(settings),
        open_case_store(settings),
        similar_cases=settings.similar_cases,
    )
    snapshots = corpus()
    engine.diagnose_many(snapshots[:64])
    _WORKER.update(engine=engine, snapshots=snapshots)


def _diagnose_chunk(indices: list[int]) -> tuple[float, float]:
    engine, snapshots = _WORKER["engine"], _WORKER["snapshots"]
    assert isinstance(engine, DiagnosisEngine) and isinstance(snapshots, list)
    started = time.time()  # wall clock: comparable across processes
    engine.diagnose_many([snapshots[i % len(snapshots)] for i in indices])
    return started, time.time()


def batch_in_processes(processes: int, total: int, chunk: int = 64) -> float:
    """Diagnoses per second with one process per core (how ``aeth worker --concurrency N`` runs), each pinned."""
    context = multiprocessing.get_context("spawn")
    cores = context.Queue()
    for core in sorted(os.sched_getaffinity(0))[:processes]:
        cores.put(core)
    with context.Pool(processes, initializer=_pinned_worker, initargs=(cores,)) as pool:
        pool.map(_diagnose_chunk, [[0]] * processes * 2)  # every worker initialised and warm
        spans = pool.map(_diagnose_chunk, [list(range(i, min(i + chunk, total))) for i in range(0, total, chunk)])
    cores.close()
    cores.join_thread()
    return total / (max(end for _, end in spans) - min(start for start, _ in spans))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10, help="passes over the corpus for single-diagnosis timing")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--processes", type=int, default=min(2, len(os.sched_getaffinity(0))))
    args = parser.parse_args()

    from aetherius.cli.wiring import embedder_for, open_case_store

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        t0 = time.perf_counter()
        embedder = embedder_for(settings)
        store = open_case_store(settings)
        setup_s = time.perf_counter() - t0
        engine = DiagnosisEngine(embedder, store, similar_cases=settings.similar_cases)
        snapshots = corpus()
        signatures = [analyze(s).signature for s in snapshots]
        for s in snapshots:  # warm-up: model, tokenizer caches, Chroma index pages
            engine.diagnose(s)

        floor, single, rules_only = [], [], []
        for _ in range(args.rounds):
            for snap, text in zip(snapshots, signatures, strict=True):
                t = time.perf_counter()
                embedder.embed([text])
                floor.append(time.perf_counter() - t)
                t = time.perf_counter()
                engine.diagnose(snap)
                single.append(time.perf_counter() - t)
                t = time.perf_counter()
                analyze(snap)
                rules_only.append(time.perf_counter() - t)

        batch = (snapshots * max(1, 640 // len(snapshots)))[:640]
        t = time.perf_counter()
        for i in range(0, len(batch), 64):
            engine.diagnose_many(batch[i : i + 64])
        batch_rate = len(batch) / (time.perf_counter() - t)
        batch_texts = [analyze(s).signature for s in batch]
        t = time.perf_counter()
        for i in range(0, len(batch_texts), 64):
            embedder.embed(list(dict.fromkeys(batch_texts[i : i + 64])))
        batch_floor_rate = len(batch) / (time.perf_counter() - t)

    parallel_rate = batch_in_processes(args.processes, 640) if args.processes > 1 else batch_rate
    ms = 1000.0
    result = {
        "snapshots": len(snapshots),
        "samples": len(single),
        "setup_s": round(setup_s, 2),
        "torch_threads": __import__("torch").get_num_threads(),
        "embed_precision": embedder.precision,
        "floor_embed_p50_ms": round(pct(floor, 50) * ms, 2),
        "floor_embed_p99_ms": round(pct(floor, 99) * ms, 2),
        "diagnosis_p50_ms": round(pct(single, 50) * ms, 2),
        "diagnosis_p99_ms": round(pct(single, 99) * ms, 2),
        "diagnosis_mean_ms": round(statistics.fmean(single) * ms, 2),
        "rules_only_p50_ms": round(pct(rules_only, 50) * ms, 2),
        "ratio_p50_vs_floor": round(pct(single, 50) / pct(floor, 50), 2),
        "ratio_p99_vs_floor": round(pct(single, 99) / pct(floor, 99), 2),
        "batch_diagnoses_per_s": round(batch_rate, 1),
        "batch_floor_embeds_per_s": round(batch_floor_rate, 1),
        "batch_ratio_vs_floor": round(batch_floor_rate / batch_rate, 2),
        f"batch_{args.processes}_pinned_processes_per_s": round(parallel_rate, 1),
    }
    report("diagnosis benchmark (warm model, no LLM)", result, as_json=args.json)


if __name__ == "__main__":
    main()
