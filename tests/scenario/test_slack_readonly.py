"""``/aeth logs|describe`` on the worker side: the real client against the fake API server, answers to fake Slack."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from aetherius.cli.slack_wiring import KubeReads
from aetherius.settings import Settings
from bot.answering import answer_read
from bot.readouts import top_text
from tests import builders
from tests.fakes.kube import FakeKube
from tests.fakes.slack import FakeSlack

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario]

POD = "orders-5f6d7c8b9-k2x4p"
LOG = "\n".join(
    [f"line {i}: handled request" for i in range(300)] + ["DATABASE_URL=postgres://orders:s3cr3t-Passw0rd@db:5432/o"]
)


@pytest.fixture
def reads(kube: FakeKube, kube_settings: Settings) -> KubeReads:
    kube.create(builders.pod(POD, statuses=[builders.crashlooping(exit_code=1, restarts=4)]))
    kube.set_log("shop", POD, "api", LOG, previous=True)
    kube.set_log("shop", POD, "api", "booting\nconnected to db")
    return KubeReads(kube_settings)


def _job(verb: str, **extra: str) -> dict[str, str]:
    base = {"verb": verb, "pod": POD, "namespace": "shop", "cluster": "test", "previous": "", "tail": "200"}
    return base | {"channel": "C1", "user": "U1", "response_url": ""} | extra


def test_a_short_log_is_posted_inline(reads: KubeReads, slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.url)
    assert answer_read(reads, client, _job("logs")) == "inline"
    (post,) = slack.posts("C1")
    assert "connected to db" in post.params["text"] and f"logs pod/{POD} -n shop" in post.params["text"]


def test_a_long_previous_log_is_uploaded_as_a_file_with_its_secrets_redacted(
    reads: KubeReads, slack: FakeSlack
) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.url)
    assert answer_read(reads, client, _job("logs", previous="1", tail="2000"), inline_chars=2000) == "file"
    assert [c.method for c in slack.calls() if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    (uploaded,) = slack.state.uploads.values()
    assert b"line 299: handled request" in uploaded
    assert b"s3cr3t-Passw0rd" not in uploaded
    assert "s3cr3t" not in str([c.params for c in slack.calls()])


def test_describe_shows_container_states_and_a_missing_pod_is_one_line(reads: KubeReads, slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.url)
    answer_read(reads, client, _job("describe"))
    text = slack.posts("C1")[-1].params["text"]
    assert "Containers:" in text and "restarts=4" in text and "CrashLoopBackOff" in text
    assert answer_read(reads, client, _job("describe", pod="gone-123")) == "error"
    (told,) = slack.calls("chat.postEphemeral")
    assert "failed" in told.params["text"] and "\n" not in told.params["text"]


def test_a_cluster_this_worker_cannot_read_is_refused_in_one_line(reads: KubeReads, slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.url)
    assert answer_read(reads, client, _job("top", cluster="eu-9")) == "error"
    assert "not 'eu-9'" in slack.calls("chat.postEphemeral")[0].params["text"]


def pod_metrics(name: str, cpu: str, memory: str) -> dict[str, object]:
    return {
        "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
        "metadata": {"name": name, "namespace": "shop"}, "window": "30s", "timestamp": "2025-03-02T10:15:00Z",
        "containers": [{"name": "api", "usage": {"cpu": cpu, "memory": memory}}],
    }  # fmt: skip


def test_top_reads_metrics_server_and_shows_the_heaviest_pod_first(
    reads: KubeReads, kube: FakeKube, slack: FakeSlack
) -> None:
    kube.create(pod_metrics("cart-5f6d7c8b9-aaaaa", "250000000n", "131072Ki"))
    kube.create(pod_metrics("orders-5f6d7c8b9-bbbbb", "1500m", "1048576Ki"))
    client = WebClient(token="xoxb-test", base_url=slack.url)
    assert answer_read(reads, client, _job("top", pod="")) == "inline"
    text = slack.posts("C1")[-1].params["text"]
    orders, cart = text.index("orders-5f6d7c8b9-bbbbb/api"), text.index("cart-5f6d7c8b9-aaaaa/api")
    assert orders < cart and "1500m" in text and "1Gi" in text and "250m" in text and "128Mi" in text


def test_top_in_a_namespace_without_metrics_says_why() -> None:
    assert "metrics-server" in top_text([])
