"""Corpus: cpu_throttling mechanisms (probe timeouts, deadlines, worker timeouts, GC, event loop, sidecars)."""

from __future__ import annotations

from .common import (
    GI,
    MI,
    Deployment,
    Job,
    Snap,
    case,
    container,
    cpu_pack,
    crashloop,
    every,
    finish_pod,
    gauge,
    http_probe,
    labels,
    probe_timeout_message,
    render,
    res,
    steady,
    timeline,
)


def _mk(s: Snap, app: str, containers: list, *, created: float, pool: str = "workers", replicas: int = 3,
        init: list | None = None, volumes: list | None = None) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(5, 80))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels,
               node=s.new_node(pool), created=created, containers=containers, init_containers=init, volumes=volumes)
    s.ev_scheduled()
    return d


@case("corpus")
def cpu_liveness_timeout_exit137() -> Snap:
    s = Snap("cpu-liveness-timeout-exit137", cluster="media-gke-prod", captured="2023-12-12T19:31:05Z", platform="gke",
             version="1.27", ns="feeds")
    runs = timeline(s, 5, lambda i: s.rng.uniform(300, 420), running_now=True)
    d = _mk(s, "feed-builder", [container(
        "builder", "gcr.io/acme-media/feed-builder:3.9.1", command=["node", "dist/index.js"], ports=[(8080, "http")],
        env={"UV_THREADPOOL_SIZE": "16"}, resources=res("100m", "512Mi", "250m", "1Gi"),
        liveness=http_probe("/healthz", 8080, period=10, timeout=1, failure=3))], created=runs[0][0] - 5,
        pool="default-pool")
    crashloop(s, "builder", runs, exit_code=137, running_now=True, ready=True)
    url = f"http://{s.pod_ip}:8080/healthz"
    s.event("Unhealthy", probe_timeout_message(s.version, "Liveness", url), count=19, first=runs[0][1] - 60,
            last=-20, field="builder")
    s.event("Killing", "Container builder failed liveness probe, will be restarted", type="Normal", count=5,
            first=runs[0][1] - 31, last=runs[-2][1] - 31, field="builder")
    finish_pod(s)
    d.emit(ready=3)
    resets = [a for a, _ in runs[1:]]
    run_at = lambda t: any(a <= t <= b for a, b in runs)  # noqa: E731
    cpu_pack(s, "builder", usage=lambda t: 0.249 if run_at(t) else None, throttled_frac=lambda t: 0.9, start=-3600,
             step=60, resets=resets, limit=0.25)
    gauge(s, "container_memory_working_set_bytes", labels(s, "builder"), lambda t: 430 * MI if run_at(t) else None,
          -3600, 0, 60, noise=0.03)
    a, b = runs[-2]
    ent = [(a + 1, "info", "feed-builder 3.9.1 up on :8080")]
    ent += every(a + 20, b - 40, 45, "info", lambda i, t: f"rebuilt feed partner={['nyt-syndic', 'apnews', 'bbc-world', 'dpa'][i % 4]} items={s.rng.randint(800, 2400)} took_ms={s.rng.randint(24000, 61000)}", s)
    s.log("builder", render(s, "winston", ent, logger="feed-builder"), previous=True)
    s.labels("cpu_throttling",
             why="Exit 137 comes from kubelet killing the container after the liveness probe timed out (Node as PID 1 "
                 "ignores SIGTERM, so it is SIGKILLed after the grace period). The probe times out because the "
                 "process is starved: CPU sits at the 250m limit and ~90% of CFS periods are throttled while it "
                 "rebuilds feeds that take 24-61 s each.",
             remediation="raise the builder CPU limit (>= 1 core for a 16-thread libuv pool) or move feed rebuilds "
                         "off the request-serving process; add a SIGTERM handler")
    return s


@case("corpus")
def cpu_job_deadline_143() -> Snap:
    s = Snap("cpu-job-deadline-143", cluster="search-eks-euw1", captured="2024-07-30T02:31:40Z", platform="eks", region="eu-west-1",
             version="1.30", ns="search")
    j = Job(s, "", cron="catalog-reindex", scheduled=-1830)
    a = -1822.0
    s.make_pod(j.pod_name, generate_name=j.generate_name, owner=j.owner, labels=j.pod_labels,
               node=s.new_node(), created=a - 6, restart_policy="Never", containers=[container(
                   "reindex", "902113446781.dkr.ecr.eu-west-1.amazonaws.com/search/catalog-reindex:12.0.4",
                   env={"JAVA_TOOL_OPTIONS": "-XX:ActiveProcessorCount=8", "REINDEX_THREADS": "8"},
                   resources=res("250m", "2Gi", "500m", "2Gi"))])
    s.ev_scheduled()
    end = -30.0
    s.status("reindex", state=s.terminated(143, "Error", a, end), ready=False)
    s.ev_cycle("reindex", count=1, first=a, last=a)
    s.event("Killing", "Stopping container reindex", type="Normal", first=end - 2, field="reindex")
    jref = {"apiVersion": "batch/v1", "kind": "Job", "name": j.name, "namespace": s.ns, "uid": j.uid, "resourceVersion": s.rv()}
    s.event("DeadlineExceeded", "Job was active longer than specified deadline", first=end - 3, obj=jref,
            component="job-controller")
    finish_pod(s, phase="Failed", deletion=end + 28)
    j.emit(deadline=1800, backoff=1, status={"conditions": [
        {"lastProbeTime": s.iso(end - 3), "lastTransitionTime": s.iso(end - 3), "message": "Job was active longer than specified deadline",
         "reason": "DeadlineExceeded", "status": "True", "type": "Failed"}], "failed": 1, "startTime": s.iso(-1830),
        "uncountedTerminatedPods": {}})
    live = lambda t: a <= t <= end  # noqa: E731
    cpu_pack(s, "reindex", usage=lambda t: 0.499 if live(t) else None, throttled_frac=lambda t: 0.94,
             start=-1800, step=60, limit=0.5)
    ent = [(a + 4, "INFO", "catalog-reindex 12.0.4: 8 threads, source=catalog-db, target=products-v58"),
           (a + 6, "INFO", "last successful run: 4,112,338 docs in 14m02s (4,880 docs/s)")]
    ent += every(a + 60, end - 5, 120, "INFO", lambda i, t: f"progress {int((t - a) * 71):,}/4,112,338 docs ({(t - a) * 71 / 41123.38:.1f}%) rate={s.rng.randint(64, 78)} docs/s", s)
    ent += [(end - 1, "WARN", "SIGTERM received, closing bulk processor (2,840 pending docs)")]
    s.log("reindex", render(s, "logback", ent, logger="c.a.search.reindex.Runner", thread="reindex-main"))
    s.labels("cpu_throttling",
             why="The Job failed with DeadlineExceeded and the container exited 143 (SIGTERM), but the deadline is "
                 "only the symptom: 8 indexing threads run inside a 500m limit, ~94% of CFS periods are throttled and "
                 "throughput is ~70 docs/s instead of ~4,900 docs/s, so the 30-minute activeDeadlineSeconds expires.",
             remediation="raise the reindex CPU limit to ~4 cores (or match REINDEX_THREADS to the limit) so the run "
                         "finishes inside activeDeadlineSeconds")
    return s


@case("corpus")
def cpu_gunicorn_worker_timeout() -> Snap:
    s = Snap("cpu-gunicorn-worker-timeout", cluster="lending-eks", captured="2023-05-24T14:09:51Z", platform="eks", region="us-east-1",
             version="1.24", ns="lending")
    d = _mk(s, "credit-scoring", [container(
        "scoring", "120945551003.dkr.ecr.us-east-1.amazonaws.com/lending/credit-scoring:2.2.0",
        command=["gunicorn", "scoring.wsgi", "-w", "6", "-b", "0.0.0.0:8000", "--timeout", "30"],
        ports=[(8000, "http")], resources=res("300m", "1500Mi", "600m", "3Gi"),
        readiness=http_probe("/ping", 8000, period=10, timeout=3))], created=-9 * 3600)
    steady(s, "scoring", -9 * 3600 + 12, events=False)
    s.event("Unhealthy", probe_timeout_message(s.version, "Readiness", f"http://{s.pod_ip}:8000/ping"), count=44,
            first=-2900, last=-40, field="scoring")
    finish_pod(s)
    d.emit(ready=2)
    hot = lambda t: t > -3000  # noqa: E731
    cpu_pack(s, "scoring", usage=lambda t: 0.598 if hot(t) else 0.19, throttled_frac=lambda t: 0.86 if hot(t) else 0.04,
             start=-3600, step=60, limit=0.6)
    gauge(s, "container_memory_working_set_bytes", labels(s, "scoring"), lambda t: 1.62 * GI, -3600, 0, 60, noise=0.01)
    ent: list[object] = []
    pid = 31
    for t in range(-600, -20, 47):
        ent.append((t, "CRITICAL", f"WORKER TIMEOUT (pid:{pid})"))
        ent.append((t + 0.4, "ERROR", f"Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?"))
        pid += s.rng.randint(1, 3)
        ent.append((t + 0.6, "INFO", f"Booting worker with pid: {pid}"))
        ent.append((t + 9, "INFO", f"model loaded: xgb-credit-v14 (features=311) in {s.rng.uniform(7.5, 9.5):.1f}s"))
    s.log("scoring", render(s, "gunicorn", ent))
    s.labels("cpu_throttling",
             why="gunicorn kills workers on WORKER TIMEOUT and prints 'Perhaps out of memory?', but memory is flat at "
                 "~1.6Gi of 3Gi and there is no OOM kill. Six workers share a 600m limit: CPU is pinned at the limit "
                 "with ~86% of periods throttled since traffic rose, so requests exceed the 30 s worker timeout.",
             remediation="raise the CPU limit to ~3 cores (about 0.5 core per worker) or cut workers to match the limit")
    return s


@case("corpus")
def cpu_jvm_gc_pauses_kafka() -> Snap:
    s = Snap("cpu-jvm-gc-pauses-kafka", cluster="payments-aks-neu", captured="2024-02-20T09:47:33Z", platform="aks",
             version="1.28", ns="fraud")
    d = _mk(s, "fraud-streams", [container(
        "streams", "acmepay.azurecr.io/fraud/fraud-streams:6.1.3", ports=[(8080, "http")],
        env={"JAVA_TOOL_OPTIONS": "-XX:+UseG1GC -XX:MaxRAMPercentage=70 -Xlog:gc:stdout"},
        resources=res("500m", "2Gi", "1", "2Gi"), readiness=http_probe("/actuator/health/readiness", 8080, timeout=2))],
        created=-6 * 3600, pool="streampool")
    steady(s, "streams", -6 * 3600 + 10, events=False, ready=False)
    s.event("Unhealthy", probe_timeout_message(s.version, "Readiness", f"http://{s.pod_ip}:8080/actuator/health/readiness"),
            count=63, first=-3300, last=-15, field="streams")
    finish_pod(s, ready_since=-65)
    d.emit(ready=1)
    cpu_pack(s, "streams", usage=lambda t: 0.995, throttled_frac=lambda t: 0.78, start=-3600, step=60, limit=1.0)
    gauge(s, "container_memory_working_set_bytes", labels(s, "streams"), lambda t: 1.71 * GI, -3600, 0, 60, noise=0.02)
    lines: list[tuple[float, str]] = []
    gc = 14211
    for t in range(-900, -10, 35):
        ms = s.rng.uniform(1400, 3900)
        lines.append((t, f"[{t + 21590 + s.rng.random():.3f}s][info][gc] GC({gc}) Pause Young (Normal) (G1 Evacuation Pause) "
                         f"{s.rng.randint(880, 1020)}M->{s.rng.randint(300, 420)}M(1433M) {ms:.3f}ms"))
        gc += s.rng.randint(2, 5)
    cons = "[Consumer clientId=fraud-streams-7c1e-StreamThread-2-consumer, groupId=fraud-streams] "
    for t, lvl, msg in [
            (-420, "WARN", cons + "consumer poll timeout has expired. This means the time between subsequent calls to "
                                  "poll() was longer than the configured max.poll.interval.ms, which typically implies "
                                  "that the poll loop is spending too much time processing messages. You can address "
                                  "this either by increasing max.poll.interval.ms or by reducing the maximum size of "
                                  "batches returned in poll() with max.poll.records."),
            (-419, "INFO", cons + "Member fraud-streams-7c1e-StreamThread-2-consumer-4b0e sending LeaveGroup request to "
                                  "coordinator kafka-2.kafka-headless.fraud.svc:9092 (id: 2147483645 rack: null) due to "
                                  "consumer poll timeout has expired."),
            (-300, "INFO", "stream-thread [fraud-streams-7c1e-StreamThread-2] State transition from RUNNING to "
                           "PARTITIONS_REVOKED")]:
        lines.append((t, render(s, "logback", [(t, lvl, msg)], logger="o.a.k.c.c.i.ConsumerCoordinator",
                                thread="fraud-streams-7c1e-StreamThread-2")))
    lines.sort(key=lambda x: x[0])
    s.log("streams", "\n".join(x[1] for x in lines))
    s.labels("cpu_throttling",
             why="Young-GC pauses of 1.4-3.9 s and Kafka poll-timeout rebalances look like a GC or broker problem, but "
                 "the container burns its whole 1-core limit with ~78% of CFS periods throttled: parallel GC threads "
                 "and stream threads are stalled by the quota, stretching pauses and missing max.poll.interval.ms.",
             remediation="raise the CPU limit to 2-3 cores (or remove it) and set -XX:ParallelGCThreads to the limit")
    return s


@case("corpus")
def cpu_node_event_loop_lag() -> Snap:
    s = Snap("cpu-node-event-loop-lag", cluster="web-gke-eu", captured="2025-02-04T20:15:48Z", platform="gke",
             version="1.31", ns="graphql", events_api="events")
    d = _mk(s, "graphql-gateway", [container(
        "gateway", "europe-docker.pkg.dev/acme-web/gw/graphql-gateway:14.2.0", command=["node", "server.mjs"],
        ports=[(4000, "http")], resources=res("100m", "384Mi", "200m", "768Mi"),
        readiness=http_probe("/.well-known/apollo/server-health", 4000, timeout=1))], created=-4 * 3600, replicas=8,
        pool="web-pool")
    steady(s, "gateway", -4 * 3600 + 8, events=False, ready=False)
    s.event("Unhealthy", probe_timeout_message(s.version, "Readiness",
                                               f"http://{s.pod_ip}:4000/.well-known/apollo/server-health"),
            count=88, first=-3000, last=-9, field="gateway")
    finish_pod(s)
    d.emit(ready=5)
    cpu_pack(s, "gateway", usage=lambda t: 0.2 if t > -3200 else 0.08, throttled_frac=lambda t: 0.92 if t > -3200 else 0.1,
             start=-3600, step=30, limit=0.2)
    ent: list[object] = []
    for t in range(-400, -5, 13):
        ent.append((t, "WARN", f"event loop lag {s.rng.randint(900, 2600)}ms (threshold 200ms)"))
        if s.rng.random() < 0.5:
            ent.append((t + 2, "ERROR", "subgraph 'inventory' request failed: timeout of 2000ms exceeded "
                                        "(POST http://inventory-subgraph.graphql.svc:4001/graphql)"))
    s.log("gateway", render(s, "pino", ent))
    s.labels("cpu_throttling",
             why="Subgraph 'timeout of 2000ms exceeded' errors look like a network problem, but the gateway's own "
                 "event loop lags 0.9-2.6 s: the 200m limit is saturated with ~92% of CFS periods throttled, so "
                 "responses (and readiness checks) are processed too late.",
             remediation="raise the gateway CPU limit to at least 1 core (and the request) or scale out; then re-check "
                         "subgraph latencies")
    return s


@case("corpus")
def cpu_startup_probe_slow_boot() -> Snap:
    s = Snap("cpu-startup-probe-slow-boot", cluster="idp-ocp", captured="2024-10-10T07:05:29Z", platform="openshift",
             version="1.30", ns="identity")
    runs = timeline(s, 4, lambda i: 150 + s.rng.uniform(0.5, 3), running_now=True)
    d = _mk(s, "auth-server", [container(
        "auth", "quay.io/acme-idp/auth-server:24.0.5", ports=[(8080, "http"), (9000, "management")],
        env={"JAVA_OPTS_KC_HEAP": "-XX:MaxRAMPercentage=65"}, resources=res("250m", "1Gi", "250m", "1Gi"),
        startup=http_probe("/health/started", 9000, period=5, failure=30, timeout=1),
        readiness=http_probe("/health/ready", 9000, period=10))], created=runs[0][0] - 4, replicas=2, pool="worker")
    crashloop(s, "auth", runs, exit_code=143, running_now=True, ready=False, started=False)
    s.event("Unhealthy", f'Startup probe failed: Get "http://{s.pod_ip}:9000/health/started": dial tcp {s.pod_ip}:9000: '
            "connect: connection refused", count=146, first=runs[0][0] + 5, last=-4, field="auth")
    s.event("Killing", "Container auth failed startup probe, will be restarted", type="Normal", count=4,
            first=runs[0][1] - 1, last=runs[-2][1] - 1, field="auth")
    finish_pod(s)
    d.emit(ready=1)
    run_at = lambda t: any(a <= t <= b for a, b in runs)  # noqa: E731
    cpu_pack(s, "auth", usage=lambda t: 0.2495 if run_at(t) else None, throttled_frac=lambda t: 0.97, start=-3600,
             step=30, resets=[a for a, _ in runs[1:]], limit=0.25)
    a, b = runs[-2]
    s.log("auth", render(s, "logback", [
        (a + 21, "INFO", "Loaded 412 extensions in 17214 ms"),
        (a + 88, "INFO", "Node name: auth-server, Site name: null"),
        (a + 139, "INFO", "Building the Infinispan cache configuration (12 caches)..."),
        (b - 0.4, "INFO", "Received SIGTERM, shutting down"),
    ], logger="org.acme.idp.Bootstrap", thread="main"), previous=True)
    s.labels("cpu_throttling", also=["probe_failure"],
             why="The startup probe allows 150 s and kubelet kills the container each time it expires (exit 143), but "
                 "the boot is slow because the JVM gets 250m: CPU is pinned at the limit with ~97% throttling and "
                 "boot stalls in cache setup. More probe budget would only hide the starvation; probe_failure is an "
                 "acceptable reading of the symptom.",
             remediation="give auth-server at least 1-2 cores during start-up (raise the CPU limit), then keep the "
                         "startup probe as is")
    return s


@case("corpus")
def cpu_istio_sidecar_throttled() -> Snap:
    s = Snap("cpu-istio-sidecar-throttled", cluster="mesh-eks-prod", captured="2024-06-18T16:40:03Z", platform="eks", region="eu-west-2",
             version="1.29", ns="order-api")
    app = container("orders", "554320119082.dkr.ecr.eu-west-2.amazonaws.com/orders/orders-api:8.3.1",
                    ports=[(8080, "http")], resources=res("500m", "512Mi", "2", "1Gi"),
                    readiness=http_probe("/app-health/orders/readyz", 15020))
    proxy = container("istio-proxy", "docker.io/istio/proxyv2:1.21.2", args=["proxy", "sidecar", "--concurrency", "2"],
                      ports=[(15090, "http-envoy-prom")], resources=res("50m", "128Mi", "100m", "256Mi"),
                      readiness=http_probe("/healthz/ready", 15021, period=15, timeout=3), restart_policy="Always")
    init = [container("istio-init", "docker.io/istio/proxyv2:1.21.2", args=["istio-iptables", "-p", "15001"],
                      resources=res("10m", "40Mi", "2", "1Gi")), proxy]
    d = _mk(s, "orders-api", [app], created=-2 * 86400, init=init, replicas=6, pool="apps")
    s.pod["metadata"]["annotations"] = {"sidecar.istio.io/proxyCPULimit": "100m", "sidecar.istio.io/proxyCPU": "50m"}
    s.status("istio-init", state=s.terminated(0, "Completed", -2 * 86400 + 5, -2 * 86400 + 6), ready=False)
    steady(s, "istio-proxy", -2 * 86400 + 7, events=False)
    s.statuses.pop("istio-proxy", None)
    s.init_statuses["istio-proxy"] = s.status("istio-proxy", state=s.running(-2 * 86400 + 7), started=True)
    steady(s, "orders", -2 * 86400 + 9, events=False)
    finish_pod(s)
    d.emit(ready=6)
    cpu_pack(s, "istio-proxy", usage=lambda t: 0.0998, throttled_frac=lambda t: 0.95, start=-3600, step=60, limit=0.1)
    cpu_pack(s, "orders", usage=lambda t: 0.31, throttled_frac=lambda t: 0.0, start=-3600, step=60, limit=2.0)
    ent = []
    for t in range(-300, -2, 6):
        dur = s.rng.randint(9000, 15000) if s.rng.random() < 0.35 else s.rng.randint(900, 4000)
        code, flag = ("504", "UT") if dur > 8000 else ("200", "-")
        ent.append(f'[{s.dt(t).strftime("%Y-%m-%dT%H:%M:%S")}.{s.rng.randint(100, 999)}Z] "POST /v1/orders HTTP/1.1" {code} {flag} '
                   f'upstream_reset_before_response_started{{-}} - "-" {s.rng.randint(400, 900)} {24 if code == "504" else 312} {dur} '
                   f'{dur - 12 if code == "200" else "-"} "-" "checkout-web/5.2" "{s.uid()}" "orders-api.order-api.svc:8080" '
                   f'"{s.pod_ip}:8080" inbound|8080|| 127.0.0.6:{s.rng.randint(33000, 60000)} {s.pod_ip}:8080 10.42.{s.rng.randint(0, 200)}.{s.rng.randint(2, 250)}:{s.rng.randint(33000, 60000)} - default')
    s.log("istio-proxy", "\n".join(ent))
    s.log("orders", render(s, "zap", [(t, "info", f"order created id=ord_{s.hexs(10)} latency_ms={s.rng.randint(18, 60)}")
                                      for t in range(-300, -2, 20)]))
    s.labels("cpu_throttling",
             why="The 504s with 9-15 s latency are added by the istio-proxy sidecar, not the app (orders answers in "
                 "<60 ms and uses 0.3 of 2 cores): the proxy is pinned at its 100m annotation limit with ~95% of CFS "
                 "periods throttled, so Envoy queues requests until the upstream timeout (UT).",
             remediation="raise sidecar.istio.io/proxyCPULimit (e.g. 1) and proxyCPU for orders-api, or drop the "
                         "proxy CPU limit mesh-wide")
    return s
