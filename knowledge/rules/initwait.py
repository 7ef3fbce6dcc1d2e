"""An init container that waits for a dependency forever: the pod sits in ``Init:0/1`` and nothing crashes.

``until nc -z db 5432; do echo waiting for db; sleep 2; done`` is the classic: the log repeats one line naming
the host it waits for, the application container is ``PodInitializing``, nothing restarts and no event warns.
The cause is the dependency (a Service without ready endpoints, a wrong name, a policy dropping the traffic).
"""

from __future__ import annotations

import re
from collections import Counter

from aetherius.diagnoses import Finding
from aetherius.signals import Container, Signals
from knowledge.rules.base import finding, quote

_WAITING = re.compile(
    r"wait(?:ing)?(?: for)?|not (?:yet )?(?:ready|available|up|reachable)|unreachable|refused|timed? ?out|"
    r"no route|retry(?:ing)?|unavailable|sleeping|still down|cannot connect|can't connect",
    re.IGNORECASE,
)
_TARGET = re.compile(r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*):(?P<port>\d{2,5})\b", re.IGNORECASE)
_HOSTLIKE = re.compile(r"[a-z][\w.-]*$|\d{1,3}(?:\.\d{1,3}){3}$", re.IGNORECASE)
"""A name starting with a letter, or an IPv4 address: never the ``2025-03-02T10`` of a timestamp's ``10:15``."""
_VOLATILE = re.compile(r"\d+")
_MIN_REPEATS = 5
_MIN_WAIT_S = 120.0


def _stuck_init(sig: Signals) -> Container | None:
    blocked = any(c.state == "waiting" and c.reason == "PodInitializing" for c in sig.containers if not c.init)
    running = [c for c in sig.containers if c.init and not c.sidecar and c.state == "running"]
    return running[0] if blocked and running else None


def init_waits_for_dependency(sig: Signals) -> list[Finding]:
    init = _stuck_init(sig)
    if init is None or (init.running_for_s is not None and init.running_for_s < _MIN_WAIT_S):
        return []
    lines = [ln.text for ln in sig.log_tail if ln.container == init.name and not ln.previous][-20:]
    waiting = [text for text in lines if _WAITING.search(text)]
    if len(waiting) < _MIN_REPEATS:
        return []
    shape, repeats = Counter(_VOLATILE.sub("#", text) for text in waiting).most_common(1)[0]
    if repeats < _MIN_REPEATS:
        return []
    line = next(text for text in reversed(waiting) if _VOLATILE.sub("#", text) == shape)
    target = next((m for m in _TARGET.finditer(line) if _HOSTLIKE.match(m["host"])), None)
    minutes = f" for {init.running_for_s / 60:.0f} min" if init.running_for_s else ""
    return [
        finding(
            "init_waits_for_dependency",
            "network",
            0.75 if target else 0.6,
            [
                f"init container {init.name}: running{minutes}, the application containers wait (PodInitializing)",
                f"log ({init.name}): {quote(line)} (x{repeats} in the last {len(lines)} lines)",
            ],
            container=init.name,
            host=target["host"] if target else None,
            port=int(target["port"]) if target else None,
            init_wait=True,
        )
    ]
