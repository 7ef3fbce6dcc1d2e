"""The case store through real parts: Chroma on disk, the packaged MiniLM model, and the ``aeth cases`` CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from aetherius.cases import Case
from aetherius.cli import cases as cases_cli
from aetherius.errors import CaseError, ConfigurationError, StoreUnavailable
from aetherius.settings import Settings
from knowledge.caselib import SEED_DIR, load_seed_cases
from knowledge.casestore import CaseStore
from knowledge.embedding import (
    Embedder,
    SentenceTransformerEmbedder,
    amx_available,
    get_embedder,
    resolve_precision,
)

pytestmark = [pytest.mark.scenario]

CASES = [
    Case(
        id="dns-coredns-timeout",
        title="Service names do not resolve: CoreDNS overloaded",
        category="network",
        signature=(
            "container api: running; restarts=4\n"
            "log error: getaddrinfo EAI_AGAIN postgres.db.svc.cluster.local\n"
            "log error: dial tcp: lookup postgres.db.svc.cluster.local on 10.96.0.10:53: i/o timeout"
        ),
        root_cause="CoreDNS pods were CPU-throttled and dropped queries, so name lookups timed out.",
        fix="Scale CoreDNS and raise its CPU limit; add NodeLocal DNSCache.",
        tags=["dns", "coredns"],
    ),
    Case(
        id="oom-java-heap",
        title="JVM heap larger than the container memory limit",
        category="oom_killed",
        signature=(
            "container app: waiting CrashLoopBackOff; last terminated OOMKilled exit=137 after 41s; restarts=7\n"
            "metric memory peak 100% of limit 512Mi"
        ),
        root_cause="-Xmx was set above the memory limit, so the kernel killed the JVM.",
        fix="Set -XX:MaxRAMPercentage=75 or raise the memory limit.",
    ),
    Case(
        id="image-tag-missing",
        title="Image tag does not exist in the registry",
        category="image_pull",
        signature=(
            "container web: waiting ImagePullBackOff\n"
            'event Warning Failed x3: Failed to pull image "registry.example.com/web:v2.4.1": manifest unknown'
        ),
        root_cause="The deployment referenced a tag that was never pushed.",
        fix="Push the tag or roll the image back to an existing one.",
    ),
    Case(
        id="rbac-list-pods-forbidden",
        title="Service account may not list pods",
        category="rbac_denied",
        signature=(
            'log error: pods is forbidden: User "system:serviceaccount:ops:controller" cannot list resource "pods" '
            'in API group "" at the cluster scope'
        ),
        root_cause="The controller's service account has no ClusterRole that allows listing pods.",
        fix="Bind a ClusterRole with get/list/watch on pods to the service account.",
    ),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def store(settings: Settings, embedder: Embedder) -> CaseStore:
    store = CaseStore.open(settings, embedder)
    store.ensure_indexed(CASES)
    return store


def test_indexing_is_idempotent_and_reindexes_only_what_changed(settings: Settings, embedder: Embedder) -> None:
    store = CaseStore.open(settings, embedder)
    assert store.ensure_indexed(CASES) == len(CASES)
    assert store.ensure_indexed(CASES) == 0
    assert store.count() == len(CASES)

    changed = [
        c.model_copy(update={"fix": c.fix + " Then watch the SLO."}) if c.id == "oom-java-heap" else c for c in CASES
    ]
    assert store.ensure_indexed(changed) == 1
    assert store.count() == len(CASES)
    stored = store.get("oom-java-heap")
    assert stored is not None and stored.fix.endswith("Then watch the SLO.")


def test_a_second_open_of_the_same_directory_sees_the_index_and_writes_nothing(
    settings: Settings, embedder: Embedder, store: CaseStore
) -> None:
    again = CaseStore.open(settings, embedder)
    assert again.ensure_indexed(CASES) == 0
    assert again.count() == len(CASES)


def test_a_dns_failure_finds_the_dns_case_first(store: CaseStore) -> None:
    found = store.search("getaddrinfo EAI_AGAIN redis.svc.cluster.local", k=3)
    assert [s.id for s in found][:1] == ["dns-coredns-timeout"]
    best = found[0]
    assert best.category == "network" and best.root_cause.startswith("CoreDNS")
    assert 0.0 < best.similarity <= 1.0 and round(best.similarity, 3) == best.similarity
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)


def test_batch_search_returns_one_list_per_query_in_order(store: CaseStore, embedder: Embedder) -> None:
    queries = [
        "container killed: OOMKilled exit code 137, memory limit reached",
        "Failed to pull image: manifest unknown",
        'cannot list resource "pods": forbidden',
    ]
    results = store.search_embeddings(embedder.embed(queries), k=2)
    assert len(results) == len(queries)
    assert [r[0].id for r in results] == ["oom-java-heap", "image-tag-missing", "rbac-list-pods-forbidden"]
    assert all(len(r) == 2 for r in results)
    assert store.search_embeddings(np.zeros((0, embedder.dimension), dtype=np.float32)) == []


def test_an_added_case_is_found_by_search_and_keeps_its_source(store: CaseStore) -> None:
    new = Case(
        id="pvc-multi-attach",
        title="Volume still attached to the old node",
        category="volume_mount",
        signature="event Warning FailedAttachVolume: Multi-Attach error for volume pvc-1 Volume is already exclusively "
        "attached to one node and can't be attached to another",
        root_cause="The RWO volume was still attached to the node the pod left.",
        fix="Wait for the detach or delete the stale VolumeAttachment.",
        source="postmortem-2024-05",
    )
    store.add(new)
    found = store.search("Multi-Attach error for volume: already exclusively attached to one node", k=1)
    assert found[0].id == "pvc-multi-attach"
    assert store.get("pvc-multi-attach") == new
    assert [c.id for c in store.list_cases()] == sorted([c.id for c in CASES] + ["pvc-multi-attach"])


def test_a_seed_case_never_overwrites_a_case_added_by_hand_with_the_same_id(store: CaseStore) -> None:
    mine = CASES[0].model_copy(update={"fix": "Our own fix.", "source": "local"})
    store.add(mine)
    assert store.ensure_indexed(CASES) == 0
    stored = store.get(CASES[0].id)
    assert stored is not None and stored.fix == "Our own fix."


def test_a_model_path_that_does_not_exist_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist") as caught:
        get_embedder(str(tmp_path / "no-such-model"))
    assert "\n" not in str(caught.value)


def test_the_model_is_loaded_once_per_process(embedder: Embedder) -> None:
    assert get_embedder() is get_embedder() is embedder
    assert SentenceTransformerEmbedder()._model is SentenceTransformerEmbedder()._model
    vectors = embedder.embed(["one", "two"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_bfloat16_and_float32_embeddings_of_a_text_agree_and_each_precision_keeps_its_own_weights() -> None:
    texts = ["container app terminated OOMKilled exit code <n>", "Back-off pulling image registry/app:<tag>", "x"]
    exact = get_embedder(precision="float32")
    fast = get_embedder(precision="bfloat16")
    assert (exact.precision, fast.precision) == ("float32", "bfloat16")
    assert isinstance(exact, SentenceTransformerEmbedder) and isinstance(fast, SentenceTransformerEmbedder)
    assert {str(w.dtype) for w in exact._model.parameters()} == {"torch.float32"}
    assert {str(w.dtype) for w in fast._model.parameters()} == {"torch.float32", "torch.bfloat16"}
    a, b = exact.embed(texts), fast.embed(texts)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(a, b), "bf16 arithmetic should change the last digits, or it did not run"
    assert (a * b).sum(axis=1).min() > 0.999


def test_auto_precision_is_bfloat16_only_where_amx_makes_it_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_precision("auto") == ("bfloat16" if amx_available() else "float32")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")  # oneDNN told to stay below AMX: bf16 is slow
    assert resolve_precision("auto") == "float32"
    assert resolve_precision("float32") == "float32"
    with pytest.raises(ConfigurationError, match="auto, float32, bfloat16"):
        resolve_precision("int4")


def test_an_unknown_precision_in_the_environment_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AETH_EMBED_PRECISION", "fp8")
    with pytest.raises(ValidationError, match="embed_precision"):
        Settings()


def test_an_unreachable_chroma_server_is_store_unavailable(tmp_path: Path, embedder: Embedder) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        CaseStore.open(Settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{port}"), embedder)


def test_a_malformed_chroma_url_is_a_configuration_error(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(ConfigurationError, match="AETH_CHROMA_URL"):
        CaseStore.open(Settings(data_dir=tmp_path, chroma_url="chroma:8000"), embedder)


def test_the_shipped_seed_library_loads_sorted_with_unique_ids() -> None:
    seeds = load_seed_cases()
    assert [c.id for c in seeds] == sorted({c.id for c in seeds})
    assert len(seeds) == len(list(SEED_DIR.glob("*.yaml")))


def test_seed_loading_refuses_duplicate_ids_and_accepts_an_empty_folder(tmp_path: Path) -> None:
    assert load_seed_cases(tmp_path / "missing") == []
    assert load_seed_cases(tmp_path) == []
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(CASES[1].model_dump_json())
    with pytest.raises(CaseError, match="duplicate case id 'oom-java-heap'") as caught:
        load_seed_cases(tmp_path)
    assert "a.yaml" in str(caught.value) and "b.yaml" in str(caught.value)


def _invoke(args: list[str], data_dir: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cases_cli.app, args, env={"AETH_DATA_DIR": str(data_dir)})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_reports_the_bad_file_in_one_line_and_still_adds_the_good_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: broken\ntitle: no category\nsignature: x\nroot_cause: y\nfix: z\n")
    good = tmp_path / "good.yaml"
    good.write_text(
        "id: cronjob-overlap\n"
        "title: CronJob runs overlap and exhaust the database\n"
        "category: crash_loop\n"
        "signature: 'log error: too many connections for role app'\n"
        "root_cause: concurrencyPolicy Allow let slow runs pile up.\n"
        "fix: Set concurrencyPolicy Forbid.\n"
    )
    code, out, err = _invoke(["add", str(bad), str(good)], tmp_path / "data")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}: ") and "category" in err
    assert "added cronjob-overlap" in out

    code, out, _ = _invoke(["list", "--format", "json"], tmp_path / "data")
    listed = {c["id"]: c for c in json.loads(out)}
    assert code == 0 and listed["cronjob-overlap"]["source"] == "local"


def test_cli_list_json_is_valid_json_and_search_finds_an_added_case(tmp_path: Path) -> None:
    case = tmp_path / "dns.json"
    case.write_text(CASES[0].model_dump_json())
    assert _invoke(["add", str(case)], tmp_path / "data")[0] == 0

    code, out, _ = _invoke(["list", "--format", "json", "--category", "network"], tmp_path / "data")
    assert code == 0
    listed = json.loads(out)
    assert isinstance(listed, list) and all(c["category"] == "network" for c in listed)
    assert CASES[0].id in {c["id"] for c in listed}

    code, out, _ = _invoke(
        ["search", "getaddrinfo EAI_AGAIN postgres.db.svc.cluster.local i/o timeout", "-k", "3", "--format", "json"],
        tmp_path / "data",
    )
    assert code == 0 and CASES[0].id in [hit["id"] for hit in json.loads(out)]

    code, out, _ = _invoke(["list"], tmp_path / "data")
    assert code == 0 and CASES[0].id in out
