"""Signals: a snapshot normalized into the facts rules reason about.

Built once per diagnosis by ``knowledge.signals.extract``; plain dataclasses because rules read them in a hot
loop and nothing here crosses a process boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Probe:
    kind: str  # liveness | readiness | startup
    handler: str  # exec | httpGet | tcpSocket | grpc | unknown
    command: str = ""
    path: str = ""
    port: str = ""
    timeout_s: float = 1.0
    period_s: float = 10.0
    failure_threshold: int = 3
    initial_delay_s: float = 0.0


@dataclass(slots=True)
class EnvReference:
    """A ConfigMap or Secret a container needs (env valueFrom, envFrom, volume)."""

    kind: str  # ConfigMap | Secret
    name: str
    key: str = ""
    optional: bool = False
    via: str = "env"  # env | envFrom | volume


@dataclass(slots=True)
class Container:
    name: str
    init: bool = False
    sidecar: bool = False
    image: str = ""
    image_pull_policy: str = ""
    state: str = "unknown"  # waiting | running | terminated | unknown
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    last_reason: str = ""
    last_message: str = ""
    last_exit_code: int | None = None
    last_run_s: float | None = None
    last_finished_age_s: float | None = None
    """Seconds between the last termination and the capture time."""
    running_for_s: float | None = None
    """Seconds the current run has lasted at capture time (running containers only)."""
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    memory_limit: float | None = None
    memory_request: float | None = None
    cpu_limit: float | None = None
    cpu_request: float | None = None
    ephemeral_limit: float | None = None
    probes: list[Probe] = field(default_factory=list)
    env_refs: list[EnvReference] = field(default_factory=list)
    volume_mounts: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    command: str = ""
    # from metrics
    memory_peak: float | None = None
    memory_last: float | None = None
    oom_events: float | None = None
    """Kernel OOM kills in the container's cgroup over the window (cAdvisor ``container_oom_events_total``); on
    cgroup v1, or v2 without ``memory.oom.group``, they can hit one process while the container keeps running."""
    cpu_usage_cores: float | None = None
    throttle_ratio: float | None = None
    fs_usage_peak: float | None = None

    @property
    def failing(self) -> bool:
        return (
            (self.state == "waiting" and self.reason not in ("", "ContainerCreating", "PodInitializing"))
            or (self.state == "terminated" and self.exit_code not in (0, None))
            or self.restart_count > 0
        )

    @property
    def exit_signal(self) -> int | None:
        code = self.exit_code if self.exit_code is not None else self.last_exit_code
        return code - 128 if code is not None and 128 < code < 160 else None


@dataclass(slots=True)
class Event:
    reason: str
    message: str
    type: str = "Normal"
    count: int = 1
    object_kind: str = "Pod"
    object_name: str = ""
    age_s: float | None = None
    """Seconds between the event's last occurrence and the capture time."""
    about_subject: bool = True
    """False for events about other objects (node, PVC, owners) included for context."""


@dataclass(slots=True)
class LogLine:
    container: str
    previous: bool
    text: str
    level: str = ""  # error | warn | fatal | panic | "" when unknown


@dataclass(slots=True)
class NodeInfo:
    name: str
    conditions: dict[str, str] = field(default_factory=dict)  # type -> status
    condition_messages: dict[str, str] = field(default_factory=dict)
    ready: bool = True
    unschedulable: bool = False
    taints: list[str] = field(default_factory=list)
    allocatable: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    fs_avail_ratio_min: float | None = None
    mem_avail_min: float | None = None
    mem_capacity: float | None = None


@dataclass(slots=True)
class Claim:
    name: str
    phase: str = ""
    storage_class: str = ""
    requested: str = ""
    used_ratio: float | None = None
    """Peak fraction of capacity used, from kubelet_volume_stats metrics."""


@dataclass(slots=True)
class Owner:
    kind: str
    name: str
    conditions: dict[str, str] = field(default_factory=dict)
    condition_reasons: dict[str, str] = field(default_factory=dict)
    replicas: int | None = None
    ready_replicas: int | None = None
    revision: str = ""
    previous_images: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Policy:
    """A NetworkPolicy that selects the subject pod."""

    name: str
    age_s: float | None = None
    """How long before the capture it was created."""
    egress: bool = False
    """It restricts the pod's egress: whatever no egress rule allows is dropped."""
    ingress: bool = False
    egress_allows: list[str] = field(default_factory=list)
    """Each egress rule in words ("UDP/53 to any", "TCP/5432 to namespace db", "nothing")."""


@dataclass(slots=True)
class Signals:
    namespace: str = ""
    pod: str = ""
    cluster: str = ""
    phase: str = ""
    pod_reason: str = ""
    pod_message: str = ""
    deleting: bool = False
    node_name: str = ""
    service_account: str = ""
    qos: str = ""
    restart_policy: str = "Always"
    active_deadline_s: float | None = None
    conditions: dict[str, str] = field(default_factory=dict)
    condition_reasons: dict[str, str] = field(default_factory=dict)
    condition_messages: dict[str, str] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    node: NodeInfo | None = None
    claims: list[Claim] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)
    pod_volumes: dict[str, str] = field(default_factory=dict)  # volume name -> source kind
    network_policies: list[Policy] = field(default_factory=list)  # those that select the pod
    present_objects: set[str] = field(default_factory=set)  # "Kind/name" of objects in the snapshot
    log_errors: list[LogLine] = field(default_factory=list)
    log_tail: list[LogLine] = field(default_factory=list)
    has_logs: bool = False

    @property
    def subject(self) -> str:
        return f"{self.namespace}/{self.pod}" if self.namespace else self.pod

    @property
    def workload(self) -> str:
        for owner in reversed(self.owners):
            return f"{owner.kind}/{owner.name}"
        return f"Pod/{self.pod}"

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers if c.name == name), None)

    def events_for(self, *reasons: str) -> list[Event]:
        return [e for e in self.events if e.reason in reasons]
