"""A fake Kubernetes API server: kmock's HTTP machinery, with the state and watch semantics the collector relies on.

kmock's ``KubernetesEmulator`` stores objects but has no resourceVersions, no history, no 410, no bookmarks, no
timeouts and applies ``dryRun`` for real. So this extends kmock's stateless ``KubernetesScaffold`` (aiohttp server,
request parsing, Status errors, the reaction DSL used here for fault injection) with ``KubeStore``'s state, and
serves the endpoints the collector calls the way the API documents them:

- lists carry ``metadata.resourceVersion``; ``?watch=true&resourceVersion=RV`` streams only changes after RV, and
  without RV starts with synthetic ADDED events for the current state;
- a watch from an RV older than the compaction horizon gets an ``ERROR`` event holding a 410 ``Expired`` Status
  (HTTP 200, as the apiserver's watch cache answers);
- ``allowWatchBookmarks=true`` sends BOOKMARK events with the current RV every ``bookmark_interval_s`` and when
  ``timeoutSeconds`` ends the stream;
- label and field selectors filter lists and watches (objects leaving a watch's selection arrive as DELETED);
- ``pods/{name}/log`` with ``container``, ``previous``, ``tailLines``, ``limitBytes`` and the API's 400s;
- faults: ``fail()`` (403/500/...), ``delay()`` (for client timeouts) and ``drop_watches()`` (connection loss).

The real ``kubernetes`` client talks to it over HTTP: ``with FakeKube().running() as kube: kube.kubeconfig(path)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock import KubernetesError, KubernetesScaffold, action

from tests.fakes.kubestore import Change, KubeStore, Obj, ResourceType, resource_of, resource_type, to_view, translate
from tests.fakes.selectors import bad_request

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           409: "Conflict", 410: "Expired", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}  # fmt: skip


@dataclass
class _Session:
    """One open watch stream."""

    wake: asyncio.Event
    transport: asyncio.BaseTransport | None
    dropped: bool = False


@dataclass
class Fault:
    """A fault injected for matching requests; ``hits`` counts the requests it answered."""

    status: int | None = None
    message: str | None = None
    delay_s: float = 0.0
    remaining: int | None = None
    hits: int = 0
    reaction: Any = field(default=None, repr=False)


@attrs.define(kw_only=True)
class FakeKube(KubernetesScaffold):
    store: KubeStore = attrs.field(factory=KubeStore)
    bookmark_interval_s: float = 1.0
    default_watch_timeout_s: float = 60.0
    logs: dict[tuple[str, str, str, bool], str] = attrs.field(factory=dict)
    _sessions: list[_Session] = attrs.field(factory=list, init=False)
    _faults: list[Fault] = attrs.field(factory=list, init=False)
    _loop: asyncio.AbstractEventLoop | None = attrs.field(default=None, init=False)
    _closing: bool = attrs.field(default=False, init=False)
    _stop_serving: Any = attrs.field(default=None, init=False)
    url: str = attrs.field(default="", init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.fallback[kmock.subresource("log")] << {"Content-Type": "text/plain"} << self._serve_log
        self.fallback[action.CREATE] << 201 << self._serve_create
        self.fallback[action.LIST] << self._serve_list
        self.fallback[action.WATCH] << self._serve_watch
        self.fallback[action.FETCH] << self._serve_fetch
        self.fallback[action.UPDATE] << self._serve_patch
        self.fallback[action.DELETE] << self._serve_delete
        self.fallback["put"] << self._serve_replace
        self.store.subscribe(self._changed)

    # --- running in a background thread -------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeKube]:
        """Serve on 127.0.0.1 from a background event loop for the duration of the block."""
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            stopping = asyncio.Event()
            self._stop_serving = stopping.set
            async with self, kmock.Server(self) as server:
                self.url = str(server.url).rstrip("/")
                ready.set()
                await stopping.wait()

        def main() -> None:
            try:
                asyncio.run(serve())
            except BaseException as err:  # reported to the test thread below
                failure.append(err)
                ready.set()

        thread = threading.Thread(target=main, name="fake-kube", daemon=True)
        thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        try:
            yield self
        finally:
            self._closing = True
            self._call(self._wake_all)
            self._call(self._stop_serving)
            thread.join(10)

    def kubeconfig(self, path: Path, *, context: str = "fake", namespace: str = "default") -> Path:
        """Write a kubeconfig whose context ``context`` points at this server."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "fake", "namespace": namespace}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config))
        return path

    # --- test-side world changes (thread-safe) ------------------------------------------------------------------

    def create(self, obj: Obj) -> Obj:
        return self.store.create(resource_of(obj), self._link_owners(obj))

    def replace(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        return self.store.replace(resource_of(obj), meta.get("namespace"), meta["name"], self._link_owners(obj))

    def apply(self, obj: Obj) -> Obj:
        """Create, or replace the whole object when it exists (as a controller or the kubelet would write it)."""
        meta = obj["metadata"]
        try:
            self.store.get(resource_of(obj), meta.get("namespace"), meta["name"])
        except KubernetesError:
            return self.create(obj)
        return self.replace({**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}})

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj:
        rtype = resource_of({"apiVersion": api_version, "kind": kind})
        return self.store.delete(rtype, namespace, name)

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj:
        return self.store.get(resource_of({"apiVersion": api_version, "kind": kind}), namespace, name)

    def _link_owners(self, obj: Obj) -> Obj:
        """Test convenience (the API itself answers 422): give ownerReferences without a uid their owner's uid."""
        refs = (obj.get("metadata") or {}).get("ownerReferences")
        if not refs or all(ref.get("uid") for ref in refs):
            return obj
        linked = []
        for ref in refs:
            if not ref.get("uid"):
                try:
                    owner = self.get(ref["apiVersion"], ref["kind"], obj["metadata"].get("namespace"), ref["name"])
                    ref = {**ref, "uid": owner["metadata"]["uid"]}
                except KubernetesError:
                    ref = {**ref, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ref['kind']}/{ref['name']}"))}
            linked.append(ref)
        return {**obj, "metadata": {**obj["metadata"], "ownerReferences": linked}}

    def set_log(self, namespace: str, pod: str, container: str, text: str, *, previous: bool = False) -> None:
        self.logs[(namespace, pod, container, previous)] = text

    def compact(self, keep: int = 0) -> int:
        """Forget the change history (etcd compaction): watches from older versions get 410 Expired."""
        return self.store.compact(keep)

    @property
    def resource_version(self) -> int:
        return self.store.resource_version

    @property
    def open_watches(self) -> int:
        return len(self._sessions)

    def drop_watches(self, *, clean: bool = False) -> int:
        """End every open watch: ``clean`` ends the stream properly, otherwise the TCP connection is cut."""
        sessions = list(self._sessions)
        for session in sessions:
            session.dropped = True
            if not clean and session.transport is not None:
                self._call(session.transport.close)
        self._call(self._wake_all)
        return len(sessions)

    def requests_to(self, method: str, path: str) -> list[kmock.Request]:
        """Requests served so far whose method and path (fnmatch glob, query ignored) match."""
        return list(self[f"{method.lower()} {path}"])

    # --- faults ---------------------------------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, *, times: int | None = None, message: str = "") -> Fault:
        """Answer matching requests (``path`` is a glob, may end in ``?param=value``) with a Status error."""
        return self._inject(method, path, Fault(status=status, message=message or None, remaining=times))

    def delay(self, method: str, path: str, seconds: float, *, times: int | None = None) -> Fault:
        """Answer matching requests only after ``seconds`` (past the client's read timeout, it is a timeout)."""
        return self._inject(method, path, Fault(delay_s=seconds, remaining=times))

    def clear_faults(self) -> None:
        reactions = {id(f.reaction) for f in self._faults}
        self._payloads[:] = [p for p in self._payloads if id(p) not in reactions]
        self._faults.clear()

    def _inject(self, method: str, path: str, fault: Fault) -> Fault:
        async def react(request: kmock.Request) -> Any:
            if fault.remaining is not None:
                if fault.remaining <= 0:
                    return self._route(request)
                fault.remaining -= 1
            fault.hits += 1
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                raise _status(fault.status, fault.message or _default_message(fault.status, request))
            return self._route(request)

        fault.reaction = self[f"{method.lower()} {path}"] << react
        self._faults.append(fault)
        return fault

    # --- serving --------------------------------------------------------------------------------------------------

    def _route(self, request: kmock.Request) -> Any:
        """The default answer, for faults that let a request through."""
        if request.subresource == "log":
            return self._serve_log(request)
        routes = {action.CREATE: self._serve_create, action.LIST: self._serve_list, action.WATCH: self._serve_watch,
                  action.FETCH: self._serve_fetch, action.UPDATE: self._serve_patch,
                  action.DELETE: self._serve_delete}  # fmt: skip
        if request.action in routes:
            return routes[request.action](request)
        return self._serve_replace(request)

    def _rtype(self, request: kmock.Request) -> ResourceType:
        res = request.resource
        if res is None or res.version is None or res.plural is None:
            raise _status(404, "the server could not find the requested resource")
        return resource_type(res.group or "", res.version, res.plural)

    def _serve_list(self, request: kmock.Request) -> Obj:
        rtype = self._rtype(request)
        params = request.params
        items, rv = self.store.list(rtype, request.namespace, params.get("labelSelector"), params.get("fieldSelector"))
        for item in items:  # list items carry no kind/apiVersion; the List does
            item.pop("kind", None)
            item.pop("apiVersion", None)
        return {"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(rv)}, "items": items}  # fmt: skip

    def _serve_fetch(self, request: kmock.Request) -> Obj:
        if request.subresource:
            raise _status(404, "the server could not find the requested resource")
        return self.store.get(self._rtype(request), request.namespace, request.name or "")

    def _serve_create(self, request: kmock.Request) -> Obj:
        return self.store.create(self._rtype(request), _body(request), request.namespace, dry_run=_dry_run(request))

    def _serve_replace(self, request: kmock.Request) -> Obj:
        if request.name is None or request.method != kmock.method.PUT:
            raise _status(405, "the server does not allow this method on the requested resource")
        rtype = self._rtype(request)
        return self.store.replace(rtype, request.namespace, request.name, _body(request), dry_run=_dry_run(request))

    def _serve_patch(self, request: kmock.Request) -> Obj:
        content_type = request.headers.get("Content-Type", "application/merge-patch+json")
        return self.store.patch(
            self._rtype(request), request.namespace, request.name or "", json.loads(request.body or b"null"),
            content_type, dry_run=_dry_run(request),
        )  # fmt: skip

    def _serve_delete(self, request: kmock.Request) -> Obj:
        rtype = self._rtype(request)
        return self.store.delete(rtype, request.namespace, request.name or "", dry_run=_dry_run(request))

    def _serve_log(self, request: kmock.Request) -> bytes:
        namespace, name, params = request.namespace or "", request.name or "", request.params
        pod = self.store.get(resource_type("", "v1", "pods"), namespace, name)
        spec = pod.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or []]
        init_names = [c["name"] for c in spec.get("initContainers") or []]
        container = params.get("container") or (names[0] if len(names) == 1 else "")
        if not container:
            raise bad_request(
                f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                + (f" or one of the init containers: [{' '.join(init_names)}]" if init_names else "")
            )
        if container not in names + init_names:
            raise bad_request(f"container {container} is not valid for pod {name}")
        previous = params.get("previous") == "true"
        text = self.logs.get((namespace, name, container, previous))
        if text is None and previous:
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        if text is None:
            statuses = (pod.get("status") or {}).get("containerStatuses", []) + (pod.get("status") or {}).get(
                "initContainerStatuses", []
            )
            never_ran = [s["state"]["waiting"] for s in statuses if s.get("name") == container
                         and "waiting" in (s.get("state") or {}) and not s.get("restartCount")]  # fmt: skip
            if never_ran:
                waiting = never_ran[0]
                reason = waiting.get("reason", "ContainerCreating")
                raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
            text = ""
        if params.get("tailLines"):
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(params["tailLines"]) :]) if int(params["tailLines"]) > 0 else ""
        data = text.encode()
        if params.get("limitBytes"):
            data = data[: int(params["limitBytes"])]
        return data

    def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        rtype = self._rtype(request)
        params = request.params
        selector = params.get("fieldSelector")
        if request.name:  # a watch on a named object is a watch with metadata.name=NAME
            selector = ",".join(filter(None, [selector, f"metadata.name={request.name}"]))
        matches = self.store.matcher(rtype, request.namespace, params.get("labelSelector"), selector)
        start = params.get("resourceVersion") or None
        if start is not None and not start.isdigit():
            raise bad_request(f"invalid resource version: {start!r}")
        timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else self.default_watch_timeout_s
        raw = request._raw_request
        session = _Session(asyncio.Event(), raw.transport if raw is not None else None)
        bookmarks = params.get("allowWatchBookmarks") == "true"
        return self._stream(session, rtype, request.namespace, matches, start, bookmarks, timeout)

    async def _stream(
        self, session: _Session, rtype: ResourceType, namespace: str | None, matches: Any,
        start: str | None, bookmarks: bool, timeout: float,
    ) -> AsyncIterator[Any]:  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._sessions.append(session)
        try:
            yield b""  # send the headers now: an idle watch is still an open watch
            if start is None or start == "0":  # "get state and start at most recent": synthetic ADDED first
                items, cursor = self.store.list(rtype, namespace, None, None)
                for obj in items:
                    if matches(obj):
                        yield {"type": "ADDED", "object": obj}
            else:
                cursor = int(start)
            next_bookmark = loop.time() + self.bookmark_interval_s
            while not (session.dropped or self._closing or _closed(session)):
                session.wake.clear()
                try:
                    changes, latest = self.store.changes_since(cursor, rtype)
                except KubernetesError as err:
                    yield {"type": "ERROR", "object": _status_body(err)}
                    return
                for event in _events(changes, rtype, matches):
                    yield event
                cursor = latest
                now = loop.time()
                if now >= deadline or (bookmarks and now >= next_bookmark):
                    if bookmarks:
                        yield _bookmark(rtype, cursor)
                        next_bookmark = now + self.bookmark_interval_s
                    if now >= deadline:
                        return
                wake_at = min(deadline, next_bookmark) if bookmarks else deadline
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.wake.wait(), timeout=max(0.0, wake_at - now))
        finally:
            self._sessions.remove(session)

    def _changed(self) -> None:
        self._call(self._wake_all)

    def _wake_all(self) -> None:
        for session in self._sessions:
            session.wake.set()

    def _call(self, fn: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed() and fn is not None:
            with contextlib.suppress(RuntimeError):  # the loop is shutting down
                loop.call_soon_threadsafe(fn)

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, KubernetesError):
            return aiohttp.web.json_response(_status_body(exc), status=exc.status)
        causes = [{"message": traceback.format_exc()}]
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "reason": "InternalError",
                "message": f"fake API server bug: {exc!r}", "details": {"causes": causes}}  # fmt: skip
        return aiohttp.web.json_response(body, status=500)


def _events(changes: list[Change], rtype: ResourceType, matches: Any) -> Iterator[Obj]:
    for change in changes:
        seen = translate(change, lambda obj: to_view(rtype, obj), matches)
        if seen is not None:
            yield {"type": seen[0], "object": seen[1]}


def _bookmark(rtype: ResourceType, rv: int) -> Obj:
    meta = {"resourceVersion": str(rv)}
    return {"type": "BOOKMARK", "object": {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta}}


def _closed(session: _Session) -> bool:
    return session.transport is None or session.transport.is_closing()


def _status(code: int, message: str) -> KubernetesError:
    return KubernetesError(status=code, reason=REASONS.get(code, "Unknown"), message=message, details={})


def _status_body(err: KubernetesError) -> Obj:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": err.message,
            "reason": err.reason, "details": err.details or {}, "code": err.status}  # fmt: skip


def _default_message(code: int, request: kmock.Request) -> str:
    what = request.resource.plural if request.resource is not None else request.url.path
    if request.subresource:
        what = f"{what}/{request.subresource}"
    if code == 403:
        verb = {"GET": "list" if request.name is None else "get", "POST": "create", "PATCH": "patch",
                "PUT": "update", "DELETE": "delete"}.get(str(request.method.value), "get")  # fmt: skip
        if request.params.get("watch") == "true":
            verb = "watch"
        group = request.resource.group if request.resource is not None else ""
        scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
        target = f'{what} "{request.name}" is forbidden' if request.name else f"{what} is forbidden"
        return (f'{target}: User "system:serviceaccount:aetherius:collector" cannot {verb} resource "{what}" '
                f'in API group "{group}" {scope}')  # fmt: skip
    messages = {
        500: "Internal error occurred: injected fault",
        503: "the server is currently unable to handle the request",
        504: "Timeout: request did not complete within the allotted timeout",
    }
    return messages.get(code, f"injected fault {code}")


def _body(request: kmock.Request) -> Obj:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise bad_request("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def _dry_run(request: kmock.Request) -> bool:
    value = request.params.get("dryRun")
    if value not in (None, "All"):
        raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return value == "All"
