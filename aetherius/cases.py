"""A Case: one past incident with its known root cause and fix, the unit of the similarity store."""

from __future__ import annotations

from pydantic import BaseModel, Field

from aetherius.taxonomy import Category


class Case(BaseModel):
    id: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    category: Category
    signature: str = Field(min_length=1, description="What the incident looked like: reasons, events, log lines.")
    root_cause: str = Field(min_length=1)
    fix: str = Field(min_length=1)
    source: str = "seed"
    tags: list[str] = Field(default_factory=list)
