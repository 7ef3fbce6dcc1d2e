"""The one place that calls the Kubernetes API: building the client from settings, and the ``ClusterReader`` port.

Reads only, and every answer goes through ``responses``: plain dicts out, our errors out (see that module for the
mapping). Connections are retried by urllib3, reads are not (``read=0``): the watcher's back-off and the caller
decide about retrying a request that may have reached the server.

Gatherers of optional evidence (owner chain, PVCs, events from both Event APIs) never raise for what they could
not read; they return it as ``Gathered.skipped`` lines for the snapshot's record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from aetherius.errors import AccessDenied, ApiRejected, ApiUnavailable, ConfigurationError, NotFound
from aetherius.settings import Settings
from aetherius.snapshots import KubeObject
from collectors.kube.owners import OWNER_RESOURCES, controller_ref
from collectors.kube.responses import (
    Gathered,
    Listing,
    WatchEvent,
    WatchStream,
    clean,
    describe,
    map_api_error,
    unavailable,
)

Watchable = Literal["pods", "events", "nodes"]
__all__ = ["ClusterReader", "Gathered", "Listing", "WatchEvent", "WatchStream", "Watchable", "build_api_client"]


def build_api_client(settings: Settings) -> client.ApiClient:
    """Kubeconfig (``AETH_KUBECONFIG``/``AETH_KUBE_CONTEXT``), else in-cluster service account, else ~/.kube/config."""
    configuration = client.Configuration()
    configuration.retries = urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=2, backoff_factor=0.2)
    try:
        if settings.kubeconfig or settings.kube_context:
            return _from_kubeconfig(settings.kubeconfig, settings.kube_context, configuration)
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException:
            return _from_kubeconfig(None, None, configuration)
        return client.ApiClient(configuration)
    except (config.ConfigException, OSError) as err:
        where = settings.kubeconfig or "in-cluster config or ~/.kube/config"
        context = f" (context {settings.kube_context!r})" if settings.kube_context else ""
        raise ConfigurationError(f"cannot load Kubernetes credentials from {where}{context}: {err}") from None


def _from_kubeconfig(path: str | None, context: str | None, configuration: client.Configuration) -> client.ApiClient:
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=path, context=context, persist_config=False, client_configuration=configuration
    )
    return api


class ClusterReader:
    """Read-only access to one cluster. Thread-safe: the client's connection pool is shared."""

    def __init__(self, api: client.ApiClient, *, timeout_s: float = 10.0, connect_timeout_s: float = 5.0) -> None:
        self.api = api
        self.timeout = (connect_timeout_s, timeout_s)
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._batch = client.BatchV1Api(api)
        self._events = client.EventsV1Api(api)
        self._storage = client.StorageV1Api(api)
        self._networking = client.NetworkingV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._getters: dict[str, Callable[..., Any]] = {
            "pods": self._core.read_namespaced_pod,
            "nodes": self._core.read_node,
            "persistentvolumeclaims": self._core.read_namespaced_persistent_volume_claim,
            "persistentvolumes": self._core.read_persistent_volume,
            "configmaps": self._core.read_namespaced_config_map,
            "storageclasses": self._storage.read_storage_class,
            "replicasets": self._apps.read_namespaced_replica_set,
            "deployments": self._apps.read_namespaced_deployment,
            "statefulsets": self._apps.read_namespaced_stateful_set,
            "daemonsets": self._apps.read_namespaced_daemon_set,
            "jobs": self._batch.read_namespaced_job,
            "cronjobs": self._batch.read_namespaced_cron_job,
        }

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout_s: float = 10.0) -> ClusterReader:
        return cls(build_api_client(settings), timeout_s=timeout_s)

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    # --- primitives -----------------------------------------------------------------------------------------------

    def get(self, resource: str, name: str, namespace: str | None = None) -> KubeObject:
        """One object by plural resource name (``pods``, ``nodes``, ``replicasets``...)."""
        getter = self._getters[resource]
        args = (name, namespace) if namespace is not None else (name,)
        what = f"{resource}/{name}" + (f" in {namespace}" if namespace else "")
        return clean(self._json(getter, "get", what, *args))

    def list_objects(
        self,
        resource: Watchable | Literal["replicasets"],
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        events_api: bool = False,
    ) -> Listing:
        fn = self._lister(resource, namespace, events_api)
        kwargs: dict[str, Any] = {"label_selector": label_selector, "field_selector": field_selector}
        args = (namespace,) if namespace else ()
        body = self._json(fn, "list", resource + (f" in {namespace}" if namespace else ""), *args, **kwargs)
        kind = str(body.get("kind") or "").removesuffix("List")
        items = [clean(i, kind, str(body.get("apiVersion") or "")) for i in body.get("items") or []]
        return Listing(items, str((body.get("metadata") or {}).get("resourceVersion") or ""))

    def list_pods(self, namespace: str | None = None, *, label_selector: str | None = None) -> Listing:
        return self.list_objects("pods", namespace, label_selector=label_selector)

    def list_events(self, namespace: str | None = None, *, field_selector: str | None = None) -> Listing:
        return self.list_objects("events", namespace, field_selector=field_selector)

    def watch(
        self,
        resource: Watchable,
        *,
        resource_version: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        timeout_s: int = 300,
        bookmarks: bool = True,
    ) -> WatchStream:
        """Changes after ``resource_version``; the server ends the stream after ``timeout_s``."""
        fn = self._lister(resource, namespace, False)
        what = resource + (f" in {namespace}" if namespace else "")
        args = (namespace,) if namespace else ()
        kwargs = {"watch": True, "resource_version": resource_version, "allow_watch_bookmarks": bookmarks,
                  "timeout_seconds": timeout_s, "label_selector": label_selector}  # fmt: skip
        response = self._call(fn, "watch", what, *args, _timeout=(self.timeout[0], timeout_s + 15.0), **kwargs)
        return WatchStream(response, what)

    def read_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        previous: bool = False,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> str | None:
        """The log tail, or ``None`` when there is none to read (no previous run, container not started yet)."""
        what = f"pods/{pod}/log in {namespace} ({container}{', previous' if previous else ''})"
        try:
            response = self._call(
                self._core.read_namespaced_pod_log, "get", what, pod, namespace, container=container,
                previous=previous, tail_lines=tail_lines, limit_bytes=limit_bytes,
            )  # fmt: skip
        except ApiRejected as err:
            if "not found" in str(err) or "waiting to start" in str(err) or "ContainerCreating" in str(err):
                return None
            raise
        data: bytes = response.data
        return data.decode("utf-8", errors="replace")

    # --- gatherers of optional evidence ---------------------------------------------------------------------------

    def list_pod_metrics(self, namespace: str) -> list[KubeObject]:
        """Current usage of the namespace's pods from metrics-server (``metrics.k8s.io/v1beta1`` PodMetrics)."""
        body = self._json(
            self._custom.list_namespaced_custom_object, "list", f"pod metrics in {namespace}",
            "metrics.k8s.io", "v1beta1", namespace, "pods",
        )  # fmt: skip
        return [item for item in body.get("items") or [] if isinstance(item, dict)]

    def get_pod(self, namespace: str, name: str) -> KubeObject:
        return self.get("pods", name, namespace)

    def get_node(self, name: str) -> KubeObject:
        return self.get("nodes", name)

    def get_owner_chain(self, obj: KubeObject) -> Gathered:
        """Controller owners up the chain (Pod → ReplicaSet → Deployment, Pod → Job → CronJob...)."""
        gathered = Gathered()
        current, namespace = obj, str((obj.get("metadata") or {}).get("namespace") or "")
        for _ in range(6):
            ref = controller_ref(current)
            if ref is None:
                break
            kind, name = str(ref.get("kind")), str(ref.get("name"))
            resource = OWNER_RESOURCES.get(kind)
            if resource is None:
                gathered.skipped.append(f"{kind}/{name}: owner kind not followed ({ref.get('apiVersion')})")
                break
            try:
                current = self.get(resource, name, namespace)
            except (AccessDenied, NotFound, ApiUnavailable, ApiRejected) as err:
                gathered.skipped.append(f"{resource}/{name}: {describe(err)}")
                break
            gathered.objects.append(current)
        return gathered

    def get_pvcs(self, namespace: str, names: list[str]) -> Gathered:
        gathered = Gathered()
        for name in names:
            try:
                gathered.objects.append(self.get("persistentvolumeclaims", name, namespace))
            except (AccessDenied, NotFound, ApiUnavailable, ApiRejected) as err:
                gathered.skipped.append(f"persistentvolumeclaims/{name}: {describe(err)}")
        return gathered

    def list_network_policies(self, namespace: str) -> Gathered:
        """The NetworkPolicies of a namespace (which of them select a pod is the brain's question)."""
        gathered = Gathered()
        what = f"networkpolicies in {namespace}"
        try:
            body = self._json(self._networking.list_namespaced_network_policy, "list", what, namespace)
        except (AccessDenied, NotFound, ApiUnavailable, ApiRejected) as err:
            gathered.skipped.append(f"networkpolicies: {describe(err)}")
            return gathered
        version = str(body.get("apiVersion") or "networking.k8s.io/v1")
        gathered.objects += [clean(item, "NetworkPolicy", version) for item in body.get("items") or []]
        return gathered

    def list_pod_events(self, namespace: str, name: str, *, kind: str = "Pod") -> Gathered:
        """Events about one object from both Event APIs (one object, two views: merged by uid, core v1 first)."""
        gathered, seen = Gathered(), set()
        queries = [(False, f"involvedObject.name={name},involvedObject.kind={kind}"),
                   (True, f"regarding.name={name},regarding.kind={kind}")]  # fmt: skip
        for events_api, selector in queries:
            try:
                listing = self.list_objects("events", namespace or None, field_selector=selector, events_api=events_api)
            except (AccessDenied, NotFound, ApiUnavailable, ApiRejected) as err:
                api = "events.k8s.io" if events_api else "events"
                gathered.skipped.append(f"{api} for {kind.lower()}s/{name}: {describe(err)}")
                continue
            for item in listing.items:
                uid = (item.get("metadata") or {}).get("uid") or id(item)
                if uid not in seen:
                    seen.add(uid)
                    gathered.objects.append(item)
        return gathered

    # --- plumbing -------------------------------------------------------------------------------------------------

    def _lister(self, resource: str, namespace: str | None, events_api: bool) -> Callable[..., Any]:
        if resource == "events" and events_api:
            return self._events.list_namespaced_event if namespace else self._events.list_event_for_all_namespaces
        namespaced: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
            "pods": (self._core.list_namespaced_pod, self._core.list_pod_for_all_namespaces),
            "events": (self._core.list_namespaced_event, self._core.list_event_for_all_namespaces),
            "replicasets": (self._apps.list_namespaced_replica_set, self._apps.list_replica_set_for_all_namespaces),
        }
        if resource == "nodes":
            return self._core.list_node
        pair = namespaced[resource]
        return pair[0] if namespace else pair[1]

    def _json(self, fn: Callable[..., Any], verb: str, what: str, *args: Any, **kwargs: Any) -> KubeObject:
        response = self._call(fn, verb, what, *args, **kwargs)
        try:
            body = json.loads(response.data)
        except ValueError:
            raise ApiUnavailable(f"{verb} {what}: the API answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise ApiUnavailable(f"{verb} {what}: the API answered {type(body).__name__}, not an object")
        return body

    def _call(
        self, fn: Callable[..., Any], verb: str, what: str, *args: Any, _timeout: Any = None, **kwargs: Any
    ) -> Any:
        try:
            return fn(*args, _preload_content=False, _request_timeout=_timeout or self.timeout, **kwargs)
        except ApiException as err:
            raise map_api_error(err, verb, what) from None
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise unavailable(err, verb, what) from None
