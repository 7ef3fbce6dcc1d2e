"""The incident state machine, pair by pair, and the fingerprint that names an incident."""

from __future__ import annotations

import itertools

import pytest

from aetherius.errors import IllegalTransition, PermanentError
from aetherius.incidents import (
    ACTIVE_STATES,
    ENDED_STATES,
    TRANSITIONS,
    IncidentState,
    allowed,
    check_transition,
    fingerprint,
)

S = IncidentState
ALLOWED = {
    (S.OPEN, S.DIAGNOSED),
    (S.OPEN, S.RESOLVED),
    (S.OPEN, S.CLOSED),
    (S.DIAGNOSED, S.NOTIFIED),
    (S.DIAGNOSED, S.RESOLVED),
    (S.DIAGNOSED, S.CLOSED),
    (S.NOTIFIED, S.REMEDIATING),
    (S.NOTIFIED, S.RESOLVED),
    (S.NOTIFIED, S.CLOSED),
    (S.REMEDIATING, S.NOTIFIED),
    (S.REMEDIATING, S.RESOLVED),
    (S.REMEDIATING, S.CLOSED),
    (S.RESOLVED, S.OPEN),
    (S.RESOLVED, S.CLOSED),
}
ALL_PAIRS = set(itertools.product(IncidentState, IncidentState))
REFUSED = ALL_PAIRS - ALLOWED


def _id(pair: tuple[IncidentState, IncidentState]) -> str:
    return f"{pair[0]}->{pair[1]}"


@pytest.mark.parametrize("pair", sorted(ALLOWED), ids=_id)
def test_every_allowed_transition_passes(pair: tuple[IncidentState, IncidentState]) -> None:
    check_transition(*pair)
    assert allowed(*pair)


@pytest.mark.parametrize("pair", sorted(REFUSED), ids=_id)
def test_every_other_transition_is_refused_with_a_one_line_message(pair: tuple[IncidentState, IncidentState]) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(*pair)
    message = str(caught.value)
    assert "\n" not in message and pair[1].value in message
    assert not allowed(*pair)


def test_the_table_in_the_module_is_the_table_in_this_test() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(TRANSITIONS) == set(IncidentState)


def test_an_illegal_transition_is_a_permanent_error_so_tasks_do_not_retry_it() -> None:
    assert issubclass(IllegalTransition, PermanentError)


def test_closed_is_terminal_and_every_other_state_may_be_closed() -> None:
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert all(S.CLOSED in TRANSITIONS[s] for s in IncidentState if s is not S.CLOSED)


def test_no_state_moves_to_itself() -> None:
    assert not any(s in TRANSITIONS[s] for s in IncidentState)


def test_every_active_state_can_resolve_and_no_ended_state_can() -> None:
    assert all(S.RESOLVED in TRANSITIONS[s] for s in ACTIVE_STATES)
    assert not any(S.RESOLVED in TRANSITIONS[s] for s in ENDED_STATES)
    assert ACTIVE_STATES | ENDED_STATES == set(IncidentState) and not ACTIVE_STATES & ENDED_STATES


def test_nothing_is_notified_before_it_is_diagnosed_nor_remediated_before_people_are_told() -> None:
    assert not allowed(S.OPEN, S.NOTIFIED)
    assert not allowed(S.OPEN, S.REMEDIATING)
    assert not allowed(S.DIAGNOSED, S.REMEDIATING)


def test_states_given_as_plain_strings_are_checked_too() -> None:
    check_transition("open", "diagnosed")
    with pytest.raises(IllegalTransition, match="final"):
        check_transition("closed", "open")


def test_an_unknown_state_is_refused_not_crashed_on() -> None:
    with pytest.raises(IllegalTransition, match="unknown incident state"):
        check_transition("open", "exploded")


def test_the_fingerprint_is_stable_short_hex() -> None:
    fp = fingerprint("prod", "shop", "Deployment/api", "crash")
    assert fp == fingerprint("prod", "shop", "Deployment/api", "crash")
    assert 16 <= len(fp) <= 24 and int(fp, 16) >= 0
    assert fp == "9fe0a9dbc7bff02749b8"  # stored in the database: changing the algorithm splits open incidents


def test_the_fingerprint_changes_with_every_part_and_parts_cannot_be_shifted() -> None:
    base = ("prod", "shop", "Deployment/api", "crash")
    variants = [
        ("staging", "shop", "Deployment/api", "crash"),
        ("prod", "shop2", "Deployment/api", "crash"),
        ("prod", "shop", "Deployment/web", "crash"),
        ("prod", "shop", "Deployment/api", "oom"),
        ("prod", "shop/Deployment", "api", "crash"),
    ]
    assert len({fingerprint(*base), *(fingerprint(*v) for v in variants)}) == 1 + len(variants)
