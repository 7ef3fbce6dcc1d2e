"""The Summarizer port and its LangChain adapter: an LLM rewrites the summary paragraph, never the verdict.

Optional (``AETH_LLM_BASE_URL``): any OpenAI-compatible chat endpoint (OpenAI, Azure-style gateways, vLLM, Ollama,
LiteLLM...). What the model sees is the finished diagnosis only: subject, category, confidence, the evidence lines,
the alternatives, the top similar cases and the titles of the recommended actions. Never raw logs, env, manifests or
events. Those fields are redacted when the diagnosis is built; the rendered prompt is redacted again as a whole, and
so is the answer, so a secret can reach neither the endpoint nor Slack through this path.

What the answer can change is one paragraph of prose. Category, confidence, evidence, similar cases and every
button come from the rules and the catalog, so a prompt injection hidden in a log line can at worst word the
summary badly. An ``unknown`` keeps its rule summary: a model asked to explain an unexplained failure invents one.

Failure of any kind (refused connection, timeout, 429/5xx after the client's retries, an empty or absurd answer)
leaves the rule summary in place and logs one redacted warning line: the LLM makes a summary nicer, never later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aetherius.diagnoses import Diagnosis
from aetherius.taxonomy import TITLES
from knowledge.redaction import redact_text
from prompts import render

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger("aetherius.llm")

MAX_SENTENCES = 4
MAX_SUMMARY_CHARS = 1200
"""A longer answer is cut at the last sentence end before this (a Slack section holds 3,000 characters)."""
MIN_SUMMARY_CHARS = 20
"""Shorter than this is no summary ("OK.", an empty completion): the rule summary stays."""


class Summarizer(Protocol):
    """Writes summaries for diagnoses; ``None`` for one it could not write (the rule summary stays)."""

    name: str
    """How the summary is credited, e.g. ``llm:gpt-4o-mini``."""

    def summarize(self, diagnoses: Sequence[Diagnosis]) -> list[str | None]: ...


def prompt_messages(diagnosis: Diagnosis) -> tuple[str, str]:
    """(system, user) messages for ``diagnosis``, redacted."""
    system = render("summary_system.j2", max_sentences=MAX_SENTENCES)
    user = render("summary_user.j2", diagnosis=diagnosis, title=TITLES[diagnosis.category])
    return redact_text(system), redact_text(user)


_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_LEAD = re.compile(r"^(?:#+\s*|summary:\s*|\*\*summary:?\*\*:?\s*)", re.IGNORECASE)


def clean_answer(content: object) -> str | None:
    """The model's answer as one redacted paragraph, or None if it is not a usable summary."""
    if isinstance(content, list):  # content blocks: keep the text parts
        content = " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    if not isinstance(content, str):
        return None
    text = _MARKDOWN_LEAD.sub("", _WHITESPACE.sub(" ", content).strip()).strip()
    if len(text) > MAX_SUMMARY_CHARS:
        cut = text[:MAX_SUMMARY_CHARS]
        end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
        text = cut[: end + 1] if end >= MIN_SUMMARY_CHARS else cut.rstrip() + "…"
    if len(text) < MIN_SUMMARY_CHARS:
        return None
    return redact_text(text)


def with_summaries(diagnoses: list[Diagnosis], summarizer: Summarizer | None) -> list[Diagnosis]:
    """``diagnoses`` with the summarizer's paragraphs where it wrote one (never for ``unknown``)."""
    if summarizer is None:
        return diagnoses
    wanted = [i for i, d in enumerate(diagnoses) if d.category != "unknown"]
    if not wanted:
        return diagnoses
    texts = summarizer.summarize([diagnoses[i] for i in wanted])
    out = list(diagnoses)
    for i, text in zip(wanted, texts, strict=True):
        if text:
            out[i] = diagnoses[i].model_copy(update={"summary": text, "summary_by": summarizer.name})
    return out


def _failure(err: BaseException) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return redact_text(f"{type(err).__name__}: {first}"[:300])


class LangChainSummarizer:
    """A LangChain ``ChatOpenAI`` against ``base_url``; the client is built at first use (LangChain imports take a
    second, which a process that never summarizes should not pay)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 1,
        max_tokens: int = 300,
        concurrency: int = 4,
    ) -> None:
        self.name = f"llm:{model}"
        self._options: dict[str, Any] = {
            "base_url": base_url,
            "model": model,
            "api_key": api_key or "unused",  # local endpoints take none; the OpenAI client insists on one
            "timeout": timeout_s,
            "max_retries": max_retries,
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        self._concurrency = concurrency
        self._chat: BaseChatModel | None = None

    def _model(self) -> BaseChatModel:
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(**self._options)
        return self._chat

    def summarize(self, diagnoses: Sequence[Diagnosis]) -> list[str | None]:
        if not diagnoses:
            return []
        conversations = [
            [("system", system), ("human", user)] for system, user in (prompt_messages(d) for d in diagnoses)
        ]
        try:
            answers: list[Any] = self._model().batch(
                conversations,  # type: ignore[arg-type]
                config={"max_concurrency": self._concurrency},
                return_exceptions=True,
            )
        except Exception as err:  # noqa: BLE001 - building the client or the batch itself failed: same fallback
            answers = [err] * len(diagnoses)
        texts: list[str | None] = []
        for diagnosis, answer in zip(diagnoses, answers, strict=True):
            if isinstance(answer, BaseException):
                reason = _failure(answer)
                log.warning("LLM summary for %s failed, keeping the rule summary: %s", diagnosis.subject, reason)
                texts.append(None)
                continue
            text = clean_answer(getattr(answer, "content", None))
            if text is None:
                log.warning("LLM summary for %s was empty or unusable, keeping the rule summary", diagnosis.subject)
            texts.append(text)
        return texts
