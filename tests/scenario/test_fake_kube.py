"""The fake API server behaves as the Kubernetes API documents, where the collector relies on it.

Driven only through the official ``kubernetes`` client over HTTP, as the collector drives a real cluster.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

from tests import builders
from tests.fakes.kube import FakeKube

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = [pytest.mark.scenario, pytest.mark.timeout(60)]

POD = "api-7d9f8c6b5-x2k4q"


def watch(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every event of one watch request, until the server ends it."""
    response = fn(*args, watch=True, _preload_content=False, **kwargs)
    return [json.loads(line) for line in iter_resp_lines(response) if line]


def later(seconds: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def body(response: Any) -> Any:
    return json.loads(response.data)


def without_status(obj: dict[str, Any]) -> dict[str, Any]:
    """The client's models validate request bodies; the test builders' statuses are deliberately partial."""
    return {k: v for k, v in obj.items() if k != "status"}


def status_of(err: client.ApiException) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(err.body)
    return parsed


def test_every_write_bumps_one_cluster_wide_resource_version(kube: FakeKube, core: client.CoreV1Api) -> None:
    first = kube.create(builders.pod())["metadata"]["resourceVersion"]
    node = kube.create(builders.node())["metadata"]["resourceVersion"]
    patched = body(core.patch_namespaced_pod(POD, "shop", {"metadata": {"labels": {"a": "b"}}}, _preload_content=False))
    versions = [first, node, patched["metadata"]["resourceVersion"]]
    assert all(isinstance(v, str) for v in versions)
    assert [int(v) for v in versions] == sorted(int(v) for v in versions) and len(set(versions)) == 3
    listing = body(core.list_namespaced_pod("shop", _preload_content=False))
    assert listing["metadata"]["resourceVersion"] == versions[-1] == str(kube.resource_version)


def test_a_no_op_patch_keeps_the_resource_version(kube: FakeKube, core: client.CoreV1Api) -> None:
    before = kube.create(builders.pod())["metadata"]["resourceVersion"]
    same = body(core.patch_namespaced_pod(POD, "shop", {"spec": {"nodeName": "worker-1"}}, _preload_content=False))
    assert same["metadata"]["resourceVersion"] == before


def test_list_items_carry_no_kind_but_the_list_does(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod())
    raw = body(core.list_namespaced_pod("shop", _preload_content=False))
    assert raw["kind"] == "PodList" and raw["apiVersion"] == "v1"
    assert "kind" not in raw["items"][0] and raw["items"][0]["metadata"]["name"] == POD
    assert core.list_node().items == []  # the client's typed models load the fake's answers too


def test_a_watch_from_a_resource_version_streams_only_later_changes(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod("old-1"))
    since = body(core.list_pod_for_all_namespaces(_preload_content=False))["metadata"]["resourceVersion"]
    later(0.2, lambda: (kube.create(builders.pod("new-1")), kube.apply(builders.pod("old-1", phase="Failed")),
                        kube.delete("v1", "Pod", "shop", "new-1")))  # fmt: skip
    events = watch(core.list_pod_for_all_namespaces, resource_version=since, timeout_seconds=1)
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("ADDED", "new-1"), ("MODIFIED", "old-1"), ("DELETED", "new-1")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(since)
    assert all(e["object"]["kind"] == "Pod" for e in events)


def test_a_watch_without_a_resource_version_starts_with_the_current_state(
    kube: FakeKube, core: client.CoreV1Api
) -> None:
    kube.create(builders.pod("a"))
    kube.create(builders.pod("b"))
    events = watch(core.list_namespaced_pod, "shop", timeout_seconds=1)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("ADDED", "b")]


def test_a_watch_from_a_compacted_resource_version_gets_410_expired(kube: FakeKube, core: client.CoreV1Api) -> None:
    since = kube.create(builders.pod("a"))["metadata"]["resourceVersion"]
    kube.create(builders.pod("b"))
    kube.compact()
    response = core.list_pod_for_all_namespaces(watch=True, resource_version=since, _preload_content=False)
    assert response.status == 200  # as the apiserver's watch cache answers: an ERROR event, not an HTTP error
    events = [json.loads(line) for line in iter_resp_lines(response) if line]
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {since}")


def test_bookmarks_carry_the_current_resource_version_and_end_a_timed_out_watch(
    kube: FakeKube, core: client.CoreV1Api
) -> None:
    since = body(core.list_pod_for_all_namespaces(_preload_content=False))["metadata"]["resourceVersion"]
    later(0.1, lambda: kube.create(builders.node("worker-9")))  # another resource moves the global version
    started = time.monotonic()
    events = watch(core.list_pod_for_all_namespaces, resource_version=since, allow_watch_bookmarks=True,
                   timeout_seconds=1)  # fmt: skip
    assert 0.9 <= time.monotonic() - started < 3
    assert events and all(e["type"] == "BOOKMARK" for e in events)
    last = events[-1]["object"]
    assert last["kind"] == "Pod" and last["metadata"]["resourceVersion"] == str(kube.resource_version) != since


def test_no_bookmarks_unless_asked(kube: FakeKube, core: client.CoreV1Api) -> None:
    since = str(kube.resource_version)
    assert watch(core.list_pod_for_all_namespaces, resource_version=since, timeout_seconds=1) == []


def test_dry_run_validates_but_does_not_persist(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod())
    before = kube.resource_version
    core.patch_namespaced_pod(POD, "shop", {"metadata": {"labels": {"x": "y"}}}, dry_run="All", _preload_content=False)
    core.delete_namespaced_pod(POD, "shop", dry_run="All", _preload_content=False)
    core.create_namespaced_pod(
        "shop", without_status(builders.pod("dry", owner=None)), dry_run="All", _preload_content=False
    )
    assert kube.resource_version == before
    assert "labels" not in kube.get("v1", "Pod", "shop", POD)["metadata"]
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_pod("dry", "shop", _preload_content=False)
    assert err.value.status == 404


def test_label_selectors_filter_lists(kube: FakeKube, core: client.CoreV1Api) -> None:
    for name, labels in [("a", {"app": "api", "tier": "web"}), ("b", {"app": "db"}), ("c", {"app": "api"})]:
        pod = builders.pod(name)
        pod["metadata"]["labels"] = labels
        kube.create(pod)

    def names(selector: str) -> list[str]:
        listing = body(core.list_namespaced_pod("shop", label_selector=selector, _preload_content=False))
        return [i["metadata"]["name"] for i in listing["items"]]

    assert names("app=api") == ["a", "c"]
    assert names("app==api,tier") == ["a"]
    assert names("app in (db, cache)") == ["b"]
    assert names("app notin (db),!tier") == ["c"]
    assert names("app!=api") == ["b"]


def test_field_selectors_filter_events_and_unsupported_ones_are_400(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.event("BackOff", "Back-off restarting failed container", name="a"))
    kube.create(builders.event("BackOff", "Back-off restarting failed container", name="b", namespace="other"))
    listing = body(core.list_event_for_all_namespaces(field_selector="involvedObject.name=a", _preload_content=False))
    assert [i["involvedObject"]["name"] for i in listing["items"]] == ["a"]
    listing = body(
        core.list_event_for_all_namespaces(field_selector="metadata.namespace=other", _preload_content=False)
    )
    assert [i["involvedObject"]["name"] for i in listing["items"]] == ["b"]
    with pytest.raises(client.ApiException) as err:
        core.list_event_for_all_namespaces(field_selector="spec.nonsense=1", _preload_content=False)
    assert err.value.status == 400 and "not supported" in status_of(err.value)["message"]


def test_namespaced_and_cluster_wide_lists(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod("a", "shop"))
    kube.create(builders.pod("b", "other"))
    kube.create(builders.node("worker-1"))
    everywhere = body(core.list_pod_for_all_namespaces(_preload_content=False))["items"]
    assert sorted(i["metadata"]["name"] for i in everywhere) == ["a", "b"]
    assert [
        i["metadata"]["name"] for i in body(core.list_namespaced_pod("other", _preload_content=False))["items"]
    ] == ["b"]
    nodes = body(core.list_node(_preload_content=False))["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["worker-1"] and "namespace" not in nodes[0]["metadata"]


def test_events_are_one_object_seen_through_both_event_apis(kube: FakeKube, core: client.CoreV1Api) -> None:
    core_event = kube.create(builders.event("FailedMount", "MountVolume.SetUp failed", count=4))
    events_api = client.EventsV1Api(core.api_client)
    listing = body(
        events_api.list_namespaced_event("shop", field_selector=f"regarding.name={POD}", _preload_content=False)
    )
    (same,) = listing["items"]
    assert same["metadata"]["uid"] == core_event["metadata"]["uid"]
    assert (same["note"], same["regarding"]["name"], same["deprecatedCount"]) == ("MountVolume.SetUp failed", POD, 4)
    events_api.create_namespaced_event(
        "shop", builders.events_v1("BackOff", "Back-off", name="b"), _preload_content=False
    )
    via_core = body(core.list_namespaced_event("shop", field_selector="involvedObject.name=b", _preload_content=False))
    assert via_core["items"][0]["message"] == "Back-off"


def test_a_watch_with_a_selector_sees_objects_leave_it_as_deleted(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod("a", phase="Running"))
    since = str(kube.resource_version)
    later(0.2, lambda: kube.apply(builders.pod("a", phase="Failed")))
    events = watch(core.list_namespaced_pod, "shop", field_selector="status.phase=Running", resource_version=since,
                   timeout_seconds=1)  # fmt: skip
    assert [(e["type"], e["object"]["status"]["phase"]) for e in events] == [("DELETED", "Failed")]


def test_pod_logs_honour_container_previous_tail_lines_and_limit_bytes(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod())
    kube.set_log("shop", POD, "api", "one\ntwo\nthree\n")
    kube.set_log("shop", POD, "api", "crash 1\ncrash 2\npanic: boom\n", previous=True)

    def read(**kwargs: Any) -> str:
        data: bytes = core.read_namespaced_pod_log(POD, "shop", _preload_content=False, **kwargs).data
        return data.decode()

    assert read() == "one\ntwo\nthree\n"
    assert read(container="api", tail_lines=2) == "two\nthree\n"
    assert read(container="api", previous=True, tail_lines=1) == "panic: boom\n"
    assert read(limit_bytes=3) == "one"


def test_pod_logs_answer_the_apis_400s(kube: FakeKube, core: client.CoreV1Api) -> None:
    pod = builders.pod(containers=[builders.container("api"), builders.container("proxy")],
                       statuses=[builders.running("api"), builders.waiting("proxy", "ImagePullBackOff")])  # fmt: skip
    kube.create(pod)
    cases = [
        ({}, "a container name must be specified"),
        ({"container": "api", "previous": True}, 'previous terminated container "api"'),
        ({"container": "proxy"}, "is waiting to start: ImagePullBackOff"),
        ({"container": "nope"}, "is not valid for pod"),
    ]
    for kwargs, message in cases:
        with pytest.raises(client.ApiException) as err:
            core.read_namespaced_pod_log(POD, "shop", _preload_content=False, **kwargs)
        assert err.value.status == 400 and message in status_of(err.value)["message"]


def test_a_deleted_pod_is_404(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.pod())
    kube.delete("v1", "Pod", "shop", POD)
    for read in (core.read_namespaced_pod, core.read_namespaced_pod_log):
        with pytest.raises(client.ApiException) as err:
            read(POD, "shop", _preload_content=False)
        assert err.value.status == 404 and status_of(err.value)["reason"] == "NotFound"


def test_injected_faults_answer_a_kubernetes_status_then_let_requests_through(
    kube: FakeKube, core: client.CoreV1Api
) -> None:
    kube.create(builders.node("worker-1"))
    kube.fail("get", "/api/v1/nodes/*", 403, times=1)
    kube.fail("get", "/api/v1/namespaces/*/pods", 500)
    with pytest.raises(client.ApiException) as err:
        core.read_node("worker-1", _preload_content=False)
    status = status_of(err.value)
    assert err.value.status == 403 and status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert 'cannot get resource "nodes"' in status["message"]
    assert body(core.read_node("worker-1", _preload_content=False))["metadata"]["name"] == "worker-1"  # times=1
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_pod("shop", _preload_content=False)
    assert err.value.status == 500
    kube.clear_faults()
    assert body(core.list_namespaced_pod("shop", _preload_content=False))["items"] == []


def test_a_delayed_answer_is_a_client_timeout(kube: FakeKube, core: client.CoreV1Api) -> None:
    kube.create(builders.node("worker-1"))
    kube.delay("get", "/api/v1/nodes/worker-1", 2.0)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.read_node("worker-1", _preload_content=False, _request_timeout=(1, 0.3))
    assert time.monotonic() - started < 1.9


def test_dropping_watches_cuts_the_connection(kube: FakeKube, core: client.CoreV1Api) -> None:
    since = str(kube.resource_version)
    response = core.list_pod_for_all_namespaces(watch=True, resource_version=since, timeout_seconds=10,
                                                _preload_content=False)  # fmt: skip
    assert _wait(lambda: kube.open_watches == 1)
    started = time.monotonic()
    later(0.2, kube.drop_watches)
    with pytest.raises(urllib3.exceptions.HTTPError):
        list(iter_resp_lines(response))
    assert time.monotonic() - started < 5


def test_a_replace_with_a_stale_resource_version_is_a_conflict(kube: FakeKube, core: client.CoreV1Api) -> None:
    stale = kube.create(builders.pod())
    kube.apply(builders.pod(phase="Failed"))
    with pytest.raises(client.ApiException) as err:
        core.replace_namespaced_pod(POD, "shop", without_status(stale), _preload_content=False)
    assert err.value.status == 409 and status_of(err.value)["reason"] == "Conflict"


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    return predicate()
