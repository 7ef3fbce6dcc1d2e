"""Composition helpers for the CLI: build the embedder, the case store and the engine from one Settings.

The case store is opened, and the seed library indexed into it, once per process and location: every command that
needs similar cases pays for the model and the index check at most once, however often it asks.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from aetherius.settings import Settings
from knowledge.caselib import load_seed_cases
from knowledge.casestore import CaseStore
from knowledge.embedding import Embedder, get_embedder

if TYPE_CHECKING:
    from knowledge.engine import DiagnosisEngine

_LOCK = threading.Lock()
_STORES: dict[tuple[str, str, str], CaseStore] = {}


def _store_key(settings: Settings) -> tuple[str, str, str]:
    where = settings.chroma_url or str(settings.chroma_dir.expanduser().resolve())
    return where, settings.chroma_collection, settings.model_path or ""


def embedder_for(settings: Settings) -> Embedder:
    """The process-wide embedder configured by ``settings`` (model, tokens read, precision)."""
    return get_embedder(settings.model_path, settings.embed_max_tokens, settings.embed_precision)


def open_case_store(settings: Settings) -> CaseStore:
    """The case store of ``settings`` with the seed cases indexed (new or changed ones only)."""
    key = _store_key(settings)
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = CaseStore.open(settings, embedder_for(settings))
            store.ensure_indexed(load_seed_cases())
            _STORES[key] = store
        return store


def build_engine(settings: Settings, *, with_cases: bool = True) -> DiagnosisEngine:
    """The diagnosis engine; ``with_cases=False`` skips the model and the store (rules only, fast start)."""
    from knowledge.engine import DiagnosisEngine  # imported late: the engine pulls in every rule module

    if not with_cases:
        return DiagnosisEngine(None, None, similar_cases=settings.similar_cases, unknown_below=settings.unknown_below)
    store = open_case_store(settings)
    return DiagnosisEngine(
        embedder_for(settings),
        store,
        similar_cases=settings.similar_cases,
        unknown_below=settings.unknown_below,
    )
