"""Case files in, validated ``Case`` objects out: the seed library shipped in ``knowledge/cases`` and user files.

Every problem with a case file ends as one ``CaseError`` line that starts with the file and says what is wrong
(bad YAML with its line, a list instead of a mapping, the first few failing fields), because the reader is someone
fixing a file, not someone reading a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aetherius.cases import Case
from aetherius.errors import CaseError

SEED_DIR = Path(__file__).parent / "cases"
MAX_CASE_BYTES = 1024 * 1024
"""A case is a few paragraphs; anything near a megabyte is the wrong file."""
MAX_REPORTED_ERRORS = 3


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases: cases never need them, and refusing them defuses alias bombs."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise CaseError(f"YAML anchors/aliases are not allowed (near line {self.get_mark().line + 1})")
        return super().compose_node(parent, index)


def parse_case_text(text: str, *, json_format: bool = False) -> Any:
    """Python data of one JSON or YAML document; ``CaseError`` without the file name on failure."""
    if json_format:
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise CaseError(f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseError(f"invalid YAML{where}: {problem}") from None


def summarize_validation(err: ValidationError) -> str:
    """``field: problem; field: problem`` for the first few errors, on one line."""
    parts = []
    for item in err.errors()[:MAX_REPORTED_ERRORS]:
        where = ".".join(str(p) for p in item["loc"]) or "case"
        problem = item["msg"]
        value = item.get("input")
        if item["type"] != "missing" and isinstance(value, str | int | float) and len(str(value)) <= 40:
            problem += f" (got {value!r})"
        parts.append(f"{where}: {problem}")
    more = err.error_count() - MAX_REPORTED_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def case_from_data(data: Any) -> Case:
    """A validated Case from parsed data; ``CaseError`` without the file name on failure."""
    if data is None:
        raise CaseError("empty file")
    if not isinstance(data, dict):
        raise CaseError(f"expected a mapping of case fields, got a {type(data).__name__}")
    try:
        return Case.model_validate(data)
    except ValidationError as err:
        raise CaseError(f"invalid case: {summarize_validation(err)}") from None


def load_case_file(path: Path) -> Case:
    """The Case in a ``.yaml``/``.yml``/``.json`` file; ``CaseError("<path>: <problem>")`` when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_CASE_BYTES:
            raise CaseError(f"{path}: file is {size:,} bytes; a case file is at most {MAX_CASE_BYTES:,}")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CaseError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise CaseError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise CaseError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        return case_from_data(parse_case_text(text, json_format=path.suffix.lower() == ".json"))
    except CaseError as err:
        raise CaseError(f"{path}: {err}") from None


def load_cases(paths: list[Path]) -> list[Case]:
    """Cases of ``paths`` sorted by id; two files with one id are a ``CaseError`` naming both."""
    seen: dict[str, Path] = {}
    cases: list[Case] = []
    for path in sorted(paths):
        case = load_case_file(path)
        if case.id in seen:
            raise CaseError(f"{path}: duplicate case id {case.id!r} (also in {seen[case.id]})")
        seen[case.id] = path
        cases.append(case)
    return sorted(cases, key=lambda c: c.id)


def load_seed_cases(directory: Path = SEED_DIR) -> list[Case]:
    """The case library shipped with Aetherius (``knowledge/cases/*.yaml``); empty when there is none."""
    if not directory.is_dir():
        return []
    return load_cases(list(directory.glob("*.yaml")))
