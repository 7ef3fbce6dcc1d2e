"""Corpus: rbac_denied mechanisms (client libraries in several languages, leases, OpenShift APIs, sidecars)."""

from __future__ import annotations

from .common import (
    Deployment,
    Snap,
    case,
    container,
    crashloop,
    finish_pod,
    http_probe,
    render,
    res,
    role,
    role_binding,
    steady,
    timeline,
)


def _mk(s: Snap, app: str, c: dict, *, created: float, sa: str, pool: str = "workers", replicas: int = 1,
        init: list | None = None) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(2, 40))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node(pool),
               created=created, containers=[c], sa=sa, init_containers=init)
    s.ev_scheduled()
    return d


def _user(s: Snap, sa: str) -> str:
    return f"system:serviceaccount:{s.ns}:{sa}"


@case("corpus")
def rbac_python_apiexception_jobs() -> Snap:
    s = Snap("rbac-python-apiexception-jobs", cluster="dbaas-gke", captured="2024-02-27T01:16:40Z", platform="gke",
             version="1.28", ns="backups")
    runs = timeline(s, 5, lambda i: s.rng.uniform(3, 4))
    d = _mk(s, "snapshot-scheduler", container(
        "scheduler", "europe-west1-docker.pkg.dev/acme-dbaas/ops/snapshot-scheduler:0.7.2",
        command=["python", "-m", "snapsched"], resources=res("50m", "96Mi", "200m", "192Mi")),
        created=runs[0][0] - 6, sa="snapshotter", pool="ops-pool")
    crashloop(s, "scheduler", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    role(s, "snapshotter", [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch"]},
                            {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list"]}])
    role_binding(s, "snapshotter", role="snapshotter", sa="snapshotter", cluster_role=False)
    a, b = runs[-1]
    u = _user(s, "snapshotter")
    body = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch is forbidden: '
            f'User \\"{u}\\" cannot create resource \\"jobs\\" in API group \\"batch\\" in the namespace \\"backups\\"",'
            '"reason":"Forbidden","details":{"group":"batch","kind":"jobs"},"code":403}')
    s.log("scheduler", render(s, "python", [
        (a + 0.5, "INFO", "snapshot-scheduler 0.7.2: 14 databases due (window 01:00-03:00)"),
        (a + 1.8, "INFO", "creating snapshot job for orders-pg"),
    ], logger="snapsched") + "\n" + "\n".join([
        "Traceback (most recent call last):",
        '  File "/app/snapsched/__main__.py", line 41, in <module>',
        "    run_window()",
        '  File "/app/snapsched/runner.py", line 88, in run_window',
        "    batch.create_namespaced_job(namespace=NS, body=job)",
        '  File "/usr/local/lib/python3.11/site-packages/kubernetes/client/api/batch_v1_api.py", line 210, in create_namespaced_job',
        "    return self.create_namespaced_job_with_http_info(namespace, body, **kwargs)  # noqa: E501",
        '  File "/usr/local/lib/python3.11/site-packages/kubernetes/client/rest.py", line 238, in request',
        "    raise ApiException(http_resp=r)",
        "kubernetes.client.exceptions.ApiException: (403)",
        "Reason: Forbidden",
        f"HTTP response headers: HTTPHeaderDict({{'Audit-Id': '{s.uid()}', 'Cache-Control': 'no-cache, private', "
        f"'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'X-Kubernetes-Pf-Flowschema-Uid': "
        f"'{s.uid()}', 'X-Kubernetes-Pf-Prioritylevel-Uid': '{s.uid()}', 'Date': '{s.dt(b).strftime('%a, %d %b %Y %H:%M:%S GMT')}', 'Content-Length': '321'}})",
        f"HTTP response body: {body}"]), previous=True)
    s.labels("rbac_denied",
             why="The Kubernetes API returns 403 'jobs.batch is forbidden ... cannot create resource jobs' for the "
                 "snapshotter ServiceAccount: its Role only grants get/list/watch on jobs, so the scheduler dies when "
                 "it tries to create the first snapshot Job.",
             remediation="add the create (and delete) verbs on jobs.batch to Role backups/snapshotter")
    return s


@case("corpus")
def rbac_spark_driver_pods() -> Snap:
    s = Snap("rbac-spark-driver-pods", cluster="lake-eks", captured="2023-10-03T04:12:26Z", platform="eks",
             version="1.27", ns="spark-jobs")
    a, b = -420.0, -395.0
    s.make_pod("daily-sessions-agg-3f1b2c8ae1-driver", node=s.new_node("spark"), created=a - 8, restart_policy="Never",
               labels={"spark-app-selector": "spark-" + s.hexs(32), "spark-role": "driver", "spark-version": "3.5.0"},
               containers=[container("spark-kubernetes-driver", "public.ecr.aws/acme-data/spark:3.5.0-scala2.12-java17",
                                     args=["driver", "--class", "com.acme.lake.DailySessions", "local:///opt/jobs/lake-jobs.jar"],
                                     ports=[(7078, "driver-rpc-port"), (4040, "spark-ui")],
                                     resources=res("1", "2432Mi", None, "2432Mi"))])
    s.ev_scheduled()
    s.status("spark-kubernetes-driver", state=s.terminated(1, "Error", a, b), ready=False)
    s.ev_cycle("spark-kubernetes-driver", count=1, first=a, last=a)
    finish_pod(s)
    u = _user(s, "default")
    s.log("spark-kubernetes-driver", render(s, "logback", [
        (a + 6, "INFO", "Running Spark version 3.5.0"),
        (a + 11, "INFO", "Auto-configuring K8S client using current context from users K8S config file"),
        (a + 14, "INFO", "Going to request 12 executors from Kubernetes for ResourceProfile Id: 0, target: 12, known: 0, sharedSlotFromPendingPods: 2147483647."),
        (a + 15, "ERROR", "Exception when notifying snapshot subscriber."),
    ], logger="o.a.s.s.c.k.ExecutorPodsAllocator", thread="kubernetes-executor-snapshots-subscribers-0") + "\n" + "\n".join([
        "io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: POST at: "
        "https://kubernetes.default.svc/api/v1/namespaces/spark-jobs/pods. Message: Forbidden!Configured service "
        "account doesn't have access. Service account may have been revoked. pods is forbidden: User "
        f"\"{u}\" cannot create resource \"pods\" in API group \"\" in the namespace \"spark-jobs\".",
        "\tat io.fabric8.kubernetes.client.KubernetesClientException.copyAsCause(KubernetesClientException.java:238)",
        "\tat io.fabric8.kubernetes.client.dsl.internal.OperationSupport.waitForResult(OperationSupport.java:518)",
        "\tat org.apache.spark.scheduler.cluster.k8s.ExecutorPodsAllocator.requestNewExecutors(ExecutorPodsAllocator.scala:449)",
        f"{s.dt(b - 1).strftime('%H:%M:%S')}.412 [main] ERROR o.a.spark.SparkContext - Error initializing SparkContext.",
        f"{s.dt(b - 0.5).strftime('%H:%M:%S')}.908 [main] INFO  o.a.spark.util.ShutdownHookManager - Shutdown hook called"]))
    s.labels("rbac_denied",
             why="The Spark driver runs as the namespace's default ServiceAccount, which may not create pods, so the "
                 "API server forbids every executor pod request ('Forbidden!Configured service account doesn't have "
                 "access ... cannot create resource pods') and the driver fails.",
             remediation="submit with spark.kubernetes.authenticate.driver.serviceAccountName=spark and give that "
                         "ServiceAccount a Role with create/get/list/watch/delete on pods, services and configmaps")
    return s


@case("corpus")
def rbac_leader_election_lease() -> Snap:
    s = Snap("rbac-leader-election-lease", cluster="pki-aks", captured="2024-12-11T10:59:05Z", platform="aks",
             version="1.30", ns="cert-sync")
    d = _mk(s, "cert-sync-controller", container(
        "manager", "acmepki.azurecr.io/pki/cert-sync-controller:0.5.0", args=["--leader-elect=true", "--health-probe-bind-address=:8081"],
        resources=res("10m", "64Mi", "500m", "128Mi"), readiness=http_probe("/readyz", 8081),
        liveness=http_probe("/healthz", 8081, delay=15, period=20)), created=-2700, sa="cert-sync", pool="syspool")
    steady(s, "manager", -2694, ready=False)
    finish_pod(s)
    d.emit(ready=0)
    u = _user(s, "cert-sync")
    ent: list[object] = [(-2693, "INFO", "Starting cert-sync-controller version=0.5.0", {"caller": "main.go:102"}),
                         (-2693, "INFO", "attempting to acquire leader lease cert-sync/cert-sync-leader...", {"caller": "leaderelection.go:250"})]
    t = -2690.0
    while t < -3:
        ent.append((t, "ERROR", f'error retrieving resource lock cert-sync/cert-sync-leader: leases.coordination.k8s.io '
                                f'"cert-sync-leader" is forbidden: User "{u}" cannot get resource "leases" in API group '
                                f'"coordination.k8s.io" in the namespace "cert-sync"', {"caller": "leaderelection.go:332"}))
        t += s.rng.uniform(2.2, 3.4)
    s.log("manager", render(s, "klog", ent[-40:]))
    s.labels("rbac_denied",
             why="The controller never becomes leader: every attempt to read its Lease is forbidden for the cert-sync "
                 "ServiceAccount (no rights on leases.coordination.k8s.io), so it idles un-ready without crashing.",
             remediation="add get/create/update on leases.coordination.k8s.io in namespace cert-sync to the "
                         "controller's Role (the leader-election role from the operator's manifests was not applied)")
    return s


@case("corpus")
def rbac_openshift_routes_node() -> Snap:
    s = Snap("rbac-openshift-routes-node", cluster="preview-ocp", captured="2024-04-22T14:27:31Z", platform="openshift",
             version="1.27", ns="preview-envs")
    runs = timeline(s, 4, lambda i: s.rng.uniform(14, 17))
    d = _mk(s, "env-manager", container(
        "manager", "quay.io/acme-dev/env-manager:1.9.0", command=["node", "dist/main.js"],
        resources=res("50m", "128Mi", "300m", "256Mi")), created=runs[0][0] - 5, sa="env-manager", pool="worker")
    crashloop(s, "manager", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    u = _user(s, "env-manager")
    a, b = runs[-1]
    ent: list[object] = [(a + 0.6, "INFO", "env-manager 1.9.0 watching PullRequest webhooks")]
    for i, pr in enumerate([4411, 4412, 4415, 4418, 4420]):
        ent.append((a + 2 + i * 2.5, "ERROR", f"reconcile preview-pr-{pr} failed: HttpError: HTTP request failed; body="
                                               f'{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"routes.route.openshift.io is forbidden: '
                                               f'User \\"{u}\\" cannot create resource \\"routes\\" in API group \\"route.openshift.io\\" in the namespace \\"preview-pr-{pr}\\"",'
                                               '"reason":"Forbidden","details":{"group":"route.openshift.io","kind":"routes"},"code":403}'))
    ent.append((b - 0.1, "FATAL", "5 consecutive reconcile failures, exiting"))
    s.log("manager", render(s, "pino", ent), previous=True)
    s.labels("rbac_denied",
             why="The API server forbids the env-manager ServiceAccount from creating OpenShift Routes "
                 "(route.openshift.io) in the per-PR namespaces; after 5 failed reconciles it exits. The "
                 "ClusterRole it is bound to only covers core and apps resources.",
             remediation="add create/update/delete on routes.route.openshift.io to the env-manager ClusterRole (and "
                         "routes/custom-host if it sets hosts)")
    return s


@case("corpus")
def rbac_native_sidecar_secret_patch() -> Snap:
    s = Snap("rbac-native-sidecar-secret-patch", cluster="edge-eks-ingress", captured="2025-03-10T19:45:12Z",
             platform="eks", version="1.30", ns="ingress")
    runs = timeline(s, 6, lambda i: s.rng.uniform(0.8, 1.4), running_now=False)
    sidecar = container("cert-reloader", "docker.io/bitnami/kubectl:1.30.6", restart_policy="Always",
                        command=["/bin/sh", "-c", "kubectl patch secret tls-bundle --type merge -p \"$(cat /certs/patch.json)\" && sleep infinity"],
                        resources=res("10m", "32Mi", "100m", "64Mi"), mounts=[{"mountPath": "/certs", "name": "certs"}])
    d = _mk(s, "edge-proxy", container("envoy", "docker.io/envoyproxy/envoy:v1.31.2", ports=[(8443, "https")],
                                       resources=res("500m", "256Mi", "2", "512Mi"),
                                       mounts=[{"mountPath": "/certs", "name": "certs"}]),
            created=runs[0][0] - 6, sa="edge-proxy", init=[sidecar], replicas=3)
    s.pod["spec"]["volumes"].insert(0, {"emptyDir": {}, "name": "certs"})
    crashloop(s, "cert-reloader", runs, exit_code=1, started=False)
    s.status("envoy", state=s.waiting("PodInitializing"), image_ok=False)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    u = _user(s, "edge-proxy")
    s.log("cert-reloader", f'Error from server (Forbidden): secrets "tls-bundle" is forbidden: User "{u}" cannot patch '
                           f'resource "secrets" in API group "" in the namespace "ingress"', previous=True)
    s.labels("rbac_denied",
             why="The pod is stuck in Init because its native sidecar cert-reloader (restartPolicy Always init "
                 "container) exits 1 right away: kubectl patch on Secret tls-bundle is forbidden for the edge-proxy "
                 "ServiceAccount, so envoy never starts.",
             remediation="grant patch (get/update) on secrets named tls-bundle in namespace ingress to the edge-proxy "
                         "ServiceAccount via a Role with resourceNames")
    return s


@case("corpus")
def rbac_nodes_cluster_scope_123() -> Snap:
    s = Snap("rbac-nodes-cluster-scope-123", cluster="legacy-kubeadm-docker", captured="2023-01-19T16:03:51Z",
             platform="kubeadm-docker", version="1.23", ns="sre-monitoring")
    runs = timeline(s, 8, lambda i: s.rng.uniform(30.5, 31.5))
    d = _mk(s, "capacity-exporter", container(
        "exporter", "registry.corp.example/sre/capacity-exporter:2.1", args=["--listen=:9105"], ports=[(9105, "metrics")],
        resources=res("20m", "32Mi", "100m", "64Mi")), created=runs[0][0] - 5, sa="capacity-exporter", pool="k8s-node")
    crashloop(s, "exporter", runs, exit_code=255)
    finish_pod(s)
    d.emit(ready=0)
    u = _user(s, "capacity-exporter")
    a, b = runs[-1]
    ent: list[object] = [(a + 0.02, "INFO", "capacity-exporter 2.1 listening on :9105", {"caller": "main.go:48"})]
    for i in range(3):
        ent.append((a + 1 + i * 10, "ERROR", f'pkg/mod/k8s.io/client-go@v0.23.5/tools/cache/reflector.go:167: Failed to '
                                              f'watch *v1.Node: failed to list *v1.Node: nodes is forbidden: User "{u}" '
                                              'cannot list resource "nodes" in API group "" at the cluster scope',
                    {"caller": "reflector.go:138"}))
    ent.append((b - 0.05, "FATAL", "timed out waiting for node informer to sync", {"caller": "main.go:71"}))
    s.log("exporter", render(s, "klog", ent), previous=True)
    s.labels("rbac_denied",
             why="Nodes are cluster-scoped: the exporter's ServiceAccount has only a namespaced Role, so listing nodes "
                 "is forbidden 'at the cluster scope', the informer never syncs and the exporter exits 255 every 30 s.",
             remediation="create a ClusterRole with get/list/watch on nodes and bind it to "
                         "monitoring/capacity-exporter with a ClusterRoleBinding")
    return s


@case("corpus")
def rbac_kube_rbac_proxy_tokenreviews() -> Snap:
    s = Snap("rbac-kube-rbac-proxy-tokenreviews", cluster="platform-aks-125", captured="2023-06-12T09:31:02Z",
             platform="aks", version="1.25", ns="db-operator")
    proxy = container("kube-rbac-proxy", "quay.io/brancz/kube-rbac-proxy:v0.14.1",
                      args=["--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8080/", "--v=0"],
                      ports=[(8443, "https")], resources=res("5m", "64Mi", "500m", "128Mi"))
    d = Deployment(s, "pg-operator-controller-manager", replicas=1,
                   labels={"control-plane": "controller-manager"}, revision=3)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node("syspool"),
               created=-4 * 86400, sa="pg-operator-controller-manager", containers=[
                   proxy, container("manager", "ghcr.io/acme-data/pg-operator:1.6.0", args=["--leader-elect"],
                                    resources=res("10m", "64Mi", "500m", "256Mi"),
                                    readiness=http_probe("/readyz", 8081), liveness=http_probe("/healthz", 8081))])
    s.ev_scheduled(-4 * 86400 + 1)
    steady(s, "kube-rbac-proxy", -4 * 86400 + 9, events=False)
    steady(s, "manager", -4 * 86400 + 10, events=False)
    finish_pod(s)
    d.emit(ready=1)
    u = _user(s, "pg-operator-controller-manager")
    ent = [(t, "ERROR", f"Unable to authenticate the request due to an error: tokenreviews.authentication.k8s.io is "
                        f'forbidden: User "{u}" cannot create resource "tokenreviews" in API group '
                        '"authentication.k8s.io" at the cluster scope', {"caller": "proxy.go:73"})
           for t in range(-900, -5, 30)]
    s.log("kube-rbac-proxy", render(s, "klog", ent))
    s.log("manager", render(s, "zap", [(-600, "info", "Reconciling PostgresCluster orders-db"),
                                       (-300, "info", "Reconciling PostgresCluster ledger-db")],
                            caller=("controller/controller.go:220",)))
    s.labels("rbac_denied",
             why="Nothing restarts, but every metrics scrape through the kube-rbac-proxy sidecar fails: the proxy must "
                 "create TokenReviews to authenticate Prometheus and its ServiceAccount lacks the cluster-scoped "
                 "permission, so the API server returns forbidden and the target is down.",
             remediation="bind the operator's proxy ClusterRole (create on tokenreviews.authentication.k8s.io and "
                         "subjectaccessreviews.authorization.k8s.io) to pg-operator-controller-manager")
    return s
