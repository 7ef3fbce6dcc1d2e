"""The diagnosis pipeline: snapshot → signals → rule findings → similar cases → decision → recommendations.

Pure steps around two ports (Embedder, CaseStore). ``diagnose_many`` embeds all signatures in one batch and
queries the store once, which is what makes batch diagnosis fast on two cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from aetherius.diagnoses import Diagnosis, Finding, SimilarCase
from aetherius.signals import Signals
from aetherius.snapshots import Snapshot
from knowledge import signature
from knowledge.catalog import recommend
from knowledge.decision import decide
from knowledge.embedding import Embedder
from knowledge.llm import Summarizer, with_summaries
from knowledge.redaction import redact_text
from knowledge.rules import evaluate
from knowledge.signals import extract
from knowledge.summary import summarize


class SimilarCaseIndex(Protocol):
    def search_embeddings(self, embeddings: npt.NDArray[np.float32], k: int = 5) -> list[list[SimilarCase]]: ...


@dataclass(frozen=True)
class Analysis:
    """Everything known before consulting past cases."""

    signals: Signals
    findings: list[Finding]
    signature: str


def analyze(snapshot: Snapshot) -> Analysis:
    signals = extract(snapshot)
    findings = evaluate(signals)
    return Analysis(signals, findings, signature.build(signals, findings))


class DiagnosisEngine:
    def __init__(
        self,
        embedder: Embedder | None = None,
        cases: SimilarCaseIndex | None = None,
        *,
        similar_cases: int = 5,
        unknown_below: float = 0.35,
        recommendations: int = 3,
        summarizer: Summarizer | None = None,
    ) -> None:
        self._summarizer = summarizer
        self._embedder = embedder
        self._cases = cases
        self._k = similar_cases
        self._unknown_below = unknown_below
        self._recommendations = recommendations

    def diagnose(self, snapshot: Snapshot) -> Diagnosis:
        return self.diagnose_many([snapshot])[0]

    def diagnose_many(self, snapshots: Sequence[Snapshot]) -> list[Diagnosis]:
        analyses = [analyze(s) for s in snapshots]
        similar = self._similar([a.signature for a in analyses])
        concluded = [self.conclude(a, s) for a, s in zip(analyses, similar, strict=True)]
        return with_summaries(concluded, self._summarizer)

    def _similar(self, signatures: list[str]) -> list[list[SimilarCase]]:
        if self._embedder is None or self._cases is None or not signatures:
            return [[] for _ in signatures]
        # Pods of one failing workload share a masked signature: embed and search each distinct text once.
        distinct = list(dict.fromkeys(signatures))
        found = self._cases.search_embeddings(self._embedder.embed(distinct), k=self._k)
        by_text = dict(zip(distinct, found, strict=True))
        return [list(by_text[text]) for text in signatures]

    def conclude(self, analysis: Analysis, similar: list[SimilarCase]) -> Diagnosis:
        sig, findings = analysis.signals, analysis.findings
        decision = decide(findings, similar, self._unknown_below)
        relevant = sorted((f for f in findings if f.category == decision.category), key=lambda f: -f.weight)
        evidence = list(dict.fromkeys(e for f in relevant for e in f.evidence))[:8]
        if decision.category == "unknown" and not evidence:
            evidence = list(dict.fromkeys(e for f in sorted(findings, key=lambda f: -f.weight) for e in f.evidence))[:4]
        recommendations = recommend(decision.category, relevant, sig, decision.confidence, self._recommendations)
        return Diagnosis(
            category=decision.category,
            confidence=decision.confidence,
            summary=redact_text(summarize(sig, decision.category, decision.confidence, findings)),
            subject=sig.subject,
            evidence=[redact_text(e) for e in evidence],
            alternatives=decision.alternatives,
            similar_cases=similar,
            recommendations=recommendations,
            findings=findings,
            signature=analysis.signature,
        )
