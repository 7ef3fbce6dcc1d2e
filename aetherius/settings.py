"""The one settings object. Read once at the composition root and passed explicitly.

Every field can be set with an ``AETH_`` environment variable (``AETH_DATA_DIR``, ``AETH_CHROMA_URL``...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".aetherius"


class Settings(BaseSettings):
    """Typed configuration for every Aetherius process."""

    model_config = SettingsConfigDict(env_prefix="AETH_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where embedded state lives.")
    model_path: str | None = Field(
        default=None,
        description="Local sentence-transformers model dir; default: the all-MiniLM-L6-v2 shipped on PyPI.",
    )
    embed_max_tokens: int = Field(
        default=128, ge=16, le=512, description="Tokens of an incident signature the embedding model reads."
    )
    embed_precision: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto", description="Embedding arithmetic; auto: bfloat16 where the CPU has AMX, else float32."
    )
    chroma_url: str | None = Field(default=None, description="Chroma server URL; default: embedded store.")
    chroma_collection: str = Field(default="aetherius-cases")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="Celery broker.")
    task_visibility_timeout_s: int = Field(default=600, ge=5, description="Redelivery of a vanished worker's task.")
    task_max_retries: int = Field(default=5, ge=0, description="Retries of a temporary failure before a dead letter.")
    task_retry_base_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles each time.")
    reconcile_interval_s: float = Field(default=30.0, gt=0, description="Re-enqueue incidents stuck this long.")
    prometheus_url: str | None = Field(default=None)

    max_snapshot_bytes: int = Field(default=256 * 1024 * 1024, description="Refuse bigger snapshot files.")
    log_tail_lines: int = Field(default=400, description="Lines kept from the end of each log.")
    log_error_lines: int = Field(default=200, description="Error-looking lines kept from the rest of a log.")
    similar_cases: int = Field(default=5, description="How many similar past cases to show.")
    unknown_below: float = Field(default=0.35, description="Report 'unknown' under this confidence.")

    # collectors
    cluster_name: str = Field(default="default", description="Name this collector reports its cluster as.")
    kubeconfig: str | None = Field(default=None, description="Kubeconfig; default: in-cluster, then ~/.kube/config.")
    kube_context: str | None = Field(default=None)
    namespaces: list[str] = Field(default_factory=list, description="Watch only these namespaces (default: all).")
    exclude_namespaces: list[str] = Field(default_factory=list)
    label_selector: str | None = Field(default=None, description="Only pods matching this label selector.")
    exclude_label_selector: str | None = Field(default=None, description="Ignore pods matching this selector.")
    watch_timeout_s: int = Field(default=300, description="Server-side timeout of one watch request.")
    heartbeat_s: int = Field(default=30)
    stale_after_s: int = Field(default=120, description="A cluster without heartbeat this long is stale.")
    storm_threshold: int = Field(default=10, description="New incidents per window before a storm roll-up.")
    storm_window_s: int = Field(default=60)
    webhook_host: str = Field(default="127.0.0.1")
    webhook_port: int = Field(default=8080)
    webhook_token: str | None = Field(default=None, description="Bearer token Alertmanager must send.")
    # collector service: leader election (coordination.k8s.io Lease) and operational metrics
    leader_election: bool = Field(default=True, description="Elect one reporting collector per cluster by Lease.")
    lease_name: str = Field(default="aetherius-collector")
    lease_namespace: str = Field(default="default")
    lease_duration_s: int = Field(default=15, description="A Lease not renewed this long may be taken over.")
    lease_renew_deadline_s: float = Field(default=10.0, description="A leader that cannot renew this long steps down.")
    lease_retry_s: float = Field(default=2.0, description="How often to try to acquire or renew the Lease.")
    collector_identity: str | None = Field(default=None, description="Lease holder name; default: hostname_random.")
    metrics_host: str = Field(default="127.0.0.1")
    metrics_port: int | None = Field(default=9464, description="Prometheus /metrics port; unset: no exporter.")

    # Slack app (bot/): credentials, transport, routing and who may approve what
    slack_bot_token: str | None = Field(default=None, description="xoxb- token of the Slack app.", repr=False)
    slack_signing_secret: str | None = Field(default=None, description="Verifies HTTP requests.", repr=False)
    slack_app_token: str | None = Field(default=None, description="xapp- token for Socket Mode.", repr=False)
    slack_mode: str = Field(default="http", pattern="^(http|socket)$", description="http (signed) or socket.")
    slack_api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    slack_host: str = Field(default="0.0.0.0")
    slack_port: int = Field(default=3000)
    slack_default_channel: str = Field(default="#incidents")
    slack_routes: dict[str, str] = Field(
        default_factory=dict,
        description='Channel per "cluster/namespace/severity" pattern (fnmatch), first match wins.',
    )
    slack_approvers: dict[str, list[str]] = Field(
        default_factory=dict, description='Approver user ids (U..) or groups (S..) per "cluster/namespace" pattern.'
    )
    slack_approval_ttl_s: int = Field(default=1800, ge=60, description="Approvals expire after this long.")
    slack_readonly: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Namespace patterns where logs/describe/top are allowed, per channel id ("*" for any).',
    )
    slack_post_interval_s: float = Field(default=1.0, gt=0, description="At most one post per channel this often.")
    slack_digest_after: int = Field(default=3, ge=1, description="Fold this many waiting posts into a digest.")
    slack_inline_chars: int = Field(default=2500, description="Longer command output is uploaded as a file.")

    # optional LLM summary (knowledge/llm.py): any OpenAI-compatible chat endpoint; unset: the rule summary
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://vllm:8000/v1.")
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model name at that endpoint.")
    llm_api_key: str | None = Field(default=None, description="Bearer key for the endpoint, if any.", repr=False)
    llm_timeout_s: float = Field(default=20.0, gt=0, description="Per request; past it the rule summary stays.")
    llm_max_retries: int = Field(default=1, ge=0, description="Retries of 429/5xx/timeouts by the OpenAI client.")
    llm_max_tokens: int = Field(default=300, ge=32, description="Longest answer the model may write.")
    llm_concurrency: int = Field(default=4, ge=1, description="Summaries requested at once for a batch.")

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'aetherius.db'}"
