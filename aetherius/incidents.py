"""The incident lifecycle as a pure state machine, and the fingerprint that says "same incident".

A state says how far an incident has got through the pipeline and how involved people are; a *transition* is a
change of that stage. The store records every one (who, when, why), so the table below is also the vocabulary
of an incident's timeline.

::

    from          may become                      typical cause
    (new)         open                            first occurrence of a fingerprint
    open          diagnosed, resolved, closed     analysis done / went away / dismissed
    diagnosed     notified, resolved, closed      posted to Slack
    notified      remediating, resolved, closed   an approved action starts
    remediating   notified, resolved, closed      failed or rolled back / verified
    resolved      open, closed                    a person re-opens it / archives it
    closed        (final)

Choices, and why:

- **No self-transitions.** Repeated work *inside* a stage is not a stage change: a re-diagnosis is a new
  Diagnosis row, a thread update is a new Notification row, a repeat is an Occurrence. Refusing ``x → x`` keeps
  the timeline meaningful and makes a retried task notice that its step already happened (tasks re-read state).
- **open → notified is refused.** Nobody is told about an incident without a diagnosis; when analysis fails the
  worker stores an ``unknown`` diagnosis, which is still a diagnosis.
- **diagnosed → remediating is refused.** Every remediation, even an unattended one, is announced in the thread
  first, so the order is always diagnosed → notified → remediating.
- **remediating → notified** is the way back to people: the action failed, was rolled back, or verification
  did not hold. One remediation runs at a time (``remediating → remediating`` is refused).
- **Any active state → resolved**: the problem can go away by itself (Alertmanager says resolved, the pod
  recovers) at any stage.
- **resolved → open** is a *person's* re-open ("not fixed"). A new occurrence of a resolved problem does not
  re-open it: it opens a new incident that points back at the old one (``recurrence_of``), so each incident keeps
  one diagnosis history, one feedback set and one Slack thread. The store refuses a re-open when another incident
  with the same fingerprint is already active.
- **closed is terminal**: a person closed it (false positive, won't fix, archived). Every other state, resolved
  included, may be closed.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal, get_args

from aetherius.errors import IllegalTransition


class IncidentState(StrEnum):
    OPEN = "open"
    DIAGNOSED = "diagnosed"
    NOTIFIED = "notified"
    REMEDIATING = "remediating"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE_STATES: frozenset[IncidentState] = frozenset(
    {IncidentState.OPEN, IncidentState.DIAGNOSED, IncidentState.NOTIFIED, IncidentState.REMEDIATING}
)
"""At most one incident per fingerprint is in one of these states (the store enforces it)."""

ENDED_STATES: frozenset[IncidentState] = frozenset({IncidentState.RESOLVED, IncidentState.CLOSED})

_S = IncidentState
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    _S.OPEN: frozenset({_S.DIAGNOSED, _S.RESOLVED, _S.CLOSED}),
    _S.DIAGNOSED: frozenset({_S.NOTIFIED, _S.RESOLVED, _S.CLOSED}),
    _S.NOTIFIED: frozenset({_S.REMEDIATING, _S.RESOLVED, _S.CLOSED}),
    _S.REMEDIATING: frozenset({_S.NOTIFIED, _S.RESOLVED, _S.CLOSED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}
"""current state → the states it may move to. Everything not listed is refused."""

OccurrenceSource = Literal["kube_event", "pod_state", "node_state", "alertmanager", "cli", "storm"]
OCCURRENCE_SOURCES: frozenset[str] = frozenset(get_args(OccurrenceSource))


def allowed(current: IncidentState, target: IncidentState) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: IncidentState | str, target: IncidentState | str) -> None:
    """Return quietly when ``current → target`` is allowed; raise `IllegalTransition` otherwise."""
    try:
        cur, tgt = IncidentState(current), IncidentState(target)
    except ValueError:
        raise IllegalTransition(f"unknown incident state in {current!r} → {target!r}") from None
    if allowed(cur, tgt):
        return
    if cur is tgt:
        raise IllegalTransition(f"incident is already {cur}")
    if not TRANSITIONS[cur]:
        raise IllegalTransition(f"incident is {cur}, which is final; it cannot become {tgt}")
    options = ", ".join(sorted(TRANSITIONS[cur]))
    raise IllegalTransition(f"an incident that is {cur} cannot become {tgt} (it may become: {options})")


def fingerprint(cluster: str, namespace: str, workload: str, family: str) -> str:
    """Same cluster, namespace, workload and failure family → same incident: a stable 20-hex-char id.

    ``workload`` is ``Kind/name`` (``Deployment/api``). The parts are joined with a separator that cannot occur
    in Kubernetes names, so ``("a", "b/c")`` and ``("a/b", "c")`` differ. 80 bits: collisions need ~10^12
    concurrently open incidents.
    """
    key = "\x1f".join((cluster, namespace, workload, family))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
