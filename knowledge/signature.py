"""The incident signature: a few masked lines that say what the incident looked like.

It is what we embed and compare with past cases, so it must be stable across pods, times and IPs of the same
problem (volatile tokens masked) and short (MiniLM reads 256 tokens; every token costs embedding time).
The format matches the ``signature`` field of ``knowledge/cases/*.yaml``.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.quantities import format_bytes, format_cores
from aetherius.signals import Container, Signals
from knowledge.masking import mask_volatile
from knowledge.redaction import redact_text
from knowledge.rules.base import quote

MAX_EVENTS = 4
MAX_LOG_LINES = 3
ROUTINE_EVENTS = frozenset(
    {"Scheduled", "Pulling", "Pulled", "Created", "Started", "SuccessfulCreate", "SuccessfulDelete",
     "ScalingReplicaSet", "SuccessfulAttachVolume", "SuccessfulMountVolume", "AddedInterface", "Sync"}
)  # fmt: skip
"""Normal events every pod has: in a signature they only make unrelated incidents look alike."""
_ROUTINE_LINE = re.compile(r"^event Normal (?:" + "|".join(sorted(ROUTINE_EVENTS)) + r")\b.*$\n?", re.MULTILINE)
_IN_POD = re.compile(r" in pod [\w.<>-]+(?:_[\w.<>-]+)?(?:\([^)]*\))?")


def essential(signature: str) -> str:
    """What is compared for similarity: the signature without routine events or the pod names in BackOff
    messages. Applied to incident signatures and to case-library signatures alike."""
    return _IN_POD.sub("", _ROUTINE_LINE.sub("", signature)).strip()


def _container_line(c: Container) -> str:
    parts = [f"{c.state} {c.reason}".strip()]
    if c.last_reason or c.last_exit_code is not None:
        ran = f" after {c.last_run_s:.0f}s" if c.last_run_s is not None else ""
        parts.append(f"last terminated {c.last_reason or 'unknown'} exit={c.last_exit_code}{ran}")
    elif c.state == "terminated":
        parts.append(f"exit={c.exit_code}")
    if c.restart_count:
        parts.append(f"restarts={c.restart_count}")
    kind = "init container" if c.init and not c.sidecar else "sidecar" if c.sidecar else "container"
    return f"{kind} {c.name}: " + "; ".join(parts)


def _metric_line(sig: Signals) -> str:
    parts = []
    for c in sig.containers:
        if c.memory_peak and c.memory_limit:
            parts.append(f"memory peak {c.memory_peak / c.memory_limit:.0%} of limit {format_bytes(c.memory_limit)}")
        if c.throttle_ratio is not None and c.throttle_ratio >= 0.1:
            limit = f" limit {format_cores(c.cpu_limit)}" if c.cpu_limit else ""
            parts.append(f"cpu throttled {c.throttle_ratio:.0%} of periods{limit}")
    parts += [f"volume used {c.used_ratio:.0%}" for c in sig.claims if c.used_ratio is not None and c.used_ratio > 0.8]
    return "metric " + "; ".join(parts) if parts else ""


def build(sig: Signals, findings: list[Finding]) -> str:
    owner = sig.owners[-1].kind if sig.owners else "none"
    lines = [
        f"pod phase={sig.phase or '?'} qos={sig.qos or '?'} owner={owner}"
        + (f" reason={sig.pod_reason}" if sig.pod_reason else "")
        + (" deleting" if sig.deleting else "")
    ]
    if sig.pod_message:
        lines.append(f"pod message: {quote(sig.pod_message, 200)}")
    lines += [_container_line(c) for c in sig.containers if c.state != "unknown" or c.restart_count][:4]
    telling = [e for e in sig.events if e.type != "Normal" or e.reason not in ROUTINE_EVENTS]
    events = sorted(telling, key=lambda e: (e.type != "Warning", not e.about_subject, -e.count))[:MAX_EVENTS]
    for e in events:
        where = "" if e.about_subject else f" on {e.object_kind}"
        lines.append(f"event {e.type} {e.reason}{where} x{e.count}: {quote(e.message, 200)}")
    if sig.node is not None:
        pressure = [f"{k}={v}" for k, v in sig.node.conditions.items() if k != "Ready" and v == "True"]
        if pressure or not sig.node.ready:
            lines.append(f"node: Ready={sig.node.ready} " + " ".join(pressure))
    metric = _metric_line(sig)
    if metric:
        lines.append(metric)
    logs = [e.split(": ", 1)[1] for f in findings for e in f.evidence if e.startswith("log (")]
    if not logs:
        logs = [ln.text for ln in sig.log_errors[-MAX_LOG_LINES:]]
    for text in list(dict.fromkeys(logs))[:MAX_LOG_LINES]:
        lines.append(f"log error: {quote(text, 240)}")
    return essential(mask_volatile(redact_text("\n".join(lines))))
