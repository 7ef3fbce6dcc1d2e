"""Corpus: probe_failure mechanisms (wrong path/port/scheme, too-early liveness, exec binaries, gRPC, slow checks)."""

from __future__ import annotations

from .common import (
    MI,
    Deployment,
    Snap,
    StatefulSet,
    case,
    cond,
    container,
    cpu_pack,
    crashloop,
    exec_probe,
    finish_pod,
    gauge,
    grpc_probe,
    http_probe,
    labels,
    mount,
    probe_timeout_message,
    render,
    res,
    secret_env,
    steady,
    timeline,
)


def _mk(s: Snap, owner: object, c: dict, *, created: float, pool: str = "workers", volumes: list | None = None) -> None:
    s.make_pod(owner.pod_name, generate_name=owner.generate_name, owner=owner.owner, labels=owner.pod_labels,  # type: ignore[attr-defined]
               node=s.new_node(pool), created=created, containers=[c], volumes=volumes)
    s.ev_scheduled()


def _kills(s: Snap, c: str, runs: list, kind: str, message: str, per_run: int = 3) -> None:
    restarts = len(runs) - 1
    s.event("Unhealthy", message, count=max(1, restarts * per_run + s.rng.randint(0, 2)), first=runs[0][1] - 20,
            last=-s.rng.uniform(2, 9), field=c)
    s.event("Killing", f"Container {c} failed {kind} probe, will be restarted", type="Normal", count=restarts,
            first=runs[0][1] - 1, last=runs[-2][1] - 1 if restarts > 1 else runs[0][1] - 1, field=c)


@case("corpus")
def probe_liveness_404_series() -> Snap:
    s = Snap("probe-liveness-404-series", cluster="geo-gke", captured="2025-01-22T11:36:28Z", platform="gke",
             version="1.31", ns="geo", events_api="events")
    d = Deployment(s, "geocoder", replicas=3, labels={"app": "geocoder"}, revision=52)
    runs = timeline(s, 7, lambda i: 30 + s.rng.uniform(1, 2), running_now=True)
    _mk(s, d, container("geocoder", "europe-west4-docker.pkg.dev/acme-geo/svc/geocoder:2.19.0", ports=[(8080, "http")],
                        resources=res("200m", "256Mi", "1", "512Mi"), liveness=http_probe("/healthz", 8080, period=10),
                        readiness=http_probe("/readyz", 8080)), created=runs[0][0] - 5, pool="default-pool")
    crashloop(s, "geocoder", runs, exit_code=143, running_now=True, ready=True)
    _kills(s, "geocoder", runs, "liveness", "Liveness probe failed: HTTP probe failed with statuscode: 404")
    finish_pod(s)
    d.emit(ready=3)
    a = runs[-1][0]
    ent = [(a + 0.1, "INFO", "geocoder 2.19.0 listening addr=:8080 routes=\"/readyz /livez /v1/geocode /v1/reverse\"")]
    ent += [(a + k * 10 + 2, "INFO", f"http request method=GET path=/healthz status=404 duration=0.1ms ua=kube-probe/{s.version}")
            for k in range(3)]
    s.log("geocoder", render(s, "slog", ent))
    s.labels("probe_failure",
             why="The geocoder starts fine and serves /readyz and /livez, but its livenessProbe still targets "
                 "/healthz, which the 2.19 router dropped (404). kubelet kills it every ~30 s (exit 143 on SIGTERM).",
             remediation="change livenessProbe.httpGet.path to /livez")
    return s


@case("corpus")
def probe_readiness_wrong_port_refused() -> Snap:
    s = Snap("probe-readiness-wrong-port-refused", cluster="cms-eks", captured="2023-11-21T15:12:09Z", platform="eks", region="eu-north-1",
             version="1.27", ns="headless-cms")
    d = Deployment(s, "content-api", replicas=3, labels={"app": "content-api"}, revision=19)
    _mk(s, d, container("api", "104211009222.dkr.ecr.eu-north-1.amazonaws.com/cms/content-api:7.0.0",
                        command=["node", "build/server.js"], env={"PORT": "3000"}, ports=[(8080, "http")],
                        resources=res("100m", "256Mi", "500m", "512Mi"), readiness=http_probe("/health", 8080, period=5)),
        created=-1320, pool="apps")
    steady(s, "api", -1314, ready=False)
    s.event("Unhealthy", f'Readiness probe failed: Get "http://{s.pod_ip}:8080/health": dial tcp {s.pod_ip}:8080: '
            "connect: connection refused", count=262, first=-1310, last=-3, field="api")
    finish_pod(s)
    d.emit(ready=2, updated=1, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 11, -86400 * 11),
        cond("Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "{d.rs_name}" has timed out progressing.', s, -700, -700)])
    s.log("api", render(s, "pino", [(-1313, "INFO", "content-api 7.0.0 (fastify) listening at http://0.0.0.0:3000"),
                                    (-1200, "INFO", "cache warmed: 1841 entries")]))
    s.labels("probe_failure",
             why="The app listens on 3000 (PORT env) but containerPort and the readiness probe use 8080, so every "
                 "probe gets 'connection refused' and the pod never becomes Ready; the rollout times out. 'Connection "
                 "refused' here is the probe hitting a closed port, not a network fault.",
             remediation="point the readiness probe and containerPort at 3000 (or set PORT=8080)")
    return s


@case("corpus")
def probe_liveness_too_early_jvm() -> Snap:
    s = Snap("probe-liveness-too-early-jvm", cluster="hr-kubeadm", captured="2023-06-14T08:27:40Z", platform="kubeadm",
             version="1.24", ns="hr")
    d = Deployment(s, "leave-service", replicas=2, labels={"app": "leave-service"}, revision=33)
    runs = timeline(s, 6, lambda i: 60 + s.rng.uniform(0.5, 2))
    _mk(s, d, container("leave", "harbor.hr.example/hr/leave-service:5.2.0", ports=[(8080, "http")],
                        resources=res("1", "1536Mi", "4", "1536Mi"),
                        liveness=http_probe("/actuator/health/liveness", 8080, delay=30, period=10, failure=3),
                        readiness=http_probe("/actuator/health/readiness", 8080, delay=30)), created=runs[0][0] - 5,
        pool="k8s-wrk")
    crashloop(s, "leave", runs, exit_code=143)
    _kills(s, "leave", runs, "liveness", f'Liveness probe failed: Get "http://{s.pod_ip}:8080/actuator/health/liveness": '
           f"dial tcp {s.pod_ip}:8080: connect: connection refused")
    finish_pod(s)
    d.emit(ready=1)
    run_at = lambda t: any(a <= t <= b for a, b in runs)  # noqa: E731
    cpu_pack(s, "leave", usage=lambda t: 0.85 if run_at(t) else None, throttled_frac=lambda t: 0.01, start=-3600,
             step=30, resets=[a for a, _ in runs[1:]], limit=4.0)
    a, b = runs[-1]
    s.log("leave", render(s, "spring", [
        (a + 3, "INFO", "Starting LeaveServiceApplication v5.2.0 using Java 17.0.7 with PID 1"),
        (a + 9, "INFO", "Flyway Community Edition 9.16.0 by Redgate"),
        (a + 11, "INFO", "Migrating schema \"leave\" to version \"212 - backfill accruals 2023\""),
        (b - 0.6, "INFO", "Commencing graceful shutdown. Waiting for active requests to complete"),
    ], logger="c.a.hr.leave.LeaveServiceApplication"), previous=True)
    s.labels("probe_failure",
             why="Each start runs a long Flyway migration before the HTTP port opens; the liveness probe starts after "
                 "30 s and kills the JVM at ~60 s (3 x connection refused), so the migration never finishes. CPU is "
                 "~0.85 of 4 cores with no throttling - the probe timing is wrong, not the resources.",
             remediation="add a startupProbe (e.g. failureThreshold 30 x 10 s) or run migrations in a Job/init "
                         "container; keep the liveness probe for steady state")
    return s


@case("corpus")
def probe_exec_mongo_shell_missing() -> Snap:
    s = Snap("probe-exec-mongo-shell-missing", cluster="apps-eks-syd", captured="2024-02-02T03:44:31Z", platform="eks", region="ap-southeast-2",
             version="1.28", ns="catalog-db")
    st = StatefulSet(s, "catalog-mongo", replicas=3, ordinal=0)
    runs = timeline(s, 5, lambda i: 40 + s.rng.uniform(0.5, 1.5), running_now=True)
    _mk(s, st, container("mongod", "docker.io/library/mongo:7.0.5", args=["--replSet", "rs0", "--bind_ip_all"],
                         ports=[(27017, "mongo")], resources=res("500m", "2Gi", "2", "2Gi"),
                         liveness=exec_probe(["mongo", "--quiet", "--eval", "db.adminCommand('ping')"], delay=10, timeout=5),
                         mounts=[mount("data", "/data/db")]),
        created=runs[0][0] - 4, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-catalog-mongo-0"}}])
    crashloop(s, "mongod", runs, exit_code=0, reason="Completed", running_now=True, ready=True)
    _kills(s, "mongod", runs, "liveness", 'Liveness probe errored: rpc error: code = Unknown desc = failed to exec in '
           'container: failed to start exec "' + s.hexs(64) + '": OCI runtime exec failed: exec failed: unable to start '
           'container process: exec: "mongo": executable file not found in $PATH: unknown')
    finish_pod(s)
    st.emit(ready=2, service="catalog-mongo-headless")
    a, b = runs[-2]
    def mongo(t: float, ms: str, rest: str) -> str:
        return '{"t":{"$date":"' + s.dt(t).strftime("%Y-%m-%dT%H:%M:%S.") + ms + '+00:00"},"s":"I",  ' + rest

    s.log("mongod", "\n".join([
        mongo(a + 2, "412", '"c":"NETWORK",  "id":23016,   "ctx":"listener","msg":"Waiting for connections","attr":{"port":27017,"ssl":"off"}}'),
        mongo(a + 14, "087", '"c":"REPL",     "id":21358,   "ctx":"ReplCoord-0","msg":"Replica set state transition","attr":{"newState":"PRIMARY","oldState":"SECONDARY"}}'),
        mongo(b - 0.5, "733", '"c":"CONTROL",  "id":23377,   "ctx":"SignalHandler","msg":"Received signal","attr":{"signal":15,"error":"Terminated"}}'),
        mongo(b - 0.1, "951", '"c":"CONTROL",  "id":20565,   "ctx":"SignalHandler","msg":"Now exiting"}'),
        mongo(b - 0.05, "960", '"c":"CONTROL",  "id":23138,   "ctx":"SignalHandler","msg":"Shutting down","attr":{"exitCode":0}}')]),
        previous=True)
    s.labels("probe_failure",
             why="mongod is healthy (becomes PRIMARY) but the exec liveness probe calls the legacy 'mongo' shell, "
                 "which MongoDB 6+ images no longer ship; the probe errors with 'executable file not found' and the "
                 "kubelet restarts the database every ~40 s (clean exit 0 on SIGTERM).",
             remediation="use mongosh in the probe command (mongosh --quiet --eval \"db.adminCommand('ping')\") or a "
                         "tcpSocket probe on 27017")
    return s


@case("corpus")
def probe_grpc_health_unimplemented() -> Snap:
    s = Snap("probe-grpc-health-unimplemented", cluster="trading-gke", captured="2024-05-16T14:03:58Z", platform="gke",
             version="1.28", ns="pricing")
    d = Deployment(s, "quote-engine", replicas=4, labels={"app": "quote-engine"}, revision=88)
    runs = timeline(s, 5, lambda i: 50 + s.rng.uniform(0.5, 1.5), running_now=True)
    _mk(s, d, container("engine", "us-east1-docker.pkg.dev/acme-trading/core/quote-engine:13.0.0",
                        ports=[(50051, "grpc")], resources=res("2", "2Gi", "2", "2Gi"),
                        liveness=grpc_probe(50051, delay=20, period=10), readiness=grpc_probe(50051, period=5)),
        created=runs[0][0] - 5, pool="trading-pool")
    crashloop(s, "engine", runs, exit_code=2, running_now=True, ready=False)
    _kills(s, "engine", runs, "liveness", "Liveness probe failed: rpc error: code = Unimplemented desc = unknown "
           "service grpc.health.v1.Health")
    s.event("Unhealthy", "Readiness probe failed: rpc error: code = Unimplemented desc = unknown service "
            "grpc.health.v1.Health", count=58, first=runs[0][0] + 3, last=-2, field="engine")
    finish_pod(s)
    d.emit(ready=0)
    a = runs[-1][0]
    s.log("engine", render(s, "zap", [(a + 0.2, "info", "quote-engine 13.0.0 serving gRPC on :50051 services=[acme.pricing.v3.QuoteService grpc.reflection.v1.ServerReflection]"),
                                      (a + 4, "info", "subscribed to market data feed venues=7")],
                           caller=("cmd/engine/main.go:119", "internal/md/feed.go:64")))
    s.labels("probe_failure",
             why="The server registers only QuoteService and reflection; after the 13.0 refactor the standard "
                 "grpc.health.v1.Health service is no longer registered, so the kubelet's native gRPC probes get "
                 "'Unimplemented: unknown service' - never Ready, and liveness restarts it every ~50 s.",
             remediation="register the gRPC health server (health.NewServer) in quote-engine again, or switch the probes "
                         "to tcpSocket until it is back")
    return s


@case("corpus")
def probe_https_scheme_on_http() -> Snap:
    s = Snap("probe-https-scheme-on-http", cluster="gov-aks", captured="2024-09-03T09:58:02Z", platform="aks",
             version="1.28", ns="permits")
    d = Deployment(s, "permit-portal", replicas=2, labels={"app": "permit-portal"}, revision=6)
    runs = timeline(s, 4, lambda i: 45 + s.rng.uniform(0.5, 2), running_now=True)
    _mk(s, d, container("portal", "acmegov.azurecr.io/permits/portal:1.4.3", ports=[(8080, "http")],
                        env={"ASPNETCORE_URLS": "http://+:8080"}, resources=res("100m", "256Mi", "500m", "512Mi"),
                        liveness=http_probe("/healthz", 8080, delay=15, period=10, scheme="HTTPS")),
        created=runs[0][0] - 5, pool="userpool")
    crashloop(s, "portal", runs, exit_code=0, reason="Completed", running_now=True, ready=True)
    _kills(s, "portal", runs, "liveness", f'Liveness probe failed: Get "https://{s.pod_ip}:8080/healthz": http: server '
           "gave HTTP response to HTTPS client")
    finish_pod(s)
    d.emit(ready=2)
    a, b = runs[-2]
    s.log("portal", render(s, "dotnet", [(a + 1, "INFO", "Now listening on: http://[::]:8080"),
                                         (a + 1, "INFO", "Application started. Press Ctrl+C to shut down."),
                                         (b - 0.3, "INFO", "Application is shutting down...")],
                           logger="Microsoft.Hosting.Lifetime"), previous=True)
    s.labels("probe_failure",
             why="The liveness probe uses scheme HTTPS against Kestrel's plain-HTTP port 8080 ('server gave HTTP "
                 "response to HTTPS client'), so every check fails and the kubelet restarts a healthy app every ~45 s; "
                 "it exits 0 because it shuts down gracefully.",
             remediation="set livenessProbe.httpGet.scheme to HTTP (TLS terminates at the ingress)")
    return s


@case("corpus")
def probe_slow_deep_healthcheck() -> Snap:
    s = Snap("probe-slow-deep-healthcheck", cluster="market-eks", captured="2024-10-28T20:31:15Z", platform="eks", region="eu-west-1",
             version="1.30", ns="marketplace")
    d = Deployment(s, "listings-web", replicas=6, labels={"app": "listings-web"}, revision=140)
    runs = timeline(s, 3, lambda i: s.rng.uniform(500, 900), running_now=True)
    _mk(s, d, container("django", "581144120098.dkr.ecr.eu-west-1.amazonaws.com/market/listings-web:2024.10.28",
                        command=["gunicorn", "listings.wsgi", "-w", "4", "-b", ":8000"], ports=[(8000, "http")],
                        env={"DATABASE_URL": secret_env("listings-db", "url")}, resources=res("500m", "1Gi", "2", "1Gi"),
                        liveness=http_probe("/healthz/", 8000, period=15, timeout=1, failure=3)),
        created=runs[0][0] - 5, pool="apps")
    crashloop(s, "django", runs, exit_code=0, reason="Completed", running_now=True, ready=True)
    _kills(s, "django", runs, "liveness", probe_timeout_message(s.version, "Liveness", f"http://{s.pod_ip}:8000/healthz/"),
           per_run=4)
    finish_pod(s)
    d.emit(ready=6)
    run_at = lambda t: any(a <= t <= b for a, b in runs)  # noqa: E731
    cpu_pack(s, "django", usage=lambda t: 0.31 if run_at(t) else None, throttled_frac=lambda t: 0.0, start=-3600,
             step=60, resets=[a for a, _ in runs[1:]], limit=2.0)
    a = runs[-1][0]
    ent = [(a + 1, "INFO", "Booting worker with pid: 9")]
    for k in range(5):
        t = a + 20 + k * 15
        ent.append((t, "INFO", f'health check db=ok(41ms) redis=ok(3ms) s3=ok({s.rng.randint(1100, 1700)}ms) '
                               f'search=ok({s.rng.randint(180, 320)}ms) total={s.rng.randint(1350, 2100)}ms'))
    s.log("django", render(s, "python", ent, logger="listings.health"))
    s.labels("probe_failure",
             why="The liveness endpoint runs a deep dependency check (DB, Redis, S3, search) that takes 1.3-2.1 s - "
                 "mostly the S3 round trip - against a 1 s timeoutSeconds, so probes time out although CPU is idle "
                 "(0.3 of 2 cores, no throttling) and every dependency answers ok.",
             remediation="make /healthz/ a shallow liveness check (process alive) and move dependency checks to the "
                         "readiness probe, or raise timeoutSeconds to 5")
    return s


@case("corpus")
def probe_exec_heartbeat_path_exit137() -> Snap:
    s = Snap("probe-exec-heartbeat-path-exit137", cluster="logistics-kubeadm", captured="2024-04-24T22:13:47Z",
             platform="kubeadm", version="1.29", ns="dispatch")
    d = Deployment(s, "route-dispatcher", replicas=2, labels={"app": "route-dispatcher"}, revision=38)
    runs = timeline(s, 5, lambda i: 95 + s.rng.uniform(0.5, 2.5))
    _mk(s, d, container("dispatcher", "registry.logistics.example/dispatch/route-dispatcher:3.0.0",
                        command=["sh", "-c", "python -m dispatcher.worker"], env={"HEARTBEAT_FILE": "/var/run/dispatcher/heartbeat"},
                        resources=res("250m", "256Mi", "1", "512Mi"),
                        liveness=exec_probe(["sh", "-c", "test $(( $(date +%s) - $(stat -c %Y /tmp/heartbeat) )) -lt 60"],
                                            delay=30, period=10, failure=3),
                        mounts=[mount("run", "/var/run/dispatcher")]),
        created=runs[0][0] - 5, pool="k8s-wrk", volumes=[{"emptyDir": {}, "name": "run"}])
    crashloop(s, "dispatcher", runs, exit_code=137)
    _kills(s, "dispatcher", runs, "liveness", "Liveness probe failed: stat: cannot statx '/tmp/heartbeat': No such file "
           "or directory\nsh: 1: arithmetic expression: expecting primary: \" " + str(s.unix(-60)) + " -  \"")
    finish_pod(s)
    d.emit(ready=0)
    run_at = lambda t: any(a <= t <= b for a, b in runs)  # noqa: E731
    cpu_pack(s, "dispatcher", usage=lambda t: 0.12 if run_at(t) else None, throttled_frac=lambda t: 0.0, start=-3600,
             step=60, resets=[a for a, _ in runs[1:]], limit=1.0)
    gauge(s, "container_memory_working_set_bytes", labels(s, "dispatcher"), lambda t: 181 * MI if run_at(t) else None,
          -3600, 0, 60, noise=0.02)
    a, b = runs[-1]
    ent = [(a + 1, "INFO", "route-dispatcher 3.0.0 worker started (heartbeat file /var/run/dispatcher/heartbeat)")]
    ent += [(a + 5 + k * 15, "INFO", f"dispatched batch={k + 1} routes={s.rng.randint(30, 90)} heartbeat written")
            for k in range(int((b - a - 10) // 15))]
    s.log("dispatcher", render(s, "python", ent, logger="dispatcher.worker"), previous=True)
    s.labels("probe_failure",
             why="Exit 137 here is not OOM (memory ~180Mi of 512Mi, reason Error): the liveness exec checks "
                 "/tmp/heartbeat but 3.0.0 writes its heartbeat to /var/run/dispatcher/heartbeat, so the probe always "
                 "fails; kubelet kills the container after ~60 s and, because sh -c does not forward SIGTERM to "
                 "python, it is SIGKILLed after the grace period.",
             remediation="point the liveness command at $HEARTBEAT_FILE (/var/run/dispatcher/heartbeat) and exec "
                         "python directly (command: [python, -m, dispatcher.worker]) so SIGTERM reaches it")
    return s
