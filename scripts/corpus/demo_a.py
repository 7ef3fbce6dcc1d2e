"""Demo incidents (examples/), part 1: oom_killed, crash_loop, image_pull, cpu_throttling, network, disk, config."""

from __future__ import annotations

from .common import (  # noqa: F401
    GI,
    MI,
    Deployment,
    Job,
    Snap,
    add,
    case,
    cond,
    container,
    cpu_pack,
    crashloop,
    every,
    finish_pod,
    gauge,
    http_probe,
    labels,
    mem_limit,
    node,
    node_fs,
    ramp,
    render,
    res,
    running_in,
    sample,
    secret_env,
    steady,
    tcp_probe,
    timeline,
)


@case("demo")
def payments_oom() -> Snap:
    s = Snap("payments-oom", cluster="prod-eu-west-1", captured="2025-02-11T14:32:08Z", platform="eks", region="eu-west-1",
             version="1.29", ns="payments-core")
    d = Deployment(s, "payments-api", replicas=4, labels={"app": "payments-api", "team": "payments"}, revision=112)
    nn = s.new_node(region="eu-west-1")
    runs = timeline(s, 6, lambda i: s.rng.uniform(390, 470))
    img = "412938575112.dkr.ecr.eu-west-1.amazonaws.com/payments/payments-api:v2.41.0"
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 9, sa="payments-api", containers=[container(
                   "api", img, ports=[(8080, "http"), (9090, "metrics")],
                   env={"PSP_BASE_URL": "https://api.psp.example.net", "IDEMPOTENCY_TTL": "72h",
                        "GOMAXPROCS": "2", "DB_DSN": secret_env("payments-db", "dsn")},
                   resources=res("250m", "256Mi", "2", "512Mi"),
                   liveness=http_probe("/livez", "http", period=10, failure=3),
                   readiness=http_probe("/readyz", "http", period=5))])
    s.ev_scheduled()
    crashloop(s, "api", runs, exit_code=137, reason="OOMKilled")
    finish_pod(s)
    node(s, nn, pool="general-m6i", zone="eu-west-1b", instance="m6i.2xlarge", cpu=8, mem_gi=32)
    d.emit(ready=3)
    gauge(s, "container_memory_working_set_bytes", labels(s, "api"),
          ramp(runs, 71 * MI, 511 * MI, curve=0.8), max(runs[0][0], -3600), 0, 30, noise=0.012, cap=512 * MI)
    mem_limit(s, "api", 512 * MI, -3600)
    prev_start, prev_end = runs[-1]
    entries: list[object] = [(prev_start + 0.4, "info", "payments-api starting version=v2.41.0 commit=9f3c2e1"),
                             (prev_start + 0.9, "info", "connected to postgres pool_size=20"),
                             (prev_start + 1.1, "info", "http server listening addr=:8080")]
    size = 0
    t = prev_start + 30
    while t < prev_end - 3:
        size += s.rng.randint(5200, 6900)
        entries.append((t, "info", f"idempotency cache stats entries={size} evictions=0 hit_ratio=0.{s.rng.randint(11, 19)}"))
        t += 60
    entries.append((prev_end - 2, "warn", "psp webhook handler slow path=/v1/webhooks/psp duration_ms=1874"))
    s.log("api", render(s, "zap", entries, caller=("cmd/payments-api/main.go:88", "internal/idem/cache.go:142", "internal/psp/webhook.go:57")), previous=True)
    s.labels("oom_killed", hard=False,
             why="lastState OOMKilled (exit 137) on every restart; working set climbs linearly to the 512Mi limit "
                 "in ~7 minutes while the in-memory idempotency cache grows with evictions=0.",
             remediation="bound the idempotency cache (size/TTL eviction, or move it to Redis) and raise the api "
                         "memory limit from 512Mi while the fix ships")
    return s


@case("demo")
def shop_crash_loop() -> Snap:
    s = Snap("shop-crash-loop", cluster="shop-prod-gke", captured="2024-11-28T19:04:51Z", platform="gke",
             version="1.30", ns="storefront", events_api="events")
    d = Deployment(s, "storefront-django", replicas=6, labels={"app": "storefront", "component": "web"}, revision=58)
    nn = s.new_node("shop-pool-n2")
    runs = timeline(s, 5, lambda i: s.rng.uniform(2.5, 4.0))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 14, containers=[container(
                   "web", "europe-west4-docker.pkg.dev/acme-shop/web/storefront:2024.11.28-3",
                   command=["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"],
                   env={"DJANGO_SETTINGS_MODULE": "shop.settings.production", "DJANGO_ALLOWED_HOSTS": "shop.acme.example"},
                   ports=[(8000, "http")], resources=res("200m", "384Mi", None, "768Mi"),
                   readiness=http_probe("/healthz/", 8000, period=10))])
    s.ev_scheduled()
    crashloop(s, "web", runs, exit_code=3)
    finish_pod(s)
    d.emit(ready=6, rs_created=-900, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 4, -86400 * 4),
        cond("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{d.rs_name}" is progressing.', s, -880, -880)],
        updated=2)
    a, b = runs[-1]
    tb = [
        (a + 0.2, "INFO", "Starting gunicorn 22.0.0"), (a + 0.21, "INFO", "Listening at: http://0.0.0.0:8000 (1)"),
        (a + 0.22, "INFO", "Using worker: sync"), (a + 0.3, "INFO", "Booting worker with pid: 7"),
        (a + 1.9, "ERROR", "Exception in worker process"),
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.12/site-packages/gunicorn/arbiter.py", line 609, in spawn_worker',
        "    worker.init_process()",
        '  File "/usr/local/lib/python3.12/site-packages/gunicorn/workers/base.py", line 134, in init_process',
        "    self.load_wsgi()",
        '  File "/usr/local/lib/python3.12/site-packages/django/core/wsgi.py", line 12, in get_wsgi_application',
        "    django.setup(set_prefix=False)",
        '  File "/usr/local/lib/python3.12/site-packages/django/apps/registry.py", line 91, in populate',
        "    app_config = AppConfig.create(entry)",
        '  File "/app/catalog/apps.py", line 11, in ready',
        "    from catalog import signals  # noqa: F401",
        '  File "/app/catalog/signals.py", line 4, in <module>',
        "    from django.utils.encoding import force_text",
        "ImportError: cannot import name 'force_text' from 'django.utils.encoding' "
        "(/usr/local/lib/python3.12/site-packages/django/utils/encoding.py)",
        (a + 2.0, "INFO", "Worker exiting (pid: 7)"),
        (a + 2.3, "ERROR", "Worker (pid:7) exited with code 3"),
        (a + 2.3, "ERROR", "Shutting down: Master"), (a + 2.3, "ERROR", "Reason: Worker failed to boot.")]
    s.log("web", render(s, "gunicorn", tb), previous=True)
    s.labels("crash_loop", hard=False,
             why="gunicorn's worker dies at import time with an ImportError from the shop's own code (force_text "
                 "was removed in Django 4), so the master exits 3 and the container crash-loops; the new "
                 "ReplicaSet is mid-rollout, the old pods still serve.",
             remediation="roll back deployment/storefront-django and replace force_text with force_str in "
                         "catalog/signals.py before re-releasing")
    return s


@case("demo")
def accounts_image_pull() -> Snap:
    s = Snap("accounts-image-pull", cluster="core-banking-gke", captured="2025-01-20T08:17:33Z", platform="gke",
             version="1.29", ns="accounts")
    d = Deployment(s, "accounts-service", replicas=3, labels={"app": "accounts-service"}, revision=204)
    nn = s.new_node("core-pool-c3")
    img = "europe-west1-docker.pkg.dev/acme-core/services/accounts-service:3.18.0"
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn, created=-1260,
               containers=[container("accounts", img, ports=[(8080, "http"), (8081, "management")],
                                     env={"SPRING_PROFILES_ACTIVE": "prod", "JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=75"},
                                     resources=res("500m", "1Gi", None, "1Gi"),
                                     readiness=http_probe("/actuator/health/readiness", 8081, delay=20))])
    s.ev_scheduled()
    s.status("accounts", state=s.waiting("ImagePullBackOff", f'Back-off pulling image "{img}"'), image_ok=False)
    ref = img.replace("europe-west1-docker.pkg.dev/", "europe-west1-docker.pkg.dev/")
    s.event("Pulling", f'Pulling image "{img}"', type="Normal", count=8, first=-1257, last=-262, field="accounts")
    s.event("Failed", f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed to pull and unpack '
                      f'image "{ref}": failed to resolve reference "{ref}": {ref}: not found',
            count=8, first=-1256, last=-261, field="accounts")
    s.event("Failed", "Error: ErrImagePull", count=8, first=-1256, last=-261, field="accounts")
    s.event("BackOff", f'Back-off pulling image "{img}"', type="Normal", count=83, first=-1255, last=-12,
            field="accounts")
    s.event("Failed", "Error: ImagePullBackOff", count=83, first=-1255, last=-12, field="accounts")
    finish_pod(s)
    d.emit(ready=3, rs_created=-1262, updated=1, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 9, -86400 * 9),
        cond("Progressing", "False", "ProgressDeadlineExceeded",
             f'ReplicaSet "{d.rs_name}" has timed out progressing.', s, -660, -660)])
    s.labels("image_pull", hard=False,
             why="The kubelet cannot resolve tag 3.18.0 in Artifact Registry (NotFound: failed to resolve "
                 "reference), so the container is stuck in ImagePullBackOff and the rollout hit its progress deadline.",
             remediation="publish accounts-service:3.18.0 (the CI push step failed) or roll the Deployment back to "
                         "the previous tag")
    return s


@case("demo")
def recommendations_cpu_throttling() -> Snap:
    s = Snap("recommendations-cpu-throttling", cluster="retail-aks-weu", captured="2024-10-03T12:48:10Z",
             platform="aks", version="1.28", ns="personalization")
    d = Deployment(s, "recommendations", replicas=5, labels={"app": "recommendations"}, revision=31)
    nn = s.new_node("userpool")
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=-5 * 3600, containers=[container(
                   "api", "acmeretail.azurecr.io/personalization/recommendations:1.9.2",
                   command=["uvicorn", "recs.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"],
                   ports=[(8000, "http")], resources=res("250m", "1Gi", "500m", "2Gi"),
                   readiness=http_probe("/ready", 8000, period=10, timeout=2),
                   liveness=http_probe("/live", 8000, period=20, timeout=5, failure=6))])
    s.ev_scheduled()
    steady(s, "api", -5 * 3600 + 20, ready=True, events=False)
    url = f"http://{s.pod_ip}:8000/ready"
    s.event("Unhealthy", f'Readiness probe failed: Get "{url}": context deadline exceeded (Client.Timeout exceeded '
                         "while awaiting headers)", count=37, first=-2400, last=-70)
    finish_pod(s)
    node(s, nn, pool="userpool", zone="westeurope-2", instance="Standard_D8s_v5", cpu=8, mem_gi=32)
    d.emit(ready=5)
    busy = lambda t: 0.5 if t > -2700 else 0.21  # noqa: E731
    cpu_pack(s, "api", usage=lambda t: busy(t) * s.rng.uniform(0.96, 1.0) if t > -2700 else 0.21 * s.rng.uniform(0.8, 1.2),
             throttled_frac=lambda t: 0.88 if t > -2700 else 0.07, start=-3600, step=60, limit=0.5)
    gauge(s, "container_memory_working_set_bytes", labels(s, "api"), lambda t: 1.21 * GI, -3600, 0, 60, noise=0.01)
    entries = every(-600, -5, 9, "INFO", lambda i, t: (
        f'10.244.{s.rng.randint(0, 9)}.{s.rng.randint(2, 250)}:{s.rng.randint(32768, 60999)} - "POST /v2/recommendations HTTP/1.1" 200 OK' if i % 4
        else None), s)
    slow = every(-590, -8, 23, "WARN", lambda i, t: (
        f"recs.api slow request path=/v2/recommendations user_segment=returning items=40 "
        f"duration_ms={s.rng.randint(2100, 5400)} model_ms={s.rng.randint(1900, 5100)}"), s)
    s.log("api", render(s, "uvicorn", sorted(entries + slow, key=lambda e: e[0])))  # type: ignore[index]
    s.labels("cpu_throttling", hard=False,
             why="Four uvicorn workers share a 500m CPU limit: usage is pinned at 0.5 core and ~88% of CFS periods "
                 "are throttled since traffic rose 45 minutes ago, so model scoring takes seconds and readiness "
                 "probes time out. Memory is flat and there are no restarts.",
             remediation="raise the api CPU limit to 2 (or remove it, keeping the request) or run 1 worker per 500m")
    return s


@case("demo")
def notifications_network() -> Snap:
    s = Snap("notifications-network", cluster="prod-us-east-2", captured="2024-08-22T02:11:45Z", platform="eks", region="us-east-2",
             version="1.28", ns="messaging")
    d = Deployment(s, "notifications-service", replicas=3, labels={"app": "notifications"}, revision=77)
    nn = s.new_node(region="us-east-2")
    runs = timeline(s, 4, lambda i: s.rng.uniform(41, 44))
    redis = "notif-cache.q7x2mz.ng.0001.use2.cache.amazonaws.com"
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 6, containers=[container(
                   "notifications", "734182005123.dkr.ecr.us-east-2.amazonaws.com/notifications-service:5.2.1",
                   command=["node", "dist/server.js"], ports=[(3000, "http")],
                   env={"REDIS_URL": f"rediss://{redis}:6379", "NODE_ENV": "production",
                        "APNS_KEY_ID": secret_env("apns", "key-id")},
                   resources=res("100m", "256Mi", "1", "512Mi"), readiness=http_probe("/health", 3000))])
    s.ev_scheduled()
    crashloop(s, "notifications", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0, conditions=[
        cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", s, -2100, -2100),
        cond("Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{d.rs_name}" has successfully progressed.', s, -86400 * 6, -86400 * 6)])
    a, b = runs[-1]
    ip = f"10.30.{s.rng.randint(1, 200)}.{s.rng.randint(2, 250)}"
    entries: list[object] = [(a + 0.3, "INFO", "notifications-service 5.2.1 starting (node v20.15.1)"),
                             (a + 0.4, "INFO", "loaded 14 templates from /app/templates"),
                             (a + 0.5, "INFO", f"connecting to redis rediss://{redis}:6379")]
    for i in range(1, 21):
        entries.append((a + 0.5 + i * 2.05, "WARN", f"redis reconnecting attempt={i} delay_ms={min(2000, 50 * i * i)} "
                                                    f"error=\"connect ETIMEDOUT {ip}:6379\""))
    entries.append((b - 0.2, "FATAL", f"giving up on redis after 20 attempts: Error: connect ETIMEDOUT {ip}:6379"))
    text = render(s, "pino", entries) + "\n" + "\n".join([
        f"Error: connect ETIMEDOUT {ip}:6379",
        "    at TLSSocket.<anonymous> (/app/node_modules/ioredis/built/Redis.js:170:41)",
        "    at Object.onceWrapper (node:events:633:28)",
        "    at TLSSocket.emit (node:events:519:28)",
        "    at Socket._onTimeout (node:net:595:8)",
        "    at listOnTimeout (node:internal/timers:581:17)",
        "    at process.processTimers (node:internal/timers:519:7) {",
        "  errorno: 'ETIMEDOUT',", "  code: 'ETIMEDOUT',", "  syscall: 'connect'", "}"])
    s.log("notifications", text, previous=True)
    s.labels("network", hard=False,
             why="Every TCP connect to the ElastiCache endpoint times out (ETIMEDOUT, not refused, DNS resolves); the "
                 "service exits after 20 attempts. All replicas fail the same way since 01:35, pointing at the "
                 "security group / route between the node subnet and the cache.",
             remediation="allow the EKS node security group on 6379 in the ElastiCache security group (or fix the "
                         "subnet route), then restart the Deployment")
    return s


@case("demo")
def transcoder_disk_pressure() -> Snap:
    s = Snap("transcoder-disk-pressure", cluster="media-aks-neu", captured="2024-12-09T21:40:02Z", platform="aks",
             version="1.29", ns="media")
    d = Deployment(s, "video-transcoder", replicas=4, labels={"app": "video-transcoder"}, revision=19)
    nn = s.new_node("transcode")
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=-3 * 3600, containers=[container(
                   "ffmpeg-worker", "acmemedia.azurecr.io/media/transcoder:4.7.0",
                   env={"WORK_DIR": "/tmp/transcode", "RENDITIONS": "2160p,1080p,720p,480p"},
                   resources=res("2", "2Gi", "4", "4Gi"))])
    s.ev_scheduled()
    evict_at = -540
    msg = ("The node was low on resource: ephemeral-storage. Threshold quantity: 12884901888, available: "
           f"{s.rng.randint(10_900_000, 11_900_000)}Ki. Container ffmpeg-worker was using {s.rng.randint(58_000_000, 61_000_000)}Ki, "
           "request is 0, has larger consumption of ephemeral-storage. ")
    s.status("ffmpeg-worker", state=s.terminated(137, "Error", -3 * 3600 + 25, evict_at + 31), ready=False)
    s.event("Evicted", msg, first=evict_at)
    s.event("Killing", "Stopping container ffmpeg-worker", type="Normal", first=evict_at, field="ffmpeg-worker")
    nref = {"kind": "Node", "name": nn, "uid": nn}
    s.event("EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", first=-600, obj=nref)
    s.event("NodeHasDiskPressure", f"Node {nn} status is now: NodeHasDiskPressure", type="Normal", first=-610, obj=nref)
    s.event("FreeDiskSpaceFailed", "Failed to garbage collect required amount of images. Attempted to free "
            f"{s.rng.randint(9, 14) * 10**9 + s.rng.randint(0, 10**9)} bytes, but only found 0 bytes eligible to free.",
            count=3, first=-905, last=-305, obj=nref)
    finish_pod(s, phase="Failed", reason="Evicted", message=msg, extra_conditions=[
        {"lastProbeTime": None, "lastTransitionTime": s.iso(evict_at), "message": msg.strip(),
         "reason": "TerminationByKubelet", "status": "True", "type": "DisruptionTarget"}])
    node(s, nn, pool="transcode", zone="northeurope-1", instance="Standard_F16s_v2", cpu=16, mem_gi=32, disk_gi=128,
         pressure={"DiskPressure": -610}, taints=[{"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure",
                                                   "timeAdded": s.iso(-608)}])
    d.emit(ready=3)
    size = 128 * GI
    node_fs(s, avail=lambda t: max(10.4 * GI, 41 * GI - (t + 3600) * 10.1 * MI) if t < evict_at + 20 else 23 * GI,
            size=size, start=-3600, step=60, device="/dev/sda1", fstype="ext4", mount="/")
    gauge(s, "container_fs_usage_bytes", labels(s, "ffmpeg-worker", device="/dev/sda1"),
          lambda t: (27 * GI + (t + 3600) * 10.1 * MI) if t < evict_at + 20 else None, -3600, 0, 60, noise=0.002)
    s.labels("disk_pressure", hard=False,
             why="The kubelet evicted the pod because node ephemeral-storage fell below the eviction threshold; the "
                 "worker's scratch renditions in /tmp (container writable layer) grew to ~57Gi and the node reports "
                 "DiskPressure with a disk-pressure taint.",
             remediation="move WORK_DIR to an emptyDir with sizeLimit (or a generic ephemeral volume) and set an "
                         "ephemeral-storage request/limit so the scheduler accounts for the scratch space")
    return s


@case("demo")
def orders_config_error() -> Snap:
    s = Snap("orders-config-error", cluster="shop-ocp-prod", captured="2024-07-15T10:03:27Z", platform="openshift",
             version="1.27", ns="order-mgmt")
    d = Deployment(s, "orders-rails", replicas=3, labels={"app": "orders", "deployment": "orders-rails"}, revision=140)
    nn = s.new_node("worker")
    img = "image-registry.openshift-image-registry.svc:5000/orders/orders-rails@sha256:" + s.hexs(64)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=-780, containers=[container(
                   "puma", img, command=["bundle", "exec", "puma", "-C", "config/puma.rb"], ports=[(3000, "http")],
                   env={"RAILS_ENV": "production", "RAILS_LOG_TO_STDOUT": "1",
                        "DATABASE_URL": secret_env("orders-db", "DATABASE_URL"),
                        "SECRET_KEY_BASE": secret_env("orders-rails", "secret-key-base")},
                   resources=res("200m", "512Mi", "1", "1Gi"), readiness=http_probe("/up", 3000),
                   security={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                             "runAsNonRoot": True, "runAsUser": 1000680000})])
    s.ev_scheduled()
    s.status("puma", state=s.waiting("CreateContainerConfigError",
                                     "couldn't find key DATABASE_URL in Secret order-mgmt/orders-db"), image_ok=False)
    s.event("Pulled", f'Container image "{img}" already present on machine', type="Normal", count=61, first=-776,
            last=-9, field="puma")
    s.event("Failed", "Error: couldn't find key DATABASE_URL in Secret order-mgmt/orders-db", count=61, first=-776,
            last=-9, field="puma")
    finish_pod(s)
    d.emit(ready=3, rs_created=-782, updated=1)
    s.labels("config_error", hard=False,
             why="CreateContainerConfigError: the env var DATABASE_URL references key DATABASE_URL in Secret "
                 "orders-db, which exists but no longer has that key (it was renamed when the secret was rotated).",
             remediation="add the DATABASE_URL key back to Secret order-mgmt/orders-db (or point the secretKeyRef at "
                         "the new key name) and the pod starts on the next retry")
    return s
