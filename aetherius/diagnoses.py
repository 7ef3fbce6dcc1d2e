"""What the brain produces: findings from rules, recommendations, and the final diagnosis."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aetherius.taxonomy import Category

Risk = Literal["low", "medium", "high"]


class Finding(BaseModel):
    """One rule's conclusion: a category, how strongly, and the evidence that fired it."""

    rule: str
    category: Category
    weight: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    """Machine-readable details for the recommendation catalog (container, missing key, peak bytes...)."""


class Recommendation(BaseModel):
    action: str
    title: str
    risk: Risk
    confidence: float = Field(ge=0.0, le=1.0)
    params: dict[str, Any] = Field(default_factory=dict)
    steps: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    rollback: list[str] = Field(default_factory=list)
    duration_s: int = 60
    unattended: bool = False


class Alternative(BaseModel):
    category: Category
    confidence: float


class SimilarCase(BaseModel):
    id: str
    title: str
    category: Category
    similarity: float
    root_cause: str = ""
    fix: str = ""


class Diagnosis(BaseModel):
    category: Category
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    summary_by: str = "rules"
    """Who wrote ``summary``: ``rules``, or ``llm:<model>`` when an LLM reworded it (knowledge/llm.py)."""
    subject: str = ""
    """``namespace/pod`` the diagnosis is about."""
    evidence: list[str] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    similar_cases: list[SimilarCase] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list, exclude=True)
    signature: str = Field(default="", exclude=True)

    def contract(self) -> dict[str, Any]:
        """The JSON contract of ``aeth diagnose --format json`` (ARCHITECTURE.md)."""
        return self.model_dump(mode="json", exclude={"subject"})
