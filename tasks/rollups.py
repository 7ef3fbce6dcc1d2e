"""Storm incidents as diagnoses: one thread that lists the incidents a burst rolled up, instead of one page each.

Pure. A storm incident's occurrences are its members (see `tasks.intake`): each carries the member's id in its
dedup key (``storm-member:<id>``) and "workload family" in its message.
"""

from __future__ import annotations

from collections.abc import Sequence

from aetherius.diagnoses import Diagnosis
from aetherius.store.views import IncidentView, OccurrenceView

STORM_FAMILY = "storm"
STORM_KIND = "Storm"
MEMBER_PREFIX = "storm-member:"
SHOWN_MEMBERS = 25


def storm_workload(scope: str) -> str:
    return f"{STORM_KIND}/{scope}"


def member_key(incident_id: int) -> str:
    return f"{MEMBER_PREFIX}{incident_id}"


def is_storm(incident: IncidentView) -> bool:
    return incident.family == STORM_FAMILY


def storm_diagnosis(storm: IncidentView, members: Sequence[OccurrenceView]) -> Diagnosis:
    """``unknown`` with a summary that counts the members by failure family and lists the first few."""
    lines = [m.message for m in members if m.dedup_key.startswith(MEMBER_PREFIX)]
    families: dict[str, int] = {}
    for line in lines:
        family = line.rsplit(" ", 1)[-1]
        families[family] = families.get(family, 0) + 1
    counts = ", ".join(f"{n} {family}" for family, n in sorted(families.items(), key=lambda kv: (-kv[1], kv[0])))
    scope = storm.workload.removeprefix(f"{STORM_KIND}/")
    summary = (
        f"Incident storm in {scope}: {len(lines)} new incidents within the storm window ({counts or 'none yet'}). "
        "They are rolled up here instead of paging one by one; each is still diagnosed and listed below."
    )
    evidence = [f"member {line}" for line in lines[:SHOWN_MEMBERS]]
    if len(lines) > SHOWN_MEMBERS:
        evidence.append(f"... and {len(lines) - SHOWN_MEMBERS} more (aeth incidents)")
    return Diagnosis(category="unknown", confidence=0.0, summary=summary, subject=scope, evidence=evidence)
