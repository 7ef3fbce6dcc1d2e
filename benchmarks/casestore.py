"""Case-store query latency at library scale, against its own floor, measured in the same run.

floor   = embedding one query text with the warm MiniLM model (every search pays it before Chroma is asked)
query   = one ``CaseStore.search_embeddings`` call for one query, k=5, in an embedded Chroma store of N cases
ratio   = query p50 / floor p50: below 1 means the store is not what makes a search slow

Embedding 100,000 texts on two cores would take most of an hour, so the N stored vectors are derived from real
MiniLM embeddings of ~200 varied incident texts plus small random perturbations, re-normalized. They cluster the
way real cases do (many near-duplicates per failure family), which is what HNSW search cost depends on.

Usage: python benchmarks/casestore.py [--cases N] [--queries N] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time

import numpy as np
import numpy.typing as npt

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from report import report  # noqa: E402

from aetherius.taxonomy import KNOWN_CATEGORIES  # noqa: E402
from knowledge.masking import mask_volatile  # noqa: E402

BATCH = 5_000
NOISE = 0.04
"""Per-dimension noise on unit vectors of 384 dims: perturbed copies keep ~0.8 cosine with their origin."""

FAMILIES = {
    "oom_killed": [
        "container {svc}: last terminated OOMKilled exit=137 after {n}s; restarts={n}",
        "metric memory peak {p}% of limit {mem}; java.lang.OutOfMemoryError: Java heap space in {svc}",
        "Memory cgroup out of memory: Killed process {n} ({svc}) total-vm:{n}kB",
    ],
    "crash_loop": [
        "container {svc}: waiting CrashLoopBackOff; last terminated Error exit=1; restarts={n}",
        "log error: panic: runtime error: invalid memory address or nil pointer dereference in {svc}",
        "log error: Traceback (most recent call last): KeyError: '{key}' in {svc}",
    ],
    "image_pull": [
        'event Warning Failed: Failed to pull image "{reg}/{svc}:v{n}": manifest unknown',
        "container {svc}: waiting ImagePullBackOff; pull access denied, repository does not exist",
        'event Warning Failed: Failed to pull image "{reg}/{svc}": 429 Too Many Requests toomanyrequests',
    ],
    "cpu_throttling": [
        "metric cpu throttled {p}% of periods limit {cpu}; p99 latency {n}ms in {svc}",
        "readiness probe timed out while cpu throttled {p}% with limit {cpu} on {svc}",
    ],
    "network": [
        "log error: getaddrinfo EAI_AGAIN {svc}.{ns}.svc.cluster.local",
        "log error: dial tcp {ip}:5432: connect: connection refused from {svc}",
        "log error: lookup {svc}.{ns}.svc.cluster.local on {ip}:53: i/o timeout",
    ],
    "disk_pressure": [
        "event Warning Evicted: The node was low on resource: ephemeral-storage. Container {svc} was using {mem}",
        "node: Ready=True DiskPressure=True; pod evicted {svc}",
        "log error: write /var/lib/{svc}/data: no space left on device",
    ],
    "config_error": [
        'container {svc}: waiting CreateContainerConfigError; secret "{key}" not found',
        "container {svc}: waiting CreateContainerConfigError; couldn't find key {key} in ConfigMap {ns}/{svc}",
        "log error: invalid configuration: environment variable {key} must be set in {svc}",
    ],
    "rbac_denied": [
        'log error: {svc} is forbidden: User "system:serviceaccount:{ns}:{svc}" cannot list resource "pods"',
        'log error: secrets "{key}" is forbidden: cannot get resource "secrets" in the namespace "{ns}"',
    ],
    "scheduling": [
        "event Warning FailedScheduling: 0/{n} nodes are available: {n} Insufficient memory for {svc}",
        "pod phase=Pending; {n} node(s) had untolerated taint {{dedicated: {ns}}}",
        "event Warning FailedScheduling: {n} node(s) didn't match Pod's node affinity/selector for {svc}",
    ],
    "probe_failure": [
        "event Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 503 on {svc}",
        "event Warning Unhealthy: Readiness probe failed: Get http://{ip}:8080/healthz: context deadline exceeded",
    ],
    "volume_mount": [
        "event Warning FailedMount: MountVolume.SetUp failed for volume {key}: configmap {svc} not found",
        "event Warning FailedAttachVolume: Multi-Attach error for volume pvc-{n}: already attached to another node",
        "event Warning FailedMount: Unable to attach or mount volumes: timed out waiting for the condition ({svc})",
    ],
}
FILLERS = {
    "svc": ["payments-api", "checkout", "redis", "postgres", "orders-worker", "search", "auth", "ledger"],
    "ns": ["shop", "prod", "data", "platform"],
    "key": ["DATABASE_URL", "api-token", "tls.crt", "STRIPE_KEY"],
    "reg": ["registry.example.com/team", "ghcr.io/acme", "docker.io/library"],
    "mem": ["256Mi", "512Mi", "1Gi", "4Gi"],
    "cpu": ["100m", "250m", "500m", "1"],
    "ip": ["10.96.0.10", "10.0.3.17", "172.20.4.9"],
    "n": ["3", "17", "42", "137"],
    "p": ["85", "97", "100"],
}


def base_texts(count: int = 200, seed: int = 7) -> list[str]:
    """``count`` varied incident texts: every failure family's templates with rotating fillers."""
    rng = np.random.default_rng(seed)
    templates = [t for family in FAMILIES.values() for t in family]
    texts: list[str] = []
    for template in itertools.islice(itertools.cycle(templates), count):
        values = {k: str(rng.choice(v)) for k, v in FILLERS.items()}
        texts.append(mask_volatile(template.format(**values)))
    return texts


def perturbed(base: npt.NDArray[np.float32], count: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    rows = base[rng.integers(0, len(base), size=count)]
    rows = rows + rng.normal(0.0, NOISE, size=rows.shape).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000, help="stored cases (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="single queries to time (default 200)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = parser.parse_args()

    import chromadb
    import chromadb.config
    import torch

    from knowledge.casestore import CaseStore
    from knowledge.embedding import get_embedder

    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    embedder = get_embedder()
    model_load_s = time.perf_counter() - t

    texts = base_texts()
    embedder.embed(texts[:8])  # warm-up: first call allocates and tunes kernels
    t = time.perf_counter()
    base = embedder.embed(texts)
    embed_base_s = time.perf_counter() - t
    t = time.perf_counter()
    embedder.embed(texts[:64])
    embed_64_ms = (time.perf_counter() - t) * 1000

    query_texts = [mask_volatile(f"{text} (seen again on {i} pods)") for i, text in enumerate(texts)]
    floor = []
    for text in query_texts[:100]:
        t = time.perf_counter()
        embedder.embed([text])
        floor.append(time.perf_counter() - t)
    queries = embedder.embed(query_texts[: args.queries] * (1 + args.queries // len(query_texts)))[: args.queries]

    categories = list(KNOWN_CATEGORIES)
    with tempfile.TemporaryDirectory(prefix="aeth-bench-") as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=chromadb.config.Settings(anonymized_telemetry=False))
        collection = client.get_or_create_collection(
            "bench-cases", metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        t_insert = time.perf_counter()
        slowest_batch = 0.0
        for start in range(0, args.cases, BATCH):
            size = min(BATCH, args.cases - start)
            t = time.perf_counter()
            collection.add(
                ids=[f"case-{i:07d}" for i in range(start, start + size)],
                embeddings=perturbed(base, size, rng),
                documents=[texts[i % len(texts)] for i in range(start, start + size)],
                metadatas=[
                    {
                        "title": f"Synthetic case {i}",
                        "category": categories[i % len(categories)],
                        "root_cause": "A synthetic root cause of realistic length for the benchmark record. " * 2,
                        "fix": "A synthetic fix, also about as long as the ones in the seed library. " * 2,
                        "source": "bench",
                        "tags": "bench,synthetic",
                        "case_hash": f"{i:032x}",
                    }
                    for i in range(start, start + size)
                ],
            )
            slowest_batch = max(slowest_batch, time.perf_counter() - t)
        insert_s = time.perf_counter() - t_insert
        stored = collection.count()

        store = CaseStore(collection, embedder, tmp)
        t = time.perf_counter()
        store.search_embeddings(queries[:1], k=5)
        first_query_ms = (time.perf_counter() - t) * 1000
        latencies = []
        for i in range(args.queries):
            t = time.perf_counter()
            found = store.search_embeddings(queries[i : i + 1], k=5)
            latencies.append(time.perf_counter() - t)
            assert len(found[0]) == min(5, stored)
        t = time.perf_counter()
        store.search_embeddings(queries[:64], k=5)
        batch64_ms = (time.perf_counter() - t) * 1000

    ms = 1000.0
    result = {
        "cases": stored,
        "vectors": f"{len(texts)} real MiniLM embeddings + noise (embedding {stored:,} texts would take too long)",
        "torch_threads": torch.get_num_threads(),
        "model_load_s": round(model_load_s, 2),
        "embed_one_warm_p50_ms": round(pct(floor, 50) * ms, 2),
        "embed_one_warm_p99_ms": round(pct(floor, 99) * ms, 2),
        "embed_64_texts_ms": round(embed_64_ms, 1),
        "embed_200_texts_s": round(embed_base_s, 2),
        "insert_s": round(insert_s, 1),
        "insert_per_s": round(stored / insert_s),
        "slowest_5000_batch_s": round(slowest_batch, 2),
        "first_query_ms": round(first_query_ms, 2),
        "query_p50_ms": round(pct(latencies, 50) * ms, 2),
        "query_p95_ms": round(pct(latencies, 95) * ms, 2),
        "query_p99_ms": round(pct(latencies, 99) * ms, 2),
        "query_batch_64_ms": round(batch64_ms, 1),
        "ratio_query_vs_embed_p50": round(pct(latencies, 50) / pct(floor, 50), 2),
    }
    title = f"case store benchmark · Chroma {chromadb.__version__} embedded · {stored:,} cases · k=5"
    report(title, result, as_json=args.json)


if __name__ == "__main__":
    main()
