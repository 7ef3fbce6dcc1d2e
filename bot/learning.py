"""People's verdicts become labelled cases: a confirmed or corrected incident joins the case store.

`labelled_case` decides (pure over store reads): the newest correction wins; otherwise more 👍 than 👎 confirms
the diagnosed category; otherwise there is nothing to learn yet. The case id is stable per incident, so learning
again (another reaction, a changed correction) replaces the case instead of adding a second one, and an incident
that no longer earns one (its 👍 taken back, outvoted by 👎) has its learned case removed. The signature is built
from the redacted diagnosis, so no secret reaches the case store.
"""

from __future__ import annotations

from aetherius.cases import Case
from aetherius.store import Store
from aetherius.taxonomy import is_category
from bot.ports import CaseForgetter, CaseRecorder
from knowledge.redaction import redact_text


def learned_case_id(incident_id: int) -> str:
    return f"incident-{incident_id}"


def labelled_case(store: Store, incident_id: int) -> Case | None:
    incident = store.get_incident(incident_id)
    diagnosis = store.latest_diagnosis(incident_id)
    if diagnosis is None:
        return None
    feedback = store.feedback(incident_id)
    corrections = [f for f in feedback if f.kind == "correction" and f.category]
    ups = sum(f.kind == "thumbs_up" for f in feedback)
    downs = sum(f.kind == "thumbs_down" for f in feedback)
    if corrections:
        category = max(corrections, key=lambda f: f.created_at).category or "unknown"
        how = "corrected in Slack"
    elif ups > downs:
        category, how = diagnosis.category, "confirmed in Slack"
    else:
        return None
    if not is_category(category):
        return None
    payload = diagnosis.payload
    evidence = [str(e) for e in payload.get("evidence", [])][:20]
    signature = redact_text("\n".join([diagnosis.summary, *evidence]) or incident.title)
    recs = payload.get("recommendations") or []
    fix = str(recs[0].get("title")) if recs and isinstance(recs[0], dict) else "see the incident thread"
    if category != diagnosis.category:
        fix = f"(the diagnosed fix was for {diagnosis.category}; see the thread)"
    return Case(
        id=learned_case_id(incident_id),
        title=redact_text(incident.title)[:200] or f"incident {incident_id}",
        category=category,  # pydantic validates it; is_category checked above
        signature=signature,
        root_cause=f"{category}: {how} ({ups} up, {downs} down)",
        fix=fix,
        source="slack",
        tags=[incident.cluster, incident.namespace] if incident.namespace else [incident.cluster],
    )


def learn_from_feedback(
    store: Store, record: CaseRecorder, forget: CaseForgetter, incident_id: int
) -> tuple[Case | None, bool]:
    """The task body behind `bot.ports.LEARN`: store the incident's labelled case if it has earned one, else remove
    the one it had earned before. Returns (the case stored, whether a case was removed)."""
    case = labelled_case(store, incident_id)
    if case is not None:
        record(case)
        return case, False
    return None, forget(learned_case_id(incident_id))
