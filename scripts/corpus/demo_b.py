"""Demo incidents (examples/), part 2: rbac, scheduling, probe, volume, unknown and two tricky ones."""

from __future__ import annotations

from .common import (  # noqa: F401
    GI,
    MI,
    Deployment,
    Job,
    Snap,
    StatefulSet,
    case,
    cond,
    container,
    cpu_pack,
    crashloop,
    every,
    exec_probe,
    finish_pod,
    gauge,
    http_probe,
    labels,
    mem_limit,
    mount,
    node,
    probe_timeout_message,
    pv,
    pvc,
    render,
    res,
    scheduling_message,
    secret_env,
    steady,
    storageclass,
    taint,
    taint_phrase,
    tcp_probe,
    timeline,
)


@case("demo")
def reports_rbac_denied() -> Snap:
    s = Snap("reports-rbac-denied", cluster="platform-k3s-lab", captured="2024-09-05T06:02:19Z", platform="k3s",
             version="1.30", ns="finops")
    d = Deployment(s, "cost-reporter", replicas=1, labels={"app": "cost-reporter"}, revision=4)
    nn = s.new_node("agent")
    runs = timeline(s, 7, lambda i: s.rng.uniform(1.0, 1.6))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 5, sa="cost-reporter", containers=[container(
                   "reporter", "ghcr.io/acme-platform/cost-reporter:0.14.3",
                   args=["--interval=15m", "--all-namespaces", "--output=s3://finops-reports/k8s/"],
                   resources=res("50m", "64Mi", "200m", "128Mi"))])
    s.ev_scheduled()
    crashloop(s, "reporter", runs, exit_code=1)
    finish_pod(s)
    node(s, nn, pool="agent", zone="lab-rack1", instance="k3s", cpu=8, mem_gi=32, arch="amd64")
    d.emit(ready=0, conditions=[
        cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", s, -3000, -3000),
        cond("Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{d.rs_name}" has successfully progressed.', s, -7000, -3100)])
    a, b = runs[-1]
    u = "system:serviceaccount:finops:cost-reporter"
    text = render(s, "klog", [
        (a + 0.05, "INFO", "cost-reporter 0.14.3 (go1.22.6) starting, interval=15m0s allNamespaces=true"),
        (a + 0.08, "INFO", "Using in-cluster configuration"),
        (a + 0.31, "WARN", f'k8s.io/client-go@v0.30.3/tools/cache/reflector.go:232: failed to list *v1.Pod: pods is forbidden: User "{u}" cannot list resource "pods" in API group "" at the cluster scope',
         {"caller": "reflector.go:547"}),
        (a + 0.31, "ERROR", f'"Unhandled Error" err="k8s.io/client-go@v0.30.3/tools/cache/reflector.go:232: Failed to watch *v1.Pod: failed to list *v1.Pod: pods is forbidden: User \\"{u}\\" cannot list resource \\"pods\\" in API group \\"\\" at the cluster scope" logger="UnhandledError"',
         {"caller": "reflector.go:158"}),
        (a + 1.02, "FATAL", "informer caches did not sync within 1s: pods is forbidden"),
    ], caller=("main.go:58",))
    s.log("reporter", text, previous=True)
    s.labels("rbac_denied", hard=False,
             why="The reporter lists pods in all namespaces, but its ServiceAccount finops/cost-reporter is only bound "
                 "to a namespaced Role, so the API server answers 'cannot list resource pods ... at the cluster "
                 "scope' and the process exits before its caches sync.",
             remediation="bind a ClusterRole with get/list/watch on pods to system:serviceaccount:finops:cost-reporter "
                         "via a ClusterRoleBinding (or run it without --all-namespaces)")
    return s


@case("demo")
def training_scheduling() -> Snap:
    s = Snap("training-scheduling", cluster="ml-gke-us-central1", captured="2025-03-04T16:25:40Z", platform="gke",
             version="1.31", ns="ml-training", events_api="events")
    j = Job(s, "bert-finetune-run-0412")
    s.make_pod(j.pod_name, generate_name=j.generate_name, owner=j.owner, labels=j.pod_labels, node=None, created=-2460,
               restart_policy="Never", sa="trainer", containers=[container(
                   "trainer", "us-docker.pkg.dev/acme-ml/train/bert-finetune:2025.03.1",
                   command=["torchrun", "--nproc_per_node=4", "train.py", "--config=configs/bert-large.yaml"],
                   resources=res("30", "200Gi", "30", "200Gi", lim_nvidia__com_gpu="4"))],
               extra_spec={"nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
                           "tolerations": [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]})
    msg = scheduling_message(s.version, 9, ["2 Insufficient nvidia.com/gpu", "7 node(s) didn't match Pod's node affinity/selector"],
                             "0/9 nodes are available: 2 No preemption victims found for incoming pod, 7 Preemption is not helpful for scheduling.")
    s.event("FailedScheduling", msg, count=31, first=-2459, last=-61, component="default-scheduler", action="Scheduling")
    s.event("NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached, 3 node(s) didn't match "
            "Pod's node affinity/selector", type="Normal", count=146, first=-2450, last=-15, component="cluster-autoscaler")
    finish_pod(s, unschedulable=msg)
    j.emit(status={"active": 1, "ready": 0, "startTime": s.iso(-2460), "terminating": 0, "uncountedTerminatedPods": {}},
           backoff=0)
    s.labels("scheduling", hard=False,
             why="The pod asks for 4 GPUs on nvidia-l4 nodes; the two L4 nodes are full (Insufficient nvidia.com/gpu) "
                 "and the autoscaler cannot add more because the L4 node pool is at its max size.",
             remediation="raise the max size of the L4 node pool (or free the GPUs held by finished notebooks); "
                         "otherwise request fewer GPUs")
    return s


@case("demo")
def storefront_probe_failure() -> Snap:
    s = Snap("storefront-probe-failure", cluster="web-eks-prod", captured="2024-06-27T13:55:02Z", platform="eks",
             version="1.27", ns="edge-web")
    d = Deployment(s, "storefront-nginx", replicas=4, labels={"app": "storefront", "tier": "edge"}, revision=88)
    nn = s.new_node(region="eu-central-1")
    runs = timeline(s, 9, lambda i: 30 + s.rng.uniform(0.5, 1.5), running_now=True)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 4, containers=[container(
                   "nginx", "public.ecr.aws/nginx/nginx:1.27.0-alpine", ports=[(8080, "http")],
                   resources=res("100m", "64Mi", "500m", "128Mi"),
                   liveness=http_probe("/healthz", 8080, period=10, failure=3),
                   readiness=http_probe("/health", 8080, period=5),
                   mounts=[mount("conf", "/etc/nginx/conf.d", ro=True), mount("static", "/usr/share/nginx/html")])],
               volumes=[{"configMap": {"defaultMode": 420, "name": "storefront-nginx-conf"}, "name": "conf"},
                        {"emptyDir": {}, "name": "static"}])
    s.ev_scheduled()
    crashloop(s, "nginx", runs, exit_code=0, reason="Completed", running_now=True, ready=True)
    s.event("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404", count=30,
            first=runs[0][0] + 10, last=runs[-2][1] - 1, field="nginx")
    s.event("Killing", "Container nginx failed liveness probe, will be restarted", type="Normal", count=9,
            first=runs[0][1] - 1, last=runs[-2][1] - 1, field="nginx")
    finish_pod(s)
    d.emit(ready=4)
    ua = f'"kube-probe/{s.version}"'

    def nginx_run(a: float, b: float, graceful: bool) -> str:
        hms = lambda t: s.dt(t).strftime("%Y/%m/%d %H:%M:%S")  # noqa: E731
        lines = [f'{hms(a)} [notice] 1#1: using the "epoll" event method', f"{hms(a)} [notice] 1#1: nginx/1.27.0",
                 f"{hms(a)} [notice] 1#1: built by gcc 13.2.1 20231014 (Alpine 13.2.1_git20231014) ",
                 f"{hms(a)} [notice] 1#1: start worker processes",
                 f"{hms(a)} [notice] 1#1: start worker process 21", f"{hms(a)} [notice] 1#1: start worker process 22"]
        t = a + 2
        while t < b - 1:
            stamp = s.dt(t).strftime("%d/%b/%Y:%H:%M:%S +0000")
            if int(t - a) % 10 < 5:
                lines.append(f'{s.host_ip} - - [{stamp}] "GET /healthz HTTP/1.1" 404 153 "-" {ua} "-"')
            lines.append(f'{s.host_ip} - - [{stamp}] "GET /health HTTP/1.1" 200 2 "-" {ua} "-"')
            t += 5
        if graceful:
            lines += [f"{hms(b - 0.3)} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down",
                      f"{hms(b - 0.2)} [notice] 21#21: gracefully shutting down",
                      f"{hms(b - 0.2)} [notice] 21#21: exiting", f"{hms(b - 0.1)} [notice] 1#1: exit"]
        return "\n".join(lines)

    s.log("nginx", nginx_run(runs[-2][0], runs[-2][1], True), previous=True)
    s.log("nginx", nginx_run(runs[-1][0], 0, False))
    s.labels("probe_failure", hard=False,
             why="nginx is healthy and serves /health (200), but the liveness probe points at /healthz, which the new "
                 "server block no longer defines (404); kubelet kills the container every ~30 s, so it exits 0 "
                 "after a graceful SIGQUIT and restarts 9 times.",
             remediation="point livenessProbe.httpGet.path at /health (or add a location /healthz to the nginx config)")
    return s


@case("demo")
def postgres_volume_mount() -> Snap:
    s = Snap("postgres-volume-mount", cluster="orders-eks-prod", captured="2024-04-18T03:47:55Z", platform="eks",
             version="1.26", ns="databases")
    st = StatefulSet(s, "orders-postgres", replicas=1, labels={"app.kubernetes.io/name": "postgresql",
                                                                "app.kubernetes.io/instance": "orders"})
    new_node, old_node = s.new_node(region="us-west-2"), s.new_node(region="us-west-2")
    s.make_pod(st.pod_name, generate_name=st.generate_name, owner=st.owner, labels=st.pod_labels, node=new_node,
               created=-1640, sa="orders-postgres", containers=[container(
                   "postgresql", "docker.io/bitnami/postgresql:16.2.0-debian-12-r8", ports=[(5432, "tcp-postgresql")],
                   env={"POSTGRESQL_PORT_NUMBER": "5432", "PGDATA": "/bitnami/postgresql/data",
                        "POSTGRES_PASSWORD": secret_env("orders-postgres", "postgres-password")},
                   resources=res("1", "4Gi", "2", "4Gi"),
                   liveness=exec_probe(["/bin/sh", "-c", "exec pg_isready -U postgres -h 127.0.0.1 -p 5432"], delay=30, timeout=5),
                   mounts=[mount("data", "/bitnami/postgresql"), mount("dshm", "/dev/shm")])],
               volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-orders-postgres-0"}},
                        {"emptyDir": {"medium": "Memory"}, "name": "dshm"}],
               extra_spec={"hostname": "orders-postgres-0", "subdomain": "orders-postgres-hl",
                           "securityContext": {"fsGroup": 1001}})
    s.ev_scheduled()
    s.status("postgresql", state=s.waiting("ContainerCreating"), image_ok=False)
    pvname = f"pvc-{s.uid()}"
    s.event("FailedAttachVolume", f'Multi-Attach error for volume "{pvname}" Volume is already exclusively attached '
            "to one node and can't be attached to another", first=-1638, component="attachdetach-controller", host="")
    s.event("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data "
            "dshm kube-api-access-x9q2c]: timed out waiting for the condition", count=12, first=-1516, last=-146)
    nref = {"kind": "Node", "name": old_node, "uid": old_node}
    s.event("NodeNotReady", "Node is not ready", first=-1720, obj=nref, component="node-controller", host="")
    finish_pod(s)
    node(s, new_node, pool="db-r6i", zone="us-west-2b", instance="r6i.xlarge", cpu=4, mem_gi=32)
    node(s, old_node, pool="db-r6i", zone="us-west-2b", instance="r6i.xlarge", cpu=4, mem_gi=32, ready=False,
         ready_since=-1725, taints=[taint("node.kubernetes.io/unreachable", "NoExecute", since=s.iso(-1720)),
                                    taint("node.kubernetes.io/unreachable", "NoSchedule", since=s.iso(-1722))])
    pvc(s, "data-orders-postgres-0", sc="gp3", size="200Gi", volume=pvname, provisioner="ebs.csi.aws.com",
        labels={"app.kubernetes.io/instance": "orders", "app.kubernetes.io/name": "postgresql"})
    pv(s, pvname, claim="data-orders-postgres-0", sc="gp3", size="200Gi", driver="ebs.csi.aws.com",
       handle=f"vol-0{s.hexs(16)}", zone_key="topology.ebs.csi.aws.com/zone", zone="us-west-2b")
    st.emit(ready=0, service="orders-postgres-hl")
    s.labels("volume_mount", hard=False,
             why="The old node went NotReady and the pod was recreated elsewhere, but its EBS volume is still attached "
                 "to the unreachable node (Multi-Attach error), so the data volume never mounts and the pod stays in "
                 "ContainerCreating.",
             remediation="confirm the old node is really gone, then delete its VolumeAttachment (or the Node object) "
                         "so the attach-detach controller can force-detach the volume after 6 minutes")
    return s


@case("demo")
def loyalty_rollout_unknown() -> Snap:
    s = Snap("loyalty-rollout-unknown", cluster="retail-aks-prod", captured="2024-05-21T09:12:44Z", platform="aks",
             version="1.29", ns="loyalty")
    d = Deployment(s, "loyalty-api", replicas=6, labels={"app": "loyalty-api"}, revision=233)
    nn = s.new_node("apppool")
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn, created=-233,
               containers=[container("api", "acmeretail.azurecr.io/loyalty/loyalty-api:8.12.0", ports=[(8080, "http")],
                                     env={"ASPNETCORE_URLS": "http://+:8080", "DOTNET_gcServer": "0"},
                                     resources=res("250m", "384Mi", "1", "512Mi"),
                                     readiness=http_probe("/health/ready", 8080, period=5, timeout=2),
                                     liveness=http_probe("/health/live", 8080, delay=10, period=10))])
    s.ev_scheduled()
    steady(s, "api", -226, pulled_first=True)
    s.event("Unhealthy", f'Readiness probe failed: Get "http://{s.pod_ip}:8080/health/ready": dial tcp '
            f"{s.pod_ip}:8080: connect: connection refused", count=1, first=-221, field="api")
    finish_pod(s, ready_since=-214)
    d.emit(ready=6, rs_created=-240, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 30, -86400 * 30),
        cond("Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{d.rs_name}" has successfully progressed.', s, -86400 * 30, -60)])
    text = render(s, "dotnet", [
        (-224, "INFO", "Now listening on: http://[::]:8080"),
        (-224, "INFO", "Application started. Press Ctrl+C to shut down."),
        (-224, "INFO", "Hosting environment: Production"),
        (-224, "INFO", "Content root path: /app"),
        (-180, "WARN", "Points balance request for member 7f3e2a rejected: card blocked (HTTP 409 returned)"),
    ], logger="Microsoft.Hosting.Lifetime")
    s.log("api", text)
    s.labels("unknown", hard=False,
             why="Nothing is broken: the pod was created 4 minutes ago by rollout revision 233, answered one "
                 "readiness probe with connection refused while Kestrel was still binding, and has been Ready since; "
                 "the Deployment reports NewReplicaSetAvailable.",
             remediation="no action needed; a single readiness failure during start-up is normal (add a startupProbe "
                         "or initialDelaySeconds if the noise bothers you)")
    return s


@case("demo")
def ledger_throttled_liveness() -> Snap:
    s = Snap("ledger-throttled-liveness", cluster="fin-ocp-dc2", captured="2024-12-17T11:21:36Z", platform="openshift",
             version="1.28", ns="ledger")
    d = Deployment(s, "ledger-core", replicas=3, labels={"app": "ledger-core"}, revision=46)
    nn = s.new_node("worker")
    runs = timeline(s, 4, lambda i: s.rng.uniform(560, 760), running_now=True)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=runs[0][0] - 6, containers=[container(
                   "ledger", "quay.io/acme-fin/ledger-core:11.3.2", ports=[(8080, "http")],
                   env={"JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=70 -XX:+UseParallelGC",
                        "LEDGER_BATCH_POSTING": "true"},
                   resources=res("300m", "2Gi", "500m", "2Gi"),
                   liveness=http_probe("/actuator/health/liveness", 8080, delay=90, period=10, timeout=2, failure=3),
                   readiness=http_probe("/actuator/health/readiness", 8080, delay=60, period=10, timeout=2))])
    s.ev_scheduled()
    crashloop(s, "ledger", runs, exit_code=143, reason="Error", running_now=True, ready=False)
    url = f"http://{s.pod_ip}:8080/actuator/health/liveness"
    s.event("Unhealthy", probe_timeout_message(s.version, "Liveness", url), count=26, first=runs[0][1] - 30,
            last=-12, field="ledger")
    s.event("Unhealthy", probe_timeout_message(s.version, "Readiness", url.replace("liveness", "readiness")), count=58,
            first=runs[0][1] - 60, last=-8, field="ledger")
    s.event("Killing", "Container ledger failed liveness probe, will be restarted", type="Normal", count=4,
            first=runs[0][1] - 1, last=runs[-2][1] - 1, field="ledger")
    finish_pod(s)
    d.emit(ready=1)
    resets = [a for a, _ in runs[1:]]
    cpu_pack(s, "ledger", usage=lambda t: 0.497 if any(a <= t <= b for a, b in runs) else None,
             throttled_frac=lambda t: 0.91, start=-3600, step=60, resets=resets, limit=0.5)
    gauge(s, "container_memory_working_set_bytes", labels(s, "ledger"),
          lambda t: next((0.9 * GI + min(1, (t - a) / 300) * 0.45 * GI for a, b in runs if a <= t <= b), None),
          -3600, 0, 60, noise=0.01)
    a = runs[-1][0]
    text = render(s, "spring", [
        (a + 4, "INFO", "Starting LedgerCoreApplication v11.3.2 using Java 21.0.5 with PID 1"),
        (a + 71, "INFO", "Started LedgerCoreApplication in 66.912 seconds (process running for 71.3)"),
        (a + 80, "INFO", "posting batch 2024-12-17#0411 (18240 journal lines)"),
        (a + 233, "WARN", "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=58s312ms)."),
        (a + 301, "INFO", "posting batch 2024-12-17#0411 committed in 219874 ms"),
    ], logger="c.a.ledger.LedgerCoreApplication")
    s.log("ledger", text)
    s.labels("cpu_throttling",
             why="The restarts come from liveness-probe timeouts (exit 143 after SIGTERM), but the probe times out "
                 "because the JVM is starved: CPU is pinned at the 500m limit with ~91% of CFS periods throttled, "
                 "boot takes 67 s and Hikari reports thread starvation. The probe settings are not the root cause.",
             remediation="raise the ledger CPU limit to at least 2 cores (keep the 300m request or raise it) so batch "
                         "posting and the health endpoint get CPU; only then revisit probe timeouts")
    return s


@case("demo")
def catalog_memory_eviction() -> Snap:
    s = Snap("catalog-memory-eviction", cluster="retail-kubeadm-dc1", captured="2024-08-08T17:36:20Z",
             platform="kubeadm", version="1.25", ns="catalog")
    d = Deployment(s, "catalog-search", replicas=3, labels={"app": "catalog-search"}, revision=12)
    nn = s.new_node("k8s-node")
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=nn,
               created=-3 * 86400, containers=[container(
                   "catalog", "harbor.retail.example/catalog/catalog-search:7.4.1", ports=[(9200, "http")],
                   env={"CATALOG_INDEX_IN_MEMORY": "true"}, resources=res("500m", "1Gi", "2"))])
    s.ev_scheduled(-3 * 86400 + 1)
    evict = -1250
    used = s.rng.randint(9_400_000, 9_900_000)
    msg = (f"The node was low on resource: memory. Threshold quantity: 100Mi, available: {s.rng.randint(60_000, 95_000)}Ki. "
           f"Container catalog was using {used}Ki, request is 1Gi, has larger consumption of memory. ")
    s.status("catalog", state=s.terminated(137, "Error", -3 * 86400 + 9, evict + 30), ready=False)
    s.event("Evicted", msg, first=evict)
    s.event("Killing", "Stopping container catalog", type="Normal", first=evict, field="catalog")
    nref = {"kind": "Node", "name": nn, "uid": nn}
    s.event("EvictionThresholdMet", "Attempting to reclaim memory", first=evict - 15, obj=nref)
    s.event("NodeHasInsufficientMemory", f"Node {nn} status is now: NodeHasInsufficientMemory", type="Normal",
            first=evict - 20, obj=nref)
    s.event("NodeHasSufficientMemory", f"Node {nn} status is now: NodeHasSufficientMemory", type="Normal",
            first=evict + 70, obj=nref)
    finish_pod(s, phase="Failed", reason="Evicted", message=msg, extra_conditions=[
        {"lastProbeTime": None, "lastTransitionTime": s.iso(evict), "message": msg.strip(),
         "reason": "TerminationByKubelet", "status": "True", "type": "DisruptionTarget"}])
    node(s, nn, instance="vsphere-8c16g", zone="dc1-row4", cpu=8, mem_gi=16)
    d.emit(ready=3)
    gauge(s, "container_memory_working_set_bytes", labels(s, "catalog"),
          lambda t: (6.1 * GI + (t + 3600) * 1.37 * MI) if t < evict + 25 else None, -3600, 0, 30, noise=0.004)
    gauge(s, "node_memory_MemAvailable_bytes", {"instance": f"{s.host_ip}:9100", "job": "node-exporter", "node": nn},
          lambda t: max(75 * MI, 5.6 * GI - (t + 3600) * 2.41 * MI) if t < evict + 25 else 6.4 * GI, -3600, 0, 30,
          noise=0.01)
    s.labels("oom_killed",
             why="Evicted with 'The node was low on resource: memory': the catalog container has a 1Gi request and no "
                 "memory limit, grew to ~9Gi on a 16Gi node and was the pod exceeding its request the most when "
                 "MemoryPressure hit. It is a memory-exhaustion kill, not a disk or scheduling problem.",
             remediation="set a memory limit and raise the request to the real working set (~9Gi) or cap the "
                         "in-memory index; the node itself is healthy again")
    return s
