"""Pytest plugin for tests that need a cluster: ``pytest_plugins = ["tests.fakes.fixtures"]`` at the top of a module.

``kube`` is a running fake API server; ``kube_settings`` points a kubeconfig at it, so the code under test builds
its real ``kubernetes`` client exactly as in production; ``reader`` is a ``ClusterReader`` built from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from aetherius.settings import Settings
from collectors.kube.clients import ClusterReader
from tests.fakes.kube import FakeKube


@pytest.fixture
def kube() -> Iterator[FakeKube]:
    with FakeKube(bookmark_interval_s=0.3, default_watch_timeout_s=10.0).running() as fake:
        yield fake


@pytest.fixture
def kube_settings(kube: FakeKube, tmp_path: Path) -> Settings:
    kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
    return Settings(kubeconfig=str(kubeconfig), kube_context="fake", cluster_name="test", data_dir=tmp_path)


@pytest.fixture
def reader(kube_settings: Settings) -> Iterator[ClusterReader]:
    cluster = ClusterReader.from_settings(kube_settings, timeout_s=5.0)
    yield cluster
    cluster.close()


@pytest.fixture
def core(kube: FakeKube) -> Iterator[client.CoreV1Api]:
    """The official client's CoreV1Api against the fake, for tests of the fake itself."""
    configuration = client.Configuration(host=kube.url)
    configuration.retries = False  # a timeout is a timeout, not three
    api = client.ApiClient(configuration)
    yield client.CoreV1Api(api)
    api.close()
