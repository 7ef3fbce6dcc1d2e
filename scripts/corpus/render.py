"""Pod status assembly (phase, conditions, QoS) and the final Snapshot document."""

from __future__ import annotations

from typing import Any

from .snap import Obj, Snap


def _qos(containers: list[Obj]) -> str:
    any_set = False
    guaranteed = True
    for c in containers:
        r = c.get("resources", {})
        lim, req = r.get("limits", {}), r.get("requests", {})
        if lim or req:
            any_set = True
        for k in ("cpu", "memory"):
            if k not in lim or req.get(k, lim.get(k)) != lim.get(k):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _pcond(s: Snap, type_: str, ok: bool, since: float, reason: str | None = None, message: str | None = None) -> Obj:
    c: Obj = {"lastProbeTime": None, "lastTransitionTime": s.iso(since), "status": "True" if ok else "False",
              "type": type_}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def finish_pod(s: Snap, *, phase: str | None = None, reason: str | None = None, message: str | None = None,
               ready_since: float | None = None, unschedulable: str | None = None, sandbox: bool = True,
               extra_conditions: list[Obj] | None = None, deletion: float | None = None,
               nominated: str | None = None, init_done_at: float | None = None) -> None:
    spec = s.pod["spec"]
    names = [c["name"] for c in spec["containers"]]
    inits = [c for c in spec.get("initContainers", [])]
    statuses = [s.statuses[n] for n in names if n in s.statuses]
    init_st = [s.init_statuses[c["name"]] for c in inits if c["name"] in s.init_statuses]
    sched = s.scheduled_at

    def done(st: Obj, c: Obj) -> bool:
        if c.get("restartPolicy") == "Always":
            return bool(st.get("started"))
        t = st["state"].get("terminated")
        return bool(t and t["exitCode"] == 0)

    init_incomplete = [c["name"] for c in inits if not (c["name"] in s.init_statuses and done(s.init_statuses[c["name"]], c))]
    unready = [st["name"] for st in statuses if not st["ready"]]
    ever_started = any("running" in st["state"] or st["lastState"] or "terminated" in st["state"] for st in statuses)
    if phase is None:
        if not s.node:
            phase = "Pending"
        elif init_incomplete:
            phase = "Pending"
        elif spec["restartPolicy"] != "Always" and statuses and all("terminated" in st["state"] for st in statuses):
            phase = "Succeeded" if all(st["state"]["terminated"]["exitCode"] == 0 for st in statuses) else "Failed"
        elif ever_started:
            phase = "Running"
        else:
            phase = "Pending"
    conds: list[Obj] = []
    if unschedulable is not None:
        conds.append(_pcond(s, "PodScheduled", False, s.created + 1, "Unschedulable", unschedulable))
    else:
        if s.node and s.v("1.29"):
            conds.append(_pcond(s, "PodReadyToStartContainers", sandbox and phase not in ("Failed", "Succeeded"),
                                sched + 2))
        if s.node:
            init_at = init_done_at if init_done_at is not None else sched + 2
            conds.append(_pcond(s, "Initialized", not init_incomplete, init_at if not init_incomplete else sched,
                                *(("ContainersNotInitialized",
                                   f"containers with incomplete status: [{' '.join(init_incomplete)}]")
                                  if init_incomplete else (None, None))))
            if ready_since is None:
                starts = [st["state"]["running"]["startedAt"] for st in statuses if "running" in st["state"]]
                ready_at = None
                if not unready and starts:
                    ready_at = max(starts)
            else:
                ready_at = s.iso(ready_since)
            if unready or phase in ("Failed", "Succeeded"):
                why = {"Succeeded": "PodCompleted", "Failed": "PodFailed"}.get(phase, "ContainersNotReady")
                msg = None if why != "ContainersNotReady" else f"containers with unready status: [{' '.join(unready)}]"
                ends = [x["finishedAt"] for st in statuses for x in
                        (st["state"].get("terminated"), st["lastState"].get("terminated")) if x]
                for t in ("Ready", "ContainersReady"):
                    c = _pcond(s, t, False, ready_since if ready_since is not None else sched + 2, why, msg)
                    if ends and ready_since is None:
                        c["lastTransitionTime"] = max(ends)
                    conds.append(c)
            else:
                for t in ("Ready", "ContainersReady"):
                    c = _pcond(s, t, True, 0)
                    c["lastTransitionTime"] = ready_at or s.iso(sched + 5)
                    conds.append(c)
        conds.append(_pcond(s, "PodScheduled", True, sched))
    for ec in extra_conditions or []:
        conds.insert(0, ec)
    st: Obj = {"conditions": conds}
    if statuses:
        st["containerStatuses"] = statuses
    if s.node:
        st["hostIP"] = s.host_ip
        if s.v("1.28"):
            st["hostIPs"] = [{"ip": s.host_ip}]
    if init_st:
        st["initContainerStatuses"] = init_st
    if message:
        st["message"] = message
    if nominated:
        st["nominatedNodeName"] = nominated
    st["phase"] = phase
    if s.node and sandbox and s.pod_ip:
        st["podIP"] = s.pod_ip
        st["podIPs"] = [{"ip": s.pod_ip}]
    st["qosClass"] = _qos(spec["containers"] + inits)
    if reason:
        st["reason"] = reason
    if s.node:
        st["startTime"] = s.iso(sched + 1)
    s.pod["status"] = st
    if deletion is not None:
        s.pod["metadata"]["deletionGracePeriodSeconds"] = spec.get("terminationGracePeriodSeconds", 30)
        s.pod["metadata"]["deletionTimestamp"] = s.iso(deletion)


def _sorted(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _sorted(o[k]) for k in sorted(o)}
    if isinstance(o, list):
        return [_sorted(x) for x in o]
    return o


def document(s: Snap) -> Obj:
    events = sorted(s.events, key=lambda e: e["_sort"])
    for e in events:
        e.pop("_sort", None)
    doc: Obj = {"apiVersion": "aetherius.dev/v1", "kind": "Snapshot",
                "metadata": {"name": s.key.rsplit("/", 1)[-1], "cluster": s.cluster, "capturedAt": s.iso(0)},
                "objects": [_sorted(o) for o in [s.pod, *events, *s.extra]]}
    if s.logs:
        doc["logs"] = s.logs
    if s.metrics:
        doc["metrics"] = [{"metric": _sorted(m["metric"]), "values": m["values"]} for m in s.metrics]
    return doc
