"""Storm control rolls bursts up and lets ordinary days through."""

from __future__ import annotations

import pytest

from collectors.storms import StormControl


def test_incidents_under_the_threshold_are_not_a_storm() -> None:
    control = StormControl(threshold=3, window_s=60)
    assert [control.admit("prod", "shop", t).storm for t in (0, 1, 2)] == [False, False, False]


def test_the_incident_past_the_threshold_joins_the_namespace_storm() -> None:
    control = StormControl(threshold=3, window_s=60)
    verdicts = [control.admit("prod", "shop", t) for t in range(5)]
    assert [v.storm for v in verdicts] == [False, False, False, True, True]
    assert verdicts[-1].fingerprint == "storm:prod/shop" and verdicts[-1].count == 5


def test_the_window_slides_so_a_slow_trickle_is_never_a_storm() -> None:
    control = StormControl(threshold=2, window_s=10)
    assert not any(control.admit("prod", "shop", t * 11).storm for t in range(20))


def test_many_namespaces_at_once_make_a_cluster_storm() -> None:
    control = StormControl(threshold=5, window_s=60, cluster_threshold=6)
    verdicts = [control.admit("prod", f"ns-{i}", float(i)) for i in range(8)]
    assert [v.storm for v in verdicts] == [False] * 6 + [True, True]
    assert verdicts[-1].scope == "prod"


def test_nonsense_thresholds_are_refused() -> None:
    with pytest.raises(ValueError):
        StormControl(threshold=0, window_s=60)
