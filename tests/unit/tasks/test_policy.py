"""The retry policy: temporary errors back off and retry, permanent ones and exhausted retries become dead letters."""

from __future__ import annotations

from aetherius.errors import ApiUnavailable, IllegalTransition, StoreUnavailable, UnknownRecord
from tasks.policy import DeadLetter, Retry, RetryPolicy


def test_a_temporary_error_is_retried_with_exponential_back_off() -> None:
    policy = RetryPolicy(max_retries=5, base_s=1.0, cap_s=300.0)
    assert [policy.decide(StoreUnavailable("db down"), n, rand=lambda: 1.0) for n in range(4)] == [
        Retry(1.0),
        Retry(2.0),
        Retry(4.0),
        Retry(8.0),
    ]


def test_the_back_off_is_jittered_between_half_and_all_of_the_step_and_capped() -> None:
    policy = RetryPolicy(max_retries=50, base_s=1.0, cap_s=60.0)
    assert policy.delay(3, rand=lambda: 0.0) == 4.0
    assert policy.delay(20, rand=lambda: 1.0) == 60.0


def test_a_temporary_error_that_outlives_its_retries_becomes_a_dead_letter() -> None:
    decision = RetryPolicy(max_retries=2).decide(ApiUnavailable("API answered 503\n twice"), 2)
    assert decision == DeadLetter("gave up after 3 attempts: API answered 503 twice")


def test_a_permanent_error_is_never_retried() -> None:
    for error in (UnknownRecord("no incident #7 in the state store"), IllegalTransition("incident is already closed")):
        assert RetryPolicy(max_retries=5).decide(error, 0) == DeadLetter(str(error))
