"""The watcher's memory (dedup, relist comparison), its filters, its back-off and the pod reference parser."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from aetherius.errors import ApiRejected, ConfigurationError, UnsupportedKind
from aetherius.settings import Settings
from collectors.kube import parse_pod_ref
from collectors.kube.filters import LabelSelector, WatchFilters
from collectors.kube.tracking import Tracker
from collectors.kube.watching import backoff_delay
from tests import builders

NOW = datetime(2025, 3, 2, 10, 15, tzinfo=UTC)


def tracker(filters: WatchFilters | None = None) -> Tracker:
    return Tracker(cluster="prod", filters=filters, now=lambda: NOW)


def version(obj: dict[str, Any], rv: int, uid: str = "uid-1") -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["resourceVersion"] = str(rv)
    obj["metadata"]["uid"] = uid
    return obj


def ready_pod() -> dict[str, Any]:
    return builders.pod(conditions=[{"type": "Ready", "status": "True"}])


def test_the_same_version_delivered_twice_is_deduplicated() -> None:
    memory = tracker()
    crashing = version(builders.pod(statuses=[builders.crashlooping()]), 10)
    assert memory.observe("pods", "MODIFIED", crashing) is not None
    assert memory.observe("pods", "MODIFIED", crashing) is None
    assert memory.counters.detected == 1 and memory.counters.deduplicated == 1


def test_a_crash_loops_status_updates_and_its_backoff_event_are_one_detection() -> None:
    memory = tracker()
    found = [memory.observe("pods", "MODIFIED", version(builders.pod(statuses=[builders.crashlooping(restarts=n)]), n))
             for n in range(3, 7)]  # fmt: skip
    event = version(builders.event("BackOff", "Back-off restarting failed container"), 20, uid="event-1")
    found.append(memory.observe("events", "ADDED", event))
    assert [f is not None for f in found] == [True, False, False, False, False]
    assert memory.counters.deduplicated == 4


def test_a_pod_that_recovers_and_fails_again_is_a_new_detection() -> None:
    memory = tracker()
    assert memory.observe("pods", "MODIFIED", version(builders.pod(statuses=[builders.crashlooping()]), 1))
    assert memory.observe("pods", "MODIFIED", version(ready_pod(), 2)) is None
    assert memory.observe("pods", "MODIFIED", version(builders.pod(statuses=[builders.crashlooping()]), 3))
    assert memory.counters.detected == 2


def test_a_recreated_pod_with_the_same_name_starts_fresh() -> None:
    memory = tracker()
    assert memory.observe("pods", "ADDED", version(builders.pod(statuses=[builders.crashlooping()]), 1, uid="a"))
    assert memory.observe("pods", "ADDED", version(builders.pod(statuses=[builders.crashlooping()]), 5, uid="b"))


def test_a_relist_detects_what_changed_repeats_nothing_and_forgets_what_vanished() -> None:
    memory = tracker()
    a = version(builders.pod("a", statuses=[builders.crashlooping()]), 1, uid="a")
    b = version(builders.pod("b"), 2, uid="b")
    gone = version(builders.pod("gone", statuses=[builders.crashlooping()]), 3, uid="gone")
    assert len(memory.relist("pods", [a, b, gone])) == 2
    b_broken = version(builders.pod("b", statuses=[builders.waiting("api", "ImagePullBackOff")]), 7, uid="b")
    found = memory.relist("pods", [a, b_broken])
    assert [(d.pod, d.family) for d in found] == [("b", "image")]
    assert memory.counters.deduplicated == 1
    again = memory.relist(
        "pods", [a, b_broken, version(builders.pod("gone", statuses=[builders.crashlooping()]), 9, "x")]
    )
    assert [d.pod for d in again] == ["gone"]  # forgotten while vanished, so a new pod of that name is news
    assert memory.counters.reconciles()


def test_a_deleted_pod_is_forgotten() -> None:
    memory = tracker()
    crashing = version(builders.pod(statuses=[builders.crashlooping()]), 1)
    assert memory.observe("pods", "ADDED", crashing)
    assert memory.observe("pods", "DELETED", version(crashing, 2)) is None
    assert memory.observe("pods", "ADDED", version(crashing, 3, uid="new"))
    assert memory.counters.noise == 1 and memory.counters.reconciles()


def test_namespace_and_label_filters_count_as_filtered_and_judge_events_by_their_pod() -> None:
    filters = WatchFilters(namespaces=frozenset({"shop"}), exclude=LabelSelector.parse("team=noisy"))
    memory = tracker(filters)
    noisy = builders.pod("noisy", statuses=[builders.crashlooping()])
    noisy["metadata"]["labels"] = {"team": "noisy"}
    assert memory.observe("pods", "ADDED", version(noisy, 1, uid="n")) is None
    assert (
        memory.observe("pods", "ADDED", version(builders.pod("x", "other", statuses=[builders.crashlooping()]), 2))
        is None
    )
    event = version(builders.event("BackOff", "Back-off restarting failed container", name="noisy"), 3, uid="e")
    assert memory.observe("events", "ADDED", event) is None
    node_event = builders.event("NodeNotReady", "Node worker-1 status is now: NodeNotReady", type="Normal",
                                kind="Node", name="worker-1", namespace="")  # fmt: skip
    node_event["metadata"]["namespace"] = "default"  # where node events live, outside the included namespaces
    assert memory.observe("events", "ADDED", version(node_event, 4, uid="ne")) is not None
    assert memory.counters.filtered == 3 and memory.counters.reconciles()


def test_filters_from_settings_and_label_selector_syntax() -> None:
    settings = Settings(
        namespaces=["shop"],
        exclude_namespaces=["kube-system"],
        label_selector="app in (api,web),!canary",
        exclude_label_selector="tier!=front",
    )
    filters = WatchFilters.from_settings(settings)
    assert filters.admits("shop", {"app": "api", "tier": "front"})
    assert not filters.admits("shop", {"app": "api", "tier": "front", "canary": "yes"})
    assert not filters.admits("shop", {"app": "db", "tier": "front"})
    assert not filters.admits("shop", {"app": "api", "tier": "back"})
    assert not filters.admits("other", {"app": "api", "tier": "front"})
    assert filters.admits("", None)  # cluster-scoped, labels unknown
    with pytest.raises(ConfigurationError):
        LabelSelector.parse("app in api")


def test_backoff_is_exponential_jittered_and_capped() -> None:
    assert [backoff_delay(n, base=1.0, cap=30.0, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5, 6, 7)] == [
        1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0,
    ]  # fmt: skip
    assert backoff_delay(4, base=1.0, cap=30.0, rand=lambda: 0.0) == 4.0
    assert 4.0 <= backoff_delay(4, base=1.0, cap=30.0) <= 8.0


@pytest.mark.parametrize("ref", ["pod/api-1", "pods/api-1", "po/api-1", "api-1"])
def test_pod_references_name_a_pod(ref: str) -> None:
    assert parse_pod_ref(ref) == "api-1"


def test_references_to_other_kinds_or_bad_names_are_refused() -> None:
    with pytest.raises(UnsupportedKind, match="is not a pod"):
        parse_pod_ref("deployment/api")
    with pytest.raises(ApiRejected, match="not a valid pod name"):
        parse_pod_ref("pod/Not_Valid")
