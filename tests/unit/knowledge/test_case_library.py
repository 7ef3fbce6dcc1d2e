"""The seed case library (``knowledge/cases/*.yaml``): valid, unique, balanced, and signatures in the live format.

Past cases only help if a live signature can land next to them, so each case's signature must look like what
``knowledge.signature.build`` produces from a snapshot: the same line kinds, already masked, nothing volatile left
(an IP, UUID or hash in a case would pull its embedding away from every real incident of the same kind).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from aetherius.cases import Case
from aetherius.taxonomy import CATEGORIES, KNOWN_CATEGORIES
from knowledge.caselib import SEED_DIR, load_seed_cases
from knowledge.masking import mask_volatile

CASE_FILES = sorted(SEED_DIR.glob("*.yaml"))
MIN_CASES = 96
MIN_PER_FAILURE_CATEGORY = 7
MIN_UNKNOWN = 6
MIN_LINES, MAX_LINES = 4, 10

LINE_KINDS = (
    "pod phase=",
    "pod message: ",
    "container ",
    "init container ",
    "sidecar ",
    "event Warning ",
    "event Normal ",
    "node: ",
    "metric ",
    "log error: ",
)
"""What ``knowledge.signature.build`` writes, line by line."""

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
LONG_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{12,}\b")


def _raw(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _case(path: Path) -> Case:
    return Case.model_validate(_raw(path))


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return [_case(path) for path in CASE_FILES]


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_case_file_is_a_valid_case_named_after_its_id(path: Path) -> None:
    data = _raw(path)
    assert isinstance(data, dict), "a case file holds one mapping of case fields"
    case = Case.model_validate(data)
    assert case.id == path.stem


def test_case_ids_are_unique() -> None:
    ids = [_raw(path)["id"] for path in CASE_FILES]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates


def test_the_library_has_at_least_96_cases(cases: list[Case]) -> None:
    assert len(cases) >= MIN_CASES


def test_every_failure_category_has_at_least_7_cases_and_unknown_at_least_6(cases: list[Case]) -> None:
    counts = Counter(c.category for c in cases)
    thin = {c: counts[c] for c in KNOWN_CATEGORIES if counts[c] < MIN_PER_FAILURE_CATEGORY}
    assert not thin, f"categories below {MIN_PER_FAILURE_CATEGORY} cases: {thin}"
    assert counts["unknown"] >= MIN_UNKNOWN
    assert set(counts) <= set(CATEGORIES)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_no_signature_contains_an_ip_a_uuid_or_a_long_hex_hash(path: Path) -> None:
    signature = _case(path).signature
    assert not IPV4.findall(signature)
    assert not UUID.findall(signature)
    assert not LONG_HEX.findall(signature)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_signatures_are_already_masked_the_way_live_signatures_are(path: Path) -> None:
    signature = _case(path).signature
    assert mask_volatile(signature) == signature


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_signatures_have_4_to_10_lines_of_the_kinds_the_signature_builder_writes(path: Path) -> None:
    lines = _case(path).signature.strip().splitlines()
    assert MIN_LINES <= len(lines) <= MAX_LINES
    assert lines[0].startswith("pod phase=")
    odd = [line for line in lines if not line.startswith(LINE_KINDS)]
    assert not odd


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_case_explains_a_root_cause_and_a_fix_and_has_tags(path: Path) -> None:
    case = _case(path)
    assert len(case.root_cause) >= 40
    assert len(case.fix) >= 20
    assert case.tags
    assert all(tag == tag.lower() and " " not in tag for tag in case.tags)


def test_the_seed_loader_reads_the_whole_library(cases: list[Case]) -> None:
    assert [c.id for c in load_seed_cases()] == sorted(c.id for c in cases)
