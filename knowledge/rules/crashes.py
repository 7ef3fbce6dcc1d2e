"""Why did the process exit? CrashLoopBackOff is a symptom; the cause is in the last words of the previous run.

Each error line is classified by mechanism (RBAC denial, DNS, connection, disk full, memory, configuration,
application bug). Lines nearer the end of the run weigh more, fatal lines more than warnings, and a connection
error that is followed by a successful connection is discounted: it was a start-up retry, not the reason to die.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aetherius.diagnoses import Finding
from aetherius.signals import Container, LogLine, Signals
from aetherius.taxonomy import Category
from knowledge.linepatterns import LinePattern
from knowledge.rules import patterns as p
from knowledge.rules.base import crashed, describe_termination, finding, quote, subject_events, termination

MECHANISMS: list[tuple[str, Category, LinePattern]] = [
    ("rbac", "rbac_denied", p.RBAC),
    ("api_unauthorized", "rbac_denied", p.API_UNAUTHORIZED),
    ("app_oom", "oom_killed", p.APP_OOM),
    ("disk_full", "disk_pressure", p.DISK_FULL),
    ("dns", "network", p.DNS),
    ("config", "config_error", p.MISSING_SETTING),
    ("file_permission", "config_error", p.FILE_PERMISSION),
    ("connect", "network", p.CONNECT),
    ("app_crash", "crash_loop", p.APP_CRASH),
]
_LEVEL_WEIGHT = {"fatal": 1.0, "error": 0.85, "error?": 0.7, "warn": 0.45, "": 0.3, "info": 0.15, "debug": 0.05}
_HOST = re.compile(
    r"(?:lookup|EAI_AGAIN|ENOTFOUND|UnknownHostException:?|host(?:name)?[= ]|connect(?:ing)? to|dial tcp|"
    r"resolve(?: host)?|@|//)\s*\\?[\"']?(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+)"
    r"(?::(?P<port>\d{2,5}))?"
)

_EXPLAINED_CRASH = 0.85
_EXPLAINED_WITHIN = 3
"""Lines between a crash and a concrete cause for the cause to explain it."""
_READY_FAILS = 4
"""Unrecovered connection or DNS failures a running, ready container must log before it counts as cut off."""
_READY_DENIALS = 2
"""Kubernetes API denials a running, ready container must log before it counts as cut off: a denial does not fix
itself, so a second one means the controller keeps failing at its job even though its pod looks healthy."""


@dataclass
class _Score:
    value: float = 0.0
    hits: int = 0
    line: str = ""
    last_index: int = 10**9  # distance from the end of the run (0 = last line)
    lines: list[str] = field(default_factory=list)
    recovered: bool = False  # a dns/connect failure followed by a successful connection later in the run


def classify_line(text: str) -> tuple[str, Category] | None:
    for name, category, pattern in MECHANISMS:
        if pattern.search(text):
            return name, category
    return None


def _recency(index: int) -> float:
    return 1.0 if index < 4 else 0.8 if index < 12 else 0.55


def run_lines(sig: Signals, c: Container) -> list[LogLine]:
    """The most telling run of this container: the previous one if we have it, else the current one."""
    own = [ln for ln in sig.log_errors if ln.container == c.name]
    tail = [ln for ln in sig.log_tail if ln.container == c.name]
    for previous in (True, False):
        errors = [ln for ln in own if ln.previous is previous]
        last_lines = [ln for ln in tail if ln.previous is previous]
        if errors or last_lines:
            seen = {ln.text for ln in errors}
            return errors + [ln for ln in last_lines[-6:] if ln.text not in seen]
    return []


def score_mechanisms(lines: list[LogLine], extra: list[str]) -> dict[str, tuple[Category, _Score]]:
    scores: dict[str, tuple[Category, _Score]] = {}
    texts = [(ln.text, ln.level) for ln in lines] + [(t, "fatal") for t in extra if t]
    total = len(texts)
    last_success = -1
    for position, (text, _) in enumerate(texts):
        if p.CONNECT_SUCCESS.search(text) and not p.CONNECT.search(text) and not p.DNS.search(text):
            last_success = position
    for position, (text, level) in enumerate(texts):
        match = classify_line(text)
        if match is None:
            continue
        name, category = match
        weight = _LEVEL_WEIGHT.get(level, 0.3) * _recency(total - 1 - position)
        recovered = name in ("dns", "connect") and position < last_success
        if recovered:
            weight *= 0.3
        if name in ("dns", "connect") and p.TELEMETRY_TARGET.search(text):
            weight *= 0.25  # a tracing or metrics exporter that cannot reach its collector does not end a process
        if name == "app_crash" and p.GENERIC_EXIT.search(text):
            weight *= 0.5
        entry = scores.setdefault(name, (category, _Score(recovered=True)))[1]
        entry.recovered = entry.recovered and recovered
        entry.hits += 1
        entry.lines.append(text)
        if weight >= entry.value:
            entry.value, entry.line = weight, text
        entry.last_index = min(entry.last_index, total - 1 - position)
    return scores


def process_exits(sig: Signals) -> list[Finding]:
    """For each crashing container, the mechanism that made it exit."""
    out: list[Finding] = []
    for c in sig.containers:
        if not crashed(c):
            continue
        reason, code = termination(c)
        if reason == "OOMKilled" or (code in (137, 143) and not sig.has_logs):
            continue  # killed from outside: memory, probe and eviction rules own these
        lines = run_lines(sig, c)
        scores = score_mechanisms(lines, [c.last_message, c.message if c.state == "terminated" else ""])
        out.extend(_findings(c, scores, code))
    return out


def _findings(c: Container, scores: dict[str, tuple[Category, _Score]], code: int | None) -> list[Finding]:
    base = describe_termination(c)
    if not scores:
        if code in (None, 137, 143):
            return []
        detail = {
            127: "command not found",
            126: "command not executable",
            139: "segmentation fault",
            134: "abort",
            0: "exited successfully but it is restarted",
        }.get(code, "")
        weight = 0.5 if code else 0.45
        return [
            finding(
                "process_exits",
                "crash_loop",
                weight,
                [base, f"exit {code}: {detail}" if detail else "", "no error lines in the captured logs"],
                container=c.name,
                exit_code=code,
            )
        ]
    ranked = sorted(scores.items(), key=lambda kv: _rank(kv[1]), reverse=True)
    out: list[Finding] = []
    for name, (category, score) in ranked[:3]:
        strength = min(1.0, score.value + min(score.hits - 1, 4) * 0.03)
        if category == "crash_loop":
            weight = 0.45 + 0.4 * strength
            if _explained(score, scores):
                weight *= _EXPLAINED_CRASH
        elif name in ("dns", "connect"):
            weight = 0.4 + 0.5 * strength
        else:
            weight = 0.5 + 0.45 * strength
        if code in (137, 143) and category != "crash_loop":
            weight *= 0.8
        facts = mechanism_facts(name, score.line, c, code)
        evidence = [base, f"log ({c.name}): {quote(score.line, 300)}"]
        if score.hits > 1:
            evidence.append(f"{score.hits} {name.replace('_', ' ')} lines in the run")
        out.append(finding(f"process_exits:{name}", category, weight, evidence, **facts))
    return out


def _explained(crash: _Score, scores: dict[str, tuple[Category, _Score]]) -> bool:
    """The crash line is followed by a line naming a concrete cause (a panic whose message is "connection refused",
    an exception whose detail is "permission denied"): the crash is how the cause ended the process, not the cause.
    Causes logged *before* the crash (retries, then an unrelated TypeError) do not explain it."""
    return any(
        category != "crash_loop"
        and not score.recovered
        and 0 <= crash.last_index - score.last_index <= _EXPLAINED_WITHIN  # the cause at or after the crash line
        for category, score in scores.values()
    )


def _rank(entry: tuple[Category, _Score]) -> float:
    category, score = entry
    return score.value + min(score.hits, 5) * 0.02 + (0.05 if category != "crash_loop" else 0.0)


def mechanism_facts(name: str, line: str, c: Container, code: int | None) -> dict[str, object]:
    facts: dict[str, object] = {"container": c.name, "exit_code": code, "mechanism": name}
    if name == "rbac":
        match = p.RBAC_PARTS.search(line.replace('\\"', '"'))
        if match:
            user = match.group("user")
            facts.update(
                service_account=user,
                verb=match.group("verb"),
                resource=match.group("resource"),
                api_group=match.group("group") or "",
                namespace=match.group("namespace"),
            )
    elif name in ("dns", "connect"):
        host = _HOST.search(line)
        if host:
            facts.update(host=host.group("host"), port=host.group("port"))
        facts["dns"] = name == "dns"
    return facts


_LOOPBACK = ("127.", "localhost", "::1", "[::1]")


def to_loopback(line: str) -> bool:
    """The failed connection went to this pod itself (a proxy to its app container): no network was crossed."""
    host = _HOST.search(line)
    return host is not None and host.group("host").lower().startswith(_LOOPBACK)


def _readiness_failures(sig: Signals) -> int:
    return sum(e.count for e in subject_events(sig, "Unhealthy") if "readiness" in e.message.lower())


def running_but_cut_off(sig: Signals) -> list[Finding]:
    """A live container that never crashes but cannot reach what it needs (retrying forever, not ready).

    In a pod that is not ready, every running container's logs count, not only the unready one's: behind a proxy
    sidecar whose readiness probe fails, it is the app container that logs why. When the readiness probe keeps
    failing and the logs show a dependency that stays unreachable (not this pod's own loopback, never recovered),
    the probe is the symptom and the unreachable dependency the cause, so it outweighs the probe finding.
    """
    if any(crashed(c) for c in sig.containers):
        return []
    pod_not_ready = any(c.state == "running" and not c.ready and not c.init for c in sig.containers)
    probe_failing = _readiness_failures(sig) >= 6
    out: list[Finding] = []
    for c in sig.containers:
        if c.state != "running" or c.init:
            continue
        lines = [ln for ln in sig.log_errors if ln.container == c.name and not ln.previous]
        scores = score_mechanisms(lines, [])
        cut_off = not c.ready or pod_not_ready
        # A ready container in a ready pod is cut off by what cannot be a blip: the API server denying it again (an
        # operator that cannot watch), or a dependency it keeps failing to reach without ever getting through (a
        # degraded service whose probes do not test that path, e.g. an MTU black hole eating large requests).
        mechanisms = ("dns", "connect", "rbac", "config") if cut_off else ("rbac", "dns", "connect")
        for name in mechanisms:
            needed = (1 if name == "rbac" else 3) if cut_off else (_READY_DENIALS if name == "rbac" else _READY_FAILS)
            if name not in scores or scores[name][1].hits < needed:
                continue
            category, score = scores[name]
            if name in ("dns", "connect") and (to_loopback(score.line) or p.TELEMETRY_TARGET.search(score.line)):
                continue  # a proxy timing out on its own app container, or a tracing exporter: no dependency lost
            if name in ("dns", "connect") and not cut_off and score.recovered:
                continue
            weight = 0.6 if cut_off else 0.75 if name == "rbac" else 0.55
            state = f"container {c.name}: running" + (" and ready" if c.ready else " but not ready")
            if c.ready and pod_not_ready:
                state += ", in a pod that is not ready"
            unreachable = name in ("dns", "connect") and not score.recovered
            if probe_failing and (unreachable or name == "rbac"):
                weight = 0.85 if name == "rbac" else 0.8  # a denial never fixes itself: the clearest cause
            out.append(
                finding(
                    f"running_but_cut_off:{name}",
                    category,
                    weight,
                    [state, f"log ({c.name}): {quote(score.line, 300)}", f"{score.hits} similar lines"],
                    **mechanism_facts(name, score.line, c, None),
                )
            )
            break
    return out
