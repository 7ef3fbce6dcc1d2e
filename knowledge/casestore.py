"""The case store: past incidents in a Chroma collection, searched by the meaning of their signatures.

Design choices, and why:

* Embeddings are always computed here, by our ``Embedder``, and passed to Chroma explicitly; the collection has no
  embedding function, because Chroma's default one downloads a model, which must never happen at run time.
* Each record carries the whole case in its metadata and the *masked* signature as its document, so one query
  answers a search with no second lookup, and ``get``/``list_cases`` rebuild the Case exactly.
* A content hash per record makes ``ensure_indexed`` cheap and idempotent: one ``get`` for the ids, then one
  upsert of only the new or changed cases. Two processes racing through it upsert the same rows, which is harmless.
* A seed case never overwrites a record of another source with the same id: what someone added by hand with
  ``aeth cases add`` survives the next start-up.
* Clients are cached per process and location: Chroma refuses a second embedded client on one path with different
  settings, and re-opening one is slow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import chromadb.config
import httpx
import numpy as np
import numpy.typing as npt
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import InternalError, InvalidArgumentError, RateLimitError
from pydantic import ValidationError

from aetherius.cases import Case
from aetherius.diagnoses import SimilarCase
from aetherius.errors import CaseError, ConfigurationError, StoreUnavailable
from aetherius.settings import Settings
from knowledge.embedding import Embedder
from knowledge.masking import mask_volatile
from knowledge.signature import essential

log = logging.getLogger("aetherius.cases")

INDEX_VERSION = "3"  # 2: the embedder's max_tokens is in the hash; 3: routine events left out
"""Part of every content hash: bump it when masking or the record layout changes, and every case re-embeds."""
TAG_SEPARATOR = ","

_CLIENT_LOCK = threading.Lock()
_CLIENTS: dict[str, ClientAPI] = {}


def case_hash(case: Case, dimension: int, max_tokens: int = 0) -> str:
    """Fingerprint of everything that ends up in a record, including how it was embedded."""
    payload = json.dumps(case.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{INDEX_VERSION}\n{dimension}\n{max_tokens}\n{payload}".encode()).hexdigest()[:32]


def case_metadata(case: Case, content_hash: str) -> dict[str, str]:
    return {
        "title": case.title,
        "category": case.category,
        "signature": case.signature,
        "root_cause": case.root_cause,
        "fix": case.fix,
        "source": case.source,
        "tags": TAG_SEPARATOR.join(case.tags),
        "case_hash": content_hash,
    }


def case_from_record(case_id: str, meta: Mapping[str, Any] | None, document: str | None = None) -> Case | None:
    """The Case a record holds, or None (logged) for a record this version cannot read."""
    meta = meta or {}
    tags = str(meta.get("tags") or "")
    data = {
        "id": case_id,
        "title": meta.get("title"),
        "category": meta.get("category"),
        "signature": meta.get("signature") or document,
        "root_cause": meta.get("root_cause"),
        "fix": meta.get("fix"),
        "source": meta.get("source") or "seed",
        "tags": [t for t in tags.split(TAG_SEPARATOR) if t],
    }
    try:
        return Case.model_validate(data)
    except ValidationError as err:
        log.warning("case store record %s is unreadable and was skipped (%d errors)", case_id, err.error_count())
        return None


def similar_from_record(case_id: str, meta: Mapping[str, Any] | None, distance: float) -> SimilarCase | None:
    meta = meta or {}
    try:
        return SimilarCase.model_validate(
            {
                "id": case_id,
                "title": meta.get("title"),
                "category": meta.get("category"),
                "similarity": round(1.0 - float(distance), 3),
                "root_cause": meta.get("root_cause") or "",
                "fix": meta.get("fix") or "",
            }
        )
    except ValidationError as err:
        log.warning("case store record %s is unreadable and was skipped (%d errors)", case_id, err.error_count())
        return None


@contextmanager
def store_errors(where: str) -> Iterator[None]:
    """Chroma's and httpx's failures as Aetherius errors: unreachable or busy is temporary, a wrong model is not."""
    try:
        yield
    except httpx.TransportError as err:
        raise StoreUnavailable(f"case store at {where} cannot be reached: {err or type(err).__name__}") from None
    except (InternalError, RateLimitError) as err:
        raise StoreUnavailable(f"case store at {where} failed: {err.message()}") from None
    except InvalidArgumentError as err:
        if "dimension" not in err.message():
            raise
        raise ConfigurationError(
            f"case store at {where} holds embeddings of another model ({err.message()}); "
            "use another AETH_CHROMA_COLLECTION or empty the store"
        ) from None


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, ssl)`` of ``http[s]://host[:port]``; Chroma's port 8000 when http has none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"AETH_CHROMA_URL must look like http://host:8000, not {url!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ConfigurationError(f"AETH_CHROMA_URL takes no path or query (Chroma serves at the root): {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"AETH_CHROMA_URL has an invalid port: {url!r}") from None
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def _chroma_settings() -> chromadb.config.Settings:
    return chromadb.config.Settings(anonymized_telemetry=False)


def open_client(settings: Settings) -> tuple[ClientAPI, str]:
    """The process's Chroma client for the configured location, and that location for messages."""
    if settings.chroma_url:
        host, port, ssl = parse_chroma_url(settings.chroma_url)
        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        with _CLIENT_LOCK:
            if where not in _CLIENTS:
                _CLIENTS[where] = _http_client(host, port, ssl, where)
            return _CLIENTS[where], where
    path = Path(settings.chroma_dir).expanduser().resolve()
    where = str(path)
    with _CLIENT_LOCK:
        if where not in _CLIENTS:
            _CLIENTS[where] = _persistent_client(path)
        return _CLIENTS[where], where


def _http_client(host: str, port: int, ssl: bool, where: str) -> ClientAPI:
    try:
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
    except ValueError as err:  # how chromadb reports "could not connect" when the client is created
        raise StoreUnavailable(f"case store at {where} cannot be reached: {err}") from None


def _persistent_client(path: Path) -> ClientAPI:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigurationError(f"cannot create the case store directory {path}: {err.strerror}") from None
    with store_errors(str(path)):
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _space(collection: Collection) -> str:
    config = collection.configuration_json or {}
    hnsw = config.get("hnsw") or {}
    return str(hnsw.get("space") or (collection.metadata or {}).get("hnsw:space") or "l2")


class CaseStore:
    """Past cases in one Chroma collection, embedded by one ``Embedder``."""

    def __init__(self, collection: Collection, embedder: Embedder, where: str, max_batch: int = 5000) -> None:
        self._collection = collection
        self._embedder = embedder
        self._where = where
        self._max_batch = max(1, max_batch)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> CaseStore:
        """The store of ``settings`` (a Chroma server at ``chroma_url``, else embedded under ``data_dir``)."""
        client, where = open_client(settings)
        with store_errors(where):
            try:
                collection = client.get_or_create_collection(
                    settings.chroma_collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
            except InvalidArgumentError as err:
                raise ConfigurationError(
                    f"invalid AETH_CHROMA_COLLECTION {settings.chroma_collection!r}: {err.message()}"
                ) from None
            max_batch = client.get_max_batch_size()
        if _space(collection) != "cosine":
            raise ConfigurationError(
                f"collection {settings.chroma_collection!r} at {where} uses {_space(collection)} distance, "
                "not cosine; use another AETH_CHROMA_COLLECTION"
            )
        return cls(collection, embedder, where, max_batch)

    def ensure_indexed(self, cases: Sequence[Case]) -> int:
        """Embed and write the cases that are new or changed since they were stored; how many were written."""
        if not cases:
            return 0
        ids = [c.id for c in cases]
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            raise CaseError(f"duplicate case ids: {', '.join(dupes)}")
        with store_errors(self._where):
            stored = self._collection.get(ids=ids, include=["metadatas"])
        stored_meta = dict(zip(stored["ids"], stored["metadatas"] or [], strict=False))
        hashes = {c.id: case_hash(c, self._embedder.dimension, self._embedder.max_tokens) for c in cases}
        todo = []
        for case in cases:
            meta = stored_meta.get(case.id)
            if meta is not None and meta.get("case_hash") == hashes[case.id]:
                continue
            if meta is not None and meta.get("source", "seed") != case.source:
                continue  # added by hand with the same id: theirs wins over ours
            todo.append(case)
        self._upsert(todo, hashes)
        return len(todo)

    def add(self, case: Case) -> None:
        """Insert or replace one case, keeping its ``source``."""
        self._upsert([case], {case.id: case_hash(case, self._embedder.dimension, self._embedder.max_tokens)})

    def _upsert(self, cases: Sequence[Case], hashes: Mapping[str, str]) -> None:
        if not cases:
            return
        documents = [essential(mask_volatile(c.signature)) for c in cases]
        embeddings = self._embedder.embed(documents)
        with store_errors(self._where):
            for start in range(0, len(cases), self._max_batch):
                end = start + self._max_batch
                self._collection.upsert(
                    ids=[c.id for c in cases[start:end]],
                    embeddings=embeddings[start:end],
                    documents=documents[start:end],
                    metadatas=[case_metadata(c, hashes[c.id]) for c in cases[start:end]],
                )

    def delete(self, case_id: str, *, source: str | None = None) -> bool:
        """Remove one case (only if its ``source`` is ``source``, when given); ``False`` when there was none."""
        case = self.get(case_id)
        if case is None or (source is not None and case.source != source):
            return False
        with store_errors(self._where):
            self._collection.delete(ids=[case_id])
        return True

    def get(self, case_id: str) -> Case | None:
        with store_errors(self._where):
            found = self._collection.get(ids=[case_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        metas: Sequence[Mapping[str, Any] | None] = found["metadatas"] or [None]
        docs: Sequence[str | None] = found["documents"] or [None]
        return case_from_record(found["ids"][0], metas[0], docs[0])

    def list_cases(self) -> list[Case]:
        """Every case in the store, sorted by id."""
        with store_errors(self._where):
            found = self._collection.get(include=["metadatas", "documents"])
        metas: Sequence[Mapping[str, Any] | None] = found["metadatas"] or [None] * len(found["ids"])
        docs: Sequence[str | None] = found["documents"] or [None] * len(found["ids"])
        cases = [case_from_record(i, m, d) for i, m, d in zip(found["ids"], metas, docs, strict=True)]
        return sorted((c for c in cases if c is not None), key=lambda c: c.id)

    def count(self) -> int:
        with store_errors(self._where):
            return self._collection.count()

    def search(self, text: str, k: int = 5) -> list[SimilarCase]:
        """The ``k`` cases most similar to ``text`` (masked first, like the stored signatures), best first."""
        return self.search_embeddings(self._embedder.embed([essential(mask_volatile(text))]), k)[0]

    def search_embeddings(self, embeddings: npt.NDArray[np.float32], k: int = 5) -> list[list[SimilarCase]]:
        """One list of up to ``k`` similar cases per row of ``embeddings``, in one Chroma query."""
        queries = np.ascontiguousarray(np.atleast_2d(embeddings), dtype=np.float32)
        if k <= 0 or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        with store_errors(self._where):
            result = self._collection.query(query_embeddings=queries, n_results=k, include=["metadatas", "distances"])
        ids = result["ids"]
        metas: Sequence[Sequence[Mapping[str, Any] | None]] = result["metadatas"] or [[None] * len(r) for r in ids]
        distances = result["distances"] or [[1.0] * len(row) for row in ids]
        out: list[list[SimilarCase]] = []
        for row_ids, row_metas, row_distances in zip(ids, metas, distances, strict=True):
            found = (similar_from_record(i, m, d) for i, m, d in zip(row_ids, row_metas, row_distances, strict=True))
            out.append([s for s in found if s is not None])
        return out
