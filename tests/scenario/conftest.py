"""Shared fixtures for scenario tests: the real MiniLM model, loaded once for the whole session."""

from __future__ import annotations

import pytest

from knowledge.embedding import Embedder, get_embedder


def pytest_configure(config: pytest.Config) -> None:
    # pyproject registers these too; registering here keeps the folder runnable with another config (-c ...).
    config.addinivalue_line("markers", "scenario: goes through real components (Chroma, MiniLM, HTTP)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()
