"""Composition of the Slack side from one Settings: Web API client, paced outbox, notifier, Bolt app context.

Workers use `slack_notifier` (the notify stage posts through it); ``aeth serve`` uses `bot_context` and
`build_app`. Both share the per-channel pace through Redis (the broker), so every process posting to a channel
keeps to one message per second together.
"""

from __future__ import annotations

import redis
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from aetherius.errors import AccessDenied, ConfigurationError
from aetherius.settings import Settings
from aetherius.store import Store
from bot.context import BotContext
from bot.dedupe import RedisSeen
from bot.notifier import SlackNotifier
from bot.outbox import Outbox
from bot.pacing import RedisPacer
from bot.ports import Enqueue
from bot.readouts import describe_text, top_text
from collectors.kube.clients import ClusterReader
from tasks.routing import QUEUES


def web_client(settings: Settings) -> WebClient:
    if not settings.slack_bot_token:
        raise ConfigurationError("AETH_SLACK_BOT_TOKEN is not set; see README, 'Connect a Slack workspace'")
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))  # 429s are the outbox's job
    return client


def broker_redis(settings: Settings) -> redis.Redis:
    if not settings.broker_url.startswith(("redis://", "rediss://")):
        raise ConfigurationError(f"the Slack app paces posts through Redis; AETH_BROKER_URL is {settings.broker_url!r}")
    return redis.Redis.from_url(settings.broker_url)


def slack_notifier(settings: Settings, store: Store, client: WebClient | None = None) -> SlackNotifier:
    """The notifier a worker's pipeline posts through (its outbox drains in a daemon thread)."""
    client = client or web_client(settings)
    pacer = RedisPacer(broker_redis(settings), settings.slack_post_interval_s)
    outbox = Outbox(client, pacer, digest_after=settings.slack_digest_after)
    outbox.start()
    return SlackNotifier(store, outbox, routes=settings.slack_routes, default_channel=settings.slack_default_channel)


def queue_depth(settings: Settings) -> int:
    """Jobs waiting in the stage queues (Redis lists named after the queues)."""
    client = broker_redis(settings)
    return sum(int(client.llen(queue)) for queue in QUEUES)


def bot_context(settings: Settings, store: Store, enqueue: Enqueue, client: WebClient) -> BotContext:
    return BotContext(
        store=store,
        notifier=slack_notifier(settings, store, client),
        enqueue=enqueue,
        seen=RedisSeen(broker_redis(settings)),
        approvers=settings.slack_approvers,
        approval_ttl_s=settings.slack_approval_ttl_s,
        readonly=settings.slack_readonly,
        default_cluster=settings.cluster_name,
        queue_depth=lambda: queue_depth(settings),
        stale_after_s=settings.stale_after_s,
    )


class KubeReads:
    """The real `bot.answering.ClusterReads`: the collectors' `ClusterReader` with this worker's credentials."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._reader: ClusterReader | None = None

    def _for(self, cluster: str) -> ClusterReader:
        if cluster != self.settings.cluster_name:
            raise AccessDenied(f"this worker reads cluster {self.settings.cluster_name!r}, not {cluster!r}")
        if self._reader is None:
            self._reader = ClusterReader.from_settings(self.settings)
        return self._reader

    def logs(self, cluster: str, namespace: str, pod: str, *, previous: bool, tail: int) -> str:
        reader = self._for(cluster)
        spec = reader.get_pod(namespace, pod).get("spec") or {}
        parts = []
        for container in [c["name"] for c in spec.get("containers") or []]:
            text = reader.read_log(namespace, pod, container, previous=previous, tail_lines=tail)
            parts.append(f"--- {container}{' (previous)' if previous else ''} ---\n{text or '(no log)'}")
        return "\n".join(parts)

    def describe(self, cluster: str, namespace: str, pod: str) -> str:
        reader = self._for(cluster)
        return describe_text(reader.get_pod(namespace, pod), reader.list_pod_events(namespace, pod).objects)

    def top(self, cluster: str, namespace: str) -> str:
        return top_text(self._for(cluster).list_pod_metrics(namespace))
