"""Jinja2 templates of LLM prompts and the one function that renders them.

Templates live beside this file (``*.j2``, shared pieces in ``_partials/``). Rendering is strict: a variable the
caller forgot is an error, not an empty string in front of a model. Nothing here redacts; callers hand in text that
is already redacted (knowledge/llm.py redacts the whole rendered prompt once more).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(name: str, **context: Any) -> str:
    """The template ``name`` (e.g. ``"summary_user.j2"``) rendered with ``context``, stripped."""
    return _environment().get_template(name).render(**context).strip()
