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
    from knowledge.llm import Summarizer

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


def summarizer_for(settings: Settings) -> Summarizer | None:
    """The LLM summarizer when ``AETH_LLM_BASE_URL`` is set, else None (the rule summary)."""
    if not settings.llm_base_url:
        return None
    from knowledge.llm import LangChainSummarizer

    return LangChainSummarizer(
        settings.llm_base_url,
        settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        max_tokens=settings.llm_max_tokens,
        concurrency=settings.llm_concurrency,
    )


def build_engine(settings: Settings, *, with_cases: bool = True, with_llm: bool = True) -> DiagnosisEngine:
    """The diagnosis engine; ``with_cases=False`` skips the model and the store (rules only, fast start);
    ``with_llm=False`` keeps the rule summary even where an LLM is configured."""
    from knowledge.engine import DiagnosisEngine  # imported late: the engine pulls in every rule module

    return DiagnosisEngine(
        embedder_for(settings) if with_cases else None,
        open_case_store(settings) if with_cases else None,
        similar_cases=settings.similar_cases,
        unknown_below=settings.unknown_below,
        summarizer=summarizer_for(settings) if with_llm else None,
    )
