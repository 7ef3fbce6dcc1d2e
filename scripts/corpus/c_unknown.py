"""Corpus: unknown - nothing is currently broken (old or transient signals, completed work, normal churn)."""

from __future__ import annotations

from .common import (
    GI,
    MI,
    Deployment,
    Job,
    Snap,
    case,
    cond,
    container,
    cpu_pack,
    every,
    finish_pod,
    gauge,
    http_probe,
    labels,
    mem_limit,
    render,
    res,
    steady,
)


def _mk(s: Snap, d: Deployment, c: dict, *, created: float, pool: str = "workers") -> None:
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node(pool),
               created=created, containers=[c])


@case("corpus")
def unknown_oom_hours_ago_healthy() -> Snap:
    s = Snap("unknown-oom-hours-ago-healthy", cluster="search-eks", captured="2024-08-29T15:40:12Z", platform="eks", region="us-west-2",
             version="1.29", ns="search")
    d = Deployment(s, "query-api", replicas=6, labels={"app": "query-api"}, revision=91)
    _mk(s, d, container("query", "440021783312.dkr.ecr.us-west-2.amazonaws.com/search/query-api:4.12.2",
                        ports=[(8080, "http")], resources=res("500m", "1Gi", "2", "1Gi"),
                        readiness=http_probe("/ready", 8080)), created=-3 * 86400)
    oom_end = -7 * 3600 - 1220
    last = s.terminated(137, "OOMKilled", -3 * 86400 + 30, oom_end)
    s.status("query", state=s.running(oom_end + 11), last=last, restarts=1, ready=True)
    finish_pod(s)
    d.emit(ready=6)
    gauge(s, "container_memory_working_set_bytes", labels(s, "query"), lambda t: 470 * MI, -3600, 0, 60, noise=0.03)
    mem_limit(s, "query", GI, -3600)
    s.log("query", render(s, "zap", every(-300, -5, 30, "info", lambda i, t: f"served queries={s.rng.randint(1800, 2600)} p99_ms={s.rng.randint(38, 61)} cache_hit={s.rng.uniform(0.8, 0.9):.2f}", s),
                          caller=("internal/http/stats.go:44",)))
    s.labels("unknown",
             why="The only failure is a single OOMKill more than 7 hours ago (restartCount 1); since then the "
                 "container has run Ready with memory flat at ~470Mi of 1Gi and no events. Nothing is failing now.",
             remediation="no action needed now; if it recurs, look at the memory peak around the time of that OOM kill")
    return s


@case("corpus")
def unknown_rollout_warmup_503() -> Snap:
    s = Snap("unknown-rollout-warmup-503", cluster="travel-gke", captured="2024-06-04T10:16:40Z", platform="gke",
             version="1.28", ns="booking", events_api="events")
    d = Deployment(s, "fare-search", replicas=8, labels={"app": "fare-search"}, revision=318)
    _mk(s, d, container("search", "europe-west1-docker.pkg.dev/acme-travel/svc/fare-search:25.6.0",
                        ports=[(8080, "http")], resources=res("1", "2Gi", "2", "2Gi"),
                        readiness=http_probe("/health/ready", 8080, period=5, failure=3)), created=-190, pool="svc-pool")
    s.ev_scheduled()
    steady(s, "search", -183)
    s.event("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=4, first=-176, last=-161,
            field="search")
    old = {"apiVersion": "v1", "kind": "Pod", "name": f"fare-search-{s.sfx(10)}-{s.sfx()}", "namespace": s.ns,
           "uid": s.uid(), "resourceVersion": s.rv()}
    s.event("Killing", "Stopping container search", type="Normal", first=-150, obj={**old, "fieldPath": "spec.containers{search}"})
    finish_pod(s, ready_since=-156)
    d.emit(ready=8, rs_created=-200, updated=5, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 20, -86400 * 20),
        cond("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{d.rs_name}" is progressing.', s, -199, -150)])
    s.log("search", render(s, "spring", [(-180, "INFO", "Starting FareSearchApplication v25.6.0 using Java 21.0.3 with PID 1"),
                                          (-171, "INFO", "Started FareSearchApplication in 9.1 seconds"),
                                          (-170, "INFO", "Warming fare cache for 412 routes"),
                                          (-158, "INFO", "Fare cache warm; readiness state changed to ACCEPTING_TRAFFIC")],
                           logger="c.a.travel.fare.FareSearchApplication"))
    s.labels("unknown",
             why="Captured mid-rollout: the new pod answered 503 on readiness for ~15 s while it warmed its cache "
                 "(by design), then became Ready; an old-revision pod is being stopped by the rollout. No restarts, no "
                 "errors.",
             remediation="no action needed; the rollout is progressing normally")
    return s


@case("corpus")
def unknown_job_completed_backup() -> Snap:
    s = Snap("unknown-job-completed-backup", cluster="homelab-k3s", captured="2023-10-08T03:41:27Z", platform="k3s",
             version="1.25", ns="backup")
    j = Job(s, "", cron="restic-nightly", scheduled=-2460)
    s.make_pod(j.pod_name, generate_name=j.generate_name, owner=j.owner, labels=j.pod_labels, node=s.new_node("nuc"),
               created=-2459, restart_policy="OnFailure",
               containers=[container("restic", "docker.io/restic/restic:0.16.0", args=["backup", "/data", "--tag", "nightly"],
                                     resources=res("100m", "128Mi", None, "512Mi"))])
    s.ev_scheduled()
    a, b = -2455.0, -1312.0
    s.status("restic", state=s.terminated(0, "Completed", a, b), ready=False)
    s.ev_cycle("restic", count=1, first=a, last=a, pulled_first=False)
    finish_pod(s)
    j.emit(backoff=2, status={"completionTime": s.iso(b + 2), "conditions": [
        {"lastProbeTime": s.iso(b + 2), "lastTransitionTime": s.iso(b + 2), "status": "True", "type": "Complete"}],
        "startTime": s.iso(-2460), "succeeded": 1, "uncountedTerminatedPods": {}})
    s.log("restic", "\n".join([
        "using parent snapshot 8e1f0c2a", "", "Files:         312 new,  1041 changed, 918220 unmodified",
        "Dirs:           44 new,   212 changed, 90112 unmodified",
        "Added to the repository: 2.114 GiB (1.402 GiB stored)", "",
        "processed 919573 files, 611.204 GiB in 19:03", "snapshot 4b7d19e3 saved"]))
    s.labels("unknown",
             why="A CronJob pod that ran to completion: exit 0 / Completed, phase Succeeded, Job condition Complete; "
                 "restic saved the snapshot. Nothing failed.",
             remediation="no action needed")
    return s


@case("corpus")
def unknown_pending_just_created() -> Snap:
    s = Snap("unknown-pending-just-created", cluster="retail-aks-prod", captured="2025-01-06T09:00:05Z", platform="aks",
             version="1.31", ns="pos-sync")
    d = Deployment(s, "store-sync", replicas=4, labels={"app": "store-sync"}, revision=57)
    _mk(s, d, container("sync", "acmeretail.azurecr.io/pos/store-sync:3.3.1", pull="Always",
                        resources=res("100m", "256Mi", "500m", "512Mi")), created=-3, pool="apppool")
    s.ev_scheduled(-2)
    s.event("Pulling", f'Pulling image "{s.spec_of("sync")["image"]}"', type="Normal", first=-1, field="sync")
    s.status("sync", state=s.waiting("ContainerCreating"), image_ok=False)
    finish_pod(s)
    d.emit(ready=4, rs_created=-4, updated=1)
    s.labels("unknown",
             why="The pod was created 3 seconds before the capture and scheduled 2 seconds ago; it is simply pulling "
                 "its image (imagePullPolicy Always). Pending/ContainerCreating at this age is normal.",
             remediation="no action needed; re-check in a minute if it is still not running")
    return s


@case("corpus")
def unknown_scary_logs_healthy() -> Snap:
    s = Snap("unknown-scary-logs-healthy", cluster="gov-ocp-dc1", captured="2024-02-14T13:12:39Z", platform="openshift",
             version="1.27", ns="tax-filing")
    d = Deployment(s, "return-validator", replicas=4, labels={"app": "return-validator"}, revision=29)
    _mk(s, d, container("validator", "quay.io/acme-gov/return-validator:9.4.0", ports=[(8080, "http")],
                        resources=res("500m", "1Gi", "2", "2Gi"), readiness=http_probe("/q/health/ready", 8080),
                        liveness=http_probe("/q/health/live", 8080)), created=-5 * 86400, pool="worker")
    steady(s, "validator", -5 * 86400 + 25, events=False)
    finish_pod(s)
    d.emit(ready=4)
    cpu_pack(s, "validator", usage=lambda t: 0.42, throttled_frac=lambda t: 0.0, start=-3600, step=60, limit=2.0)
    gauge(s, "container_memory_working_set_bytes", labels(s, "validator"), lambda t: 780 * MI, -3600, 0, 60, noise=0.02)
    ent: list[object] = []
    for t in range(-600, -5, 37):
        r = s.rng.random()
        if r < 0.3:
            ent.append((t, "ERROR", f"Validation failed for return TR-2023-{s.rng.randint(100000, 999999)}: field 7b "
                                    "(dependent SSN) does not match registry - HTTP 422 returned to client"))
        elif r < 0.4:
            ent.append((t, "WARN", "Registry lookup timed out after 2000 ms (java.net.SocketTimeoutException: Read timed "
                                   "out), retry 1/3"))
            ent.append((t + 2, "INFO", "Registry lookup succeeded on retry 1"))
        else:
            ent.append((t, "INFO", f"Validated return TR-2023-{s.rng.randint(100000, 999999)} in {s.rng.randint(40, 180)} ms"))
    s.log("validator", render(s, "logback", ent, logger="g.a.tax.validate.ReturnValidator", thread="executor-thread-3"))
    s.labels("unknown",
             why="The log is full of ERROR and timeout lines, but they are business validation errors returned to "
                 "clients as 422 and lookups that succeed on retry. The pod is Running and Ready for 5 days with 0 "
                 "restarts, CPU 0.42 of 2 cores unthrottled and flat memory.",
             remediation="no action needed for the platform; the 422s are user input errors")
    return s


@case("corpus")
def unknown_old_backoff_recovered() -> Snap:
    s = Snap("unknown-old-backoff-recovered", cluster="iot-kubeadm", captured="2024-11-26T17:30:00Z", platform="kubeadm",
             version="1.28", ns="telemetry")
    d = Deployment(s, "mqtt-ingest", replicas=2, labels={"app": "mqtt-ingest"}, revision=14)
    _mk(s, d, container("ingest", "registry.iot.example/telemetry/mqtt-ingest:1.8.2", ports=[(1883, "mqtt")],
                        resources=res("100m", "128Mi", "500m", "256Mi")), created=-9 * 3600, pool="edge-gw")
    s.ev_scheduled()
    recover = -5 * 3600 - 300
    last = s.terminated(1, "Error", recover - 40, recover - 12)
    s.status("ingest", state=s.running(recover), last=last, restarts=4, ready=True)
    s.event("BackOff", backoff_msg(s), count=9, first=-9 * 3600 + 200, last=recover - 10, field="ingest")
    finish_pod(s)
    d.emit(ready=2)
    s.log("ingest", render(s, "slog", every(-400, -10, 60, "INFO", lambda i, t: (
        f"ingest stats msgs={s.rng.randint(40000, 52000)} devices=1843 lag_ms={s.rng.randint(3, 12)}"), s)))
    s.labels("unknown",
             why="The BackOff event and the 4 restarts are from more than 5 hours ago (the broker was being "
                 "upgraded); the container has been Running and Ready since then and its logs show normal throughput. "
                 "There is no current failure.",
             remediation="no action needed; the earlier restarts resolved themselves")
    return s


def backoff_msg(s: Snap) -> str:
    from .platforms import backoff_message
    return backoff_message(s.version, "ingest", s.pod_name, s.ns, s.pod_uid)


@case("corpus")
def unknown_hpa_scaledown_terminating() -> Snap:
    s = Snap("unknown-hpa-scaledown-terminating", cluster="ads-eks", captured="2024-03-18T04:12:31Z", platform="eks", region="us-east-1",
             version="1.27", ns="adserver")
    d = Deployment(s, "bidder", replicas=4, labels={"app": "bidder"}, revision=203)
    _mk(s, d, container("bidder", "773011902214.dkr.ecr.us-east-1.amazonaws.com/ads/bidder:11.0.6", ports=[(8080, "http")],
                        resources=res("1", "1Gi", "2", "1Gi"), readiness=http_probe("/ready", 8080)), created=-14 * 3600,
        pool="bidders")
    steady(s, "bidder", -14 * 3600 + 9, events=False, ready=False)
    s.event("Killing", "Stopping container bidder", type="Normal", first=-6, field="bidder")
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "bidder", "namespace": s.ns,
           "uid": s.uid(), "resourceVersion": s.rv()}
    s.event("SuccessfulRescale", "New size: 4; reason: All metrics below target", type="Normal", first=-8, obj=hpa,
            component="horizontal-pod-autoscaler")
    dref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "bidder", "namespace": s.ns, "uid": d.uid,
            "resourceVersion": s.rv()}
    s.event("ScalingReplicaSet", f"Scaled down replica set {d.rs_name} to 4 from 7", type="Normal", first=-7, obj=dref,
            component="deployment-controller")
    finish_pod(s, deletion=24, ready_since=-5)
    d.emit(ready=4)
    s.log("bidder", render(s, "zap", [(-300, "info", "bid stats qps=412 p99_ms=18 no_bid_ratio=0.31"),
                                      (-5, "info", "SIGTERM received, draining (grace 30s)"),
                                      (-4, "info", "readiness set to false, waiting for in-flight bids")],
                           caller=("cmd/bidder/main.go:203",)))
    s.labels("unknown",
             why="The HPA scaled bidder from 7 to 4 at 04:12 because traffic dropped; this pod is one of the three being "
                 "removed (deletionTimestamp set, 'Stopping container', readiness intentionally false while "
                 "draining). This is normal autoscaling.",
             remediation="no action needed")
    return s
