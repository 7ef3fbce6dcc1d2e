"""Shared fixtures for scenario tests: the real MiniLM model (loaded once per session), a fake Slack Web API
server, and a state store in SQLite. A test module that needs another shape defines its own fixture of that name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aetherius.store import Store
from knowledge.embedding import Embedder, get_embedder
from tests.fakes.slack import FakeSlack


def pytest_configure(config: pytest.Config) -> None:
    # pyproject registers these too; registering here keeps the folder runnable with another config (-c ...).
    config.addinivalue_line("markers", "scenario: goes through real components (Chroma, MiniLM, HTTP)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/aetherius.db")
    yield opened
    opened.close()
