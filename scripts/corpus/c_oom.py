"""Corpus: oom_killed mechanisms (cgroup limit, node OOM, init/sidecar containers, evictions, tmpfs, JVM, Jobs)."""

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
    crashloop,
    finish_pod,
    gauge,
    http_probe,
    labels,
    mem_limit,
    node,
    ramp,
    render,
    res,
    secret_env,
    steady,
    timeline,
)


@case("corpus")
def oom_jvm_xmx_over_limit() -> Snap:
    s = Snap("oom-jvm-xmx-over-limit", cluster="billing-gke-eu", captured="2024-10-22T07:41:09Z", platform="gke",
             version="1.30", ns="invoicing", events_api="events")
    d = Deployment(s, "invoice-batch", replicas=2, labels={"app": "invoice-batch"}, revision=9)
    nn = s.new_node("batch-pool")
    runs = timeline(s, 3, lambda i: s.rng.uniform(610, 700))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 11, containers=[container(
                   "invoicer", "europe-west3-docker.pkg.dev/acme-billing/jobs/invoice-batch:4.2.0",
                   env={"JAVA_OPTS": "-Xms512m -Xmx2g -XX:+UseG1GC", "BATCH_CHUNK": "5000"},
                   resources=res("1", "1536Mi", "2", "1536Mi"), ports=[(8080, "http")])])
    s.ev_scheduled()
    crashloop(s, "invoicer", runs, exit_code=137, reason="OOMKilled")
    nref = {"kind": "Node", "name": nn, "uid": nn}
    for _a, b in runs:
        s.event("OOMKilling", f"Memory cgroup out of memory: Killed process {s.rng.randint(9000, 60000)} (java) "
                f"total-vm:{s.rng.randint(5_100_000, 5_400_000)}kB, anon-rss:{s.rng.randint(1_560_000, 1_571_000)}kB, "
                f"file-rss:{s.rng.randint(18_000, 24_000)}kB, shmem-rss:0kB, UID:1001 pgtables:3512kB oom_score_adj:936",
                first=b, obj=nref, component="kernel-monitor", host=nn, series=False)
    finish_pod(s)
    node(s, nn, pool="batch-pool", zone="europe-west3-a", instance="n2-standard-8", cpu=8, mem_gi=32)
    d.emit(ready=1)
    gauge(s, "container_memory_working_set_bytes", labels(s, "invoicer"),
          ramp(runs, 420 * MI, 1535 * MI, curve=0.6), -3600, 0, 30, noise=0.01, cap=1536 * MI)
    a, b = runs[-1]
    ent: list[object] = [(a + 3, "INFO", "Starting InvoiceBatchApplication v4.2.0 using Java 17.0.12 with PID 1"),
                         (a + 19, "INFO", "Started InvoiceBatchApplication in 16.2 seconds")]
    for k, t in enumerate(range(int(a + 40), int(b - 5), 55)):
        ent.append((t, "INFO", f"Chunk {k + 1} of run 2024-10-22T05: wrote 5000 invoices (heap used {780 + k * 98}MB)"))
    s.log("invoicer", render(s, "spring", ent, logger="c.a.billing.batch.InvoiceWriter", thread="batch-1"),
          previous=True)
    s.labels("oom_killed",
             why="The JVM is allowed a 2g heap (-Xmx2g) inside a 1536Mi container limit, so the heap grows past the "
                 "cgroup limit and the kernel kills java (OOMKilled, exit 137; node-problem-detector reports "
                 "'Memory cgroup out of memory'); no Java OutOfMemoryError is ever thrown.",
             remediation="size the heap from the limit (-XX:MaxRAMPercentage=75 instead of -Xmx2g) or raise the "
                         "memory limit above heap + metaspace + threads (~2.5Gi)")
    return s


@case("corpus")
def oom_node_systemoom_nodejs() -> Snap:
    s = Snap("oom-node-systemoom-nodejs", cluster="events-aks-prod", captured="2024-03-29T22:06:51Z", platform="aks",
             version="1.27", ns="realtime", events_api="events")
    d = Deployment(s, "presence-gateway", replicas=6, labels={"app": "presence-gateway"}, revision=61)
    nn = s.new_node("rtpool")
    runs = timeline(s, 3, lambda i: s.rng.uniform(800, 1100), running_now=True)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 5, containers=[container(
                   "gateway", "acmert.azurecr.io/presence-gateway:2.8.4", command=["node", "--max-old-space-size=6144", "server.js"],
                   ports=[(8443, "wss")], resources=res("500m", "768Mi", "4", "8Gi"),
                   readiness=http_probe("/ready", 8443, scheme="HTTPS"))])
    s.ev_scheduled()
    crashloop(s, "gateway", runs, exit_code=137, reason="Error", running_now=True, ready=True)
    nref = {"kind": "Node", "name": nn, "uid": nn}
    for _a, b in runs[:-1]:
        s.event("SystemOOM", f"System OOM encountered, victim process: node, pid: {s.rng.randint(100000, 4000000)}",
                first=b - 1, obj=nref, host=nn)
    s.event("NodeHasInsufficientMemory", f"Node {nn} status is now: NodeHasInsufficientMemory", type="Normal",
            first=runs[-2][1] - 3, obj=nref)
    s.event("NodeHasSufficientMemory", f"Node {nn} status is now: NodeHasSufficientMemory", type="Normal",
            first=runs[-2][1] + 40, obj=nref)
    finish_pod(s)
    node(s, nn, pool="rtpool", zone="eastus-1", instance="Standard_D4s_v5", cpu=4, mem_gi=16)
    d.emit(ready=5)
    gauge(s, "container_memory_working_set_bytes", labels(s, "gateway"),
          ramp(runs[:-1] + [(runs[-1][0], runs[-1][0] + 1000)], 300 * MI, 5.3 * GI, curve=0.9), -3600, 0, 30, noise=0.01)
    gauge(s, "node_memory_MemAvailable_bytes", {"instance": f"{s.host_ip}:9100", "job": "node-exporter", "node": nn},
          lambda t: max(40 * MI, 4.6 * GI - next(((t - a) / (b - a) * 4.7 * GI for a, b in runs[:-1] if a <= t <= b), 0)),
          -3600, 0, 30, noise=0.02)
    a, b = runs[-2]
    ent: list[object] = [(a + 1, "INFO", "presence-gateway 2.8.4 listening on :8443"),
                         (a + 120, "INFO", "connections=41877 rooms=9120 rss_mb=1622"),
                         (a + 420, "INFO", "connections=88210 rooms=17763 rss_mb=3390"),
                         (a + 720, "INFO", "connections=118904 rooms=22150 rss_mb=4710")]
    s.log("gateway", render(s, "pino", ent), previous=True)
    s.labels("oom_killed",
             why="Exit 137 with reason Error, not OOMKilled, and the container never reaches its 8Gi limit; but every "
                 "death coincides with a kubelet SystemOOM event naming the node process and node MemAvailable near "
                 "zero. The 768Mi request lets the scheduler pack a ~5Gi process onto a 16Gi node, so the node-wide "
                 "OOM killer picks it.",
             remediation="raise the memory request towards the real usage (~5.5Gi) so the node is not overcommitted, "
                         "or cap connections per pod; the limit is not the problem")
    return s


@case("corpus")
def oom_init_migration() -> Snap:
    s = Snap("oom-init-migration", cluster="edge-k3s-store042", captured="2023-11-14T05:30:12Z", platform="k3s",
             version="1.26", ns="pos")
    d = Deployment(s, "pos-backend", replicas=1, labels={"app": "pos-backend"}, revision=23)
    nn = s.new_node("store042-node")
    runs = timeline(s, 5, lambda i: s.rng.uniform(38, 52))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 20,
               init_containers=[container("migrate", "registry.acme-retail.example/pos/backend:6.0.1",
                                          command=["alembic", "upgrade", "head"],
                                          env={"DATABASE_URL": secret_env("pos-db", "url")},
                                          resources=res("100m", "64Mi", "500m", "128Mi"))],
               containers=[container("api", "registry.acme-retail.example/pos/backend:6.0.1",
                                     command=["uvicorn", "pos.app:app", "--port", "8000"], ports=[(8000, "http")],
                                     resources=res("200m", "256Mi", "1", "512Mi"))])
    s.ev_scheduled()
    crashloop(s, "migrate", runs, exit_code=137, reason="OOMKilled")
    s.status("api", state=s.waiting("PodInitializing"), image_ok=False)
    finish_pod(s)
    node(s, nn, instance="k3s", zone="store042", cpu=4, mem_gi=8, arch="arm64")
    d.emit(ready=0, conditions=[
        cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", s, -1900, -1900),
        cond("Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "{d.rs_name}" has timed out progressing.', s, -1300, -1300)])
    gauge(s, "container_memory_working_set_bytes", labels(s, "migrate"),
          ramp(runs, 48 * MI, 127.6 * MI, curve=1.4), -3600, 0, 15, noise=0.01, cap=128 * MI)
    a, b = runs[-1]
    s.log("migrate", render(s, "plain", [
        (a + 1, "INFO", "migrate: target postgresql+psycopg://pos:***@pos-db:5432/pos"),
        (a + 2, "INFO", "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl."),
        (a + 2, "INFO", "INFO  [alembic.runtime.migration] Will assume transactional DDL."),
        (a + 3, "INFO", "INFO  [alembic.runtime.migration] Running upgrade 9d41c2e07a1b -> 5e0c7f3d2b88, backfill "
                        "receipt_lines.tax_breakdown from legacy json")]), previous=True)
    s.labels("oom_killed",
             why="The pod is stuck in Init:CrashLoopBackOff because the init container 'migrate' is OOMKilled (exit "
                 "137) each time: the backfill migration loads all receipt rows into memory and hits the 128Mi init "
                 "limit; the app container never starts.",
             remediation="raise the migrate init container memory limit (e.g. 1Gi) or make the backfill migration "
                         "stream in batches")
    return s


@case("corpus")
def oom_native_sidecar_fluentbit() -> Snap:
    s = Snap("oom-native-sidecar-fluentbit", cluster="logistics-eks", captured="2025-01-08T15:19:44Z", platform="eks", region="ap-southeast-2",
             version="1.29", ns="tracking")
    d = Deployment(s, "parcel-tracker", replicas=4, labels={"app": "parcel-tracker"}, revision=15)
    nn = s.new_node(region="ap-southeast-2")
    runs = timeline(s, 8, lambda i: s.rng.uniform(170, 260), running_now=True)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 8,
               init_containers=[container("log-shipper", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
                                          restart_policy="Always", resources=res("50m", "32Mi", "200m", "64Mi"),
                                          mounts=[{"mountPath": "/var/log/app", "name": "applogs"},
                                                  {"mountPath": "/fluent-bit/etc", "name": "fb-config"}])],
               containers=[container("tracker", "518230017741.dkr.ecr.ap-southeast-2.amazonaws.com/parcel-tracker:2025.1.2",
                                     ports=[(8080, "http")], resources=res("250m", "512Mi", "1", "1Gi"),
                                     readiness=http_probe("/ready", 8080),
                                     mounts=[{"mountPath": "/var/log/app", "name": "applogs"}])],
               volumes=[{"emptyDir": {}, "name": "applogs"},
                        {"configMap": {"defaultMode": 420, "name": "parcel-tracker-fluent-bit"}, "name": "fb-config"}])
    s.ev_scheduled()
    crashloop(s, "log-shipper", runs, exit_code=137, reason="OOMKilled", running_now=True, ready=True, started=True)
    steady(s, "tracker", runs[0][0] + 3)
    finish_pod(s, init_done_at=runs[0][0] + 2)
    node(s, nn, pool="apps", zone="ap-southeast-2a", instance="m6i.xlarge", cpu=4, mem_gi=16)
    d.emit(ready=4)
    gauge(s, "container_memory_working_set_bytes", labels(s, "log-shipper"),
          ramp(runs[:-1] + [(runs[-1][0], runs[-1][0] + 230)], 18 * MI, 63.9 * MI, curve=1.2), -3600, 0, 20,
          noise=0.01, cap=64 * MI)
    gauge(s, "container_memory_working_set_bytes", labels(s, "tracker"), lambda t: 402 * MI, -3600, 0, 60, noise=0.02)
    a, b = runs[-2]
    ent: list[object] = [(a + 0.5, "INFO", "[fluent bit] version=1.9.10, commit=eba89f4660, pid=1"),
                         (a + 0.6, "INFO", "[storage] ver=1.4.0, type=memory, sync=normal, checksum=off, max_chunks_up=128"),
                         (a + 0.9, "INFO", "[output:opensearch:opensearch.0] worker #0 started")]
    for k, t in enumerate(range(int(a + 8), int(b - 3), 11)):
        ent.append((t, "WARN", f"[engine] failed to flush chunk '1-{s.unix(t)}.{s.rng.randint(100000000, 999999999)}.flb', "
                               f"retry in {s.rng.choice([7, 9, 10, 13, 18])} seconds: task_id={k % 40}, input=tail.0 > output=opensearch.0 (out_id=0)"))
        if k % 5 == 4:
            ent.append((t + 1, "ERROR", "[output:opensearch:opensearch.0] HTTP status=429 URI=/_bulk, response: "
                                        '{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}'))
    s.log("log-shipper", "\n".join(
        f"[{s.dt(e[0]).strftime('%Y/%m/%d %H:%M:%S')}] [{e[1].lower() if e[1] != 'WARN' else 'warn'}] {e[2]}"  # type: ignore[index]
        for e in ent), previous=True)
    s.labels("oom_killed",
             why="The app container is healthy; the native sidecar log-shipper (initContainer with restartPolicy "
                 "Always) is OOMKilled every few minutes: OpenSearch answers 429, fluent-bit keeps retrying chunks in "
                 "its memory buffer (storage type=memory, no mem_buf_limit) and hits its 64Mi limit. The flush "
                 "warnings are the trigger, the kill is memory.",
             remediation="set Mem_Buf_Limit / storage.type filesystem on the tail input and raise the log-shipper "
                         "limit to ~256Mi; fix the OpenSearch bulk rejections separately")
    return s


@case("corpus")
def oom_eviction_memory_docker() -> Snap:
    s = Snap("oom-eviction-memory-docker", cluster="legacy-dc-kubeadm", captured="2023-06-02T13:58:40Z",
             platform="kubeadm-docker", version="1.23", ns="reporting")
    d = Deployment(s, "pdf-renderer", replicas=2, labels={"app": "pdf-renderer"}, revision=5)
    nn = s.new_node("k8s-wrk")
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=-86400 * 2, containers=[container(
                   "renderer", "docker.io/acmecorp/pdf-renderer:3.1", ports=[(3000, "http")],
                   resources=res("200m", "512Mi"))])
    s.ev_scheduled(-86400 * 2 + 1)
    msg = f"The node was low on resource: memory. Container renderer was using {s.rng.randint(6_100_000, 6_400_000)}Ki, which exceeds its request of 512Mi. "
    s.status("renderer", state=s.terminated(137, "Error", -86400 * 2 + 30, -1801), ready=False)
    s.event("Evicted", msg, first=-1830)
    s.event("Killing", "Stopping container renderer", type="Normal", first=-1830, field="renderer")
    finish_pod(s, phase="Failed", reason="Evicted", message=msg)
    node(s, nn, instance="vm-8c16g", zone="dc-a", cpu=8, mem_gi=16, pressure={"MemoryPressure": -1900})
    d.emit(ready=1)
    s.labels("oom_killed",
             why="Evicted because the node was low on memory; the renderer (512Mi request, no limit) used ~6Gi, far "
                 "above its request, so kubelet chose it. The node still reports MemoryPressure. This is a memory "
                 "exhaustion kill, labelled oom_killed rather than disk_pressure or scheduling.",
             remediation="give the renderer a memory limit and a request close to its real peak (or bound the "
                         "headless-Chrome pool) so it cannot push the node into MemoryPressure")
    return s


@case("corpus")
def oom_tmpfs_emptydir() -> Snap:
    s = Snap("oom-tmpfs-emptydir", cluster="photos-gke-asia", captured="2024-05-30T04:12:58Z", platform="gke",
             version="1.28", ns="media-pipeline")
    d = Deployment(s, "thumbnailer", replicas=3, labels={"app": "thumbnailer"}, revision=40)
    nn = s.new_node("media-pool")
    runs = timeline(s, 4, lambda i: s.rng.uniform(300, 420))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 7, containers=[container(
                   "worker", "asia-northeast1-docker.pkg.dev/acme-photos/pipeline/thumbnailer:1.22.0",
                   command=["python", "-m", "thumbnailer.worker"], env={"SCRATCH_DIR": "/scratch"},
                   resources=res("500m", "1Gi", "2", "1Gi"), mounts=[{"mountPath": "/scratch", "name": "scratch"}])],
               volumes=[{"emptyDir": {"medium": "Memory"}, "name": "scratch"}])
    s.ev_scheduled()
    crashloop(s, "worker", runs, exit_code=137, reason="OOMKilled")
    finish_pod(s)
    d.emit(ready=2)
    gauge(s, "container_memory_working_set_bytes", labels(s, "worker"), ramp(runs, 190 * MI, 1023 * MI), -3600, 0, 30,
          noise=0.01, cap=1024 * MI)
    a, b = runs[-1]
    ent: list[object] = [(a + 1, "INFO", "worker started, subscription=thumbnail-requests, scratch=/scratch")]
    for k, t in enumerate(range(int(a + 15), int(b - 4), 40)):
        ent.append((t, "INFO", f"batch {k + 1}: 64 originals -> 384 renditions, scratch_used={110 * (k + 1)}MB "
                               f"rss={180 + s.rng.randint(0, 30)}MB"))
    s.log("worker", render(s, "python-dash", ent, logger="thumbnailer.worker"), previous=True)
    s.labels("oom_killed",
             why="OOMKilled at the 1Gi limit although the Python process stays ~200MB RSS: the renditions are written "
                 "to an emptyDir with medium: Memory (tmpfs), whose pages are charged to the container's memory "
                 "cgroup, and scratch files are never cleaned between batches.",
             remediation="delete scratch files after each batch and set emptyDir.sizeLimit, or move /scratch to a "
                         "disk-backed emptyDir; otherwise raise the memory limit to cover tmpfs usage")
    return s


@case("corpus")
def oom_java_heap_exit3() -> Snap:
    s = Snap("oom-java-heap-exit3", cluster="insurance-ocp", captured="2023-09-19T10:44:31Z", platform="openshift",
             version="1.25", ns="claims")
    d = Deployment(s, "claims-rules-engine", replicas=2, labels={"app": "claims-rules-engine"}, revision=17)
    nn = s.new_node("worker")
    runs = timeline(s, 6, lambda i: s.rng.uniform(95, 140))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 9, containers=[container(
                   "engine", "quay.io/acme-insurance/claims-rules-engine:2.14.0", ports=[(8080, "http")],
                   env={"JAVA_OPTS_APPEND": "-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"},
                   resources=res("500m", "2Gi", "2", "2Gi"))])
    s.ev_scheduled()
    crashloop(s, "engine", runs, exit_code=3)
    finish_pod(s)
    d.emit(ready=1)
    gauge(s, "container_memory_working_set_bytes", labels(s, "engine"), ramp(runs, 520 * MI, 1.24 * GI, curve=0.5),
          -3600, 0, 30, noise=0.01)
    mem_limit(s, "engine", 2 * GI, -3600)
    a, b = runs[-1]
    txt = render(s, "logback", [
        (a + 2, "INFO", "Starting rules engine, ruleset=claims-2023Q3 (4,812 rules)"),
        (a + 38, "INFO", "Loaded decision tables in 34512 ms"),
        (a + 40, "INFO", "Re-scoring open claims: 1,203,554 candidates"),
    ], logger="c.a.claims.rules.Bootstrap") + "\n" + "\n".join([
        "Terminating due to java.lang.OutOfMemoryError: Java heap space"])
    s.log("engine", txt, previous=True)
    s.labels("oom_killed", also=["crash_loop"],
             why="Not a cgroup kill (exit 3, reason Error, working set ~1.2Gi of 2Gi): the JVM heap is capped at 50% "
                 "of the limit and re-scoring 1.2M claims exhausts it, so ExitOnOutOfMemoryError terminates the JVM "
                 "with 'Java heap space'. It is an out-of-memory failure; crash_loop is also defensible.",
             remediation="raise -XX:MaxRAMPercentage to ~75 (the container has headroom) or page the re-scoring "
                         "query instead of loading all candidates")
    return s


@case("corpus")
def oom_job_pandas_failed() -> Snap:
    s = Snap("oom-job-pandas-failed", cluster="analytics-kubeadm", captured="2024-02-06T03:27:14Z", platform="kubeadm",
             version="1.24", ns="ds-batch")
    j = Job(s, "", cron="monthly-churn-features", scheduled=-3 * 3600)
    nn = s.new_node("k8s-batch")
    a, b = -1460.0, -231.0
    s.make_pod(j.pod_name, generate_name=j.generate_name, owner=j.owner, labels=j.pod_labels, node=nn,
               created=a - 6, restart_policy="Never", containers=[container(
                   "features", "harbor.analytics.example/ds/churn-features:0.9.3",
                   command=["python", "build_features.py", "--month", "2024-01"],
                   resources=res("2", "6Gi", "4", "6Gi"))])
    s.ev_scheduled()
    s.status("features", state=s.terminated(137, "OOMKilled", a, b), ready=False)
    s.ev_cycle("features", count=1, first=a, last=a)
    s.event("BackoffLimitExceeded", "Job has reached the specified backoff limit", first=b + 4,
            obj={"apiVersion": "batch/v1", "kind": "Job", "name": j.name, "namespace": s.ns, "uid": j.uid,
                 "resourceVersion": s.rv()}, component="job-controller")
    finish_pod(s)
    j.emit(backoff=2, status={"conditions": [
        {"lastProbeTime": s.iso(b + 4), "lastTransitionTime": s.iso(b + 4), "message": "Job has reached the specified backoff limit",
         "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed"}], "failed": 3, "startTime": s.iso(-3 * 3600),
        "uncountedTerminatedPods": {}})
    gauge(s, "container_memory_working_set_bytes", labels(s, "features"),
          lambda t: (1.1 * GI + ((t - a) / (b - a)) ** 1.8 * 4.9 * GI) if a <= t <= b else None, -3600, 0, 30,
          noise=0.008, cap=6 * GI)
    s.log("features", render(s, "python", [
        (a + 3, "INFO", "reading s3://acme-lake/events/2024-01/ (412 parquet files)"),
        (a + 220, "INFO", "events loaded: 48,211,004 rows, 37 columns"),
        (a + 610, "INFO", "joining subscriptions (2,118,650 rows) on account_id"),
        (a + 1040, "INFO", "pivoting daily activity -> 31 x 212 feature columns"),
    ], logger="churn.features"))
    s.labels("oom_killed",
             why="The Job's last pod terminated with reason OOMKilled (exit 137) while pivoting 48M rows; the working "
                 "set climbs to the 6Gi limit, and after 3 failed pods the Job hit its backoffLimit.",
             remediation="raise the Job's memory limit (~12Gi) or process the month in chunks (per-week pivot / "
                         "polars lazy scan) and re-run the CronJob")
    return s
