"""Corpus: network mechanisms (DNS, Services without endpoints, NetworkPolicy, CNI, dependencies, MTU)."""

from __future__ import annotations

from .common import (
    Deployment,
    Snap,
    case,
    container,
    crashloop,
    endpoints,
    finish_pod,
    network_policy,
    node,
    render,
    res,
    secret_env,
    service,
    timeline,
)


def _mk(s: Snap, app: str, c: dict, *, created: float, pool: str = "workers", replicas: int = 3,
        init: list | None = None) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(3, 70))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node(pool),
               created=created, containers=[c], init_containers=init)
    s.ev_scheduled()
    return d


@case("corpus")
def net_dns_eai_again_python() -> Snap:
    s = Snap("net-dns-eai-again-python", cluster="erp-eks-sa", captured="2024-05-08T12:30:59Z", platform="eks", region="sa-east-1",
             version="1.28", ns="erp")
    runs = timeline(s, 5, lambda i: s.rng.uniform(31, 34))
    d = _mk(s, "invoice-sync", container(
        "sync", "447719230021.dkr.ecr.sa-east-1.amazonaws.com/erp/invoice-sync:2.0.7", command=["python", "-m", "invoice_sync"],
        env={"ERP_DB_HOST": "erp-postgres.erp.svc.cluster.local", "SEFAZ_URL": "https://nfe.fazenda.sp.gov.br/ws/"},
        resources=res("100m", "256Mi", "500m", "512Mi")), created=runs[0][0] - 7, replicas=2)
    crashloop(s, "sync", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    a, b = runs[-1]
    ent: list[object] = [(a + 0.6, "INFO", "invoice-sync 2.0.7 starting"),
                         (a + 0.6, "INFO", "db=postgresql://invoice_sync:**@erp-postgres.erp.svc.cluster.local:5432/erp "
                                           "queue=amqp://invoice:**@rabbitmq.erp.svc.cluster.local:5672/erp")]
    for i in range(1, 6):
        host = "erp-postgres.erp.svc.cluster.local" if i % 2 else "nfe.fazenda.sp.gov.br"
        ent.append((a + 0.6 + i * 6, "WARNING", f"attempt {i}/5: could not resolve {host}: [Errno -3] Temporary failure in name resolution"))
    s.log("sync", render(s, "python-dash", ent, logger="invoice_sync.net") + "\n" + "\n".join([
        "Traceback (most recent call last):",
        '  File "/app/invoice_sync/db.py", line 33, in connect',
        "    return psycopg.connect(self.dsn, connect_timeout=5)",
        '  File "/usr/local/lib/python3.12/site-packages/psycopg/connection.py", line 119, in connect',
        "    raise last_ex.with_traceback(None)",
        'psycopg.OperationalError: [Errno -3] Temporary failure in name resolution',
        "",
        "The above exception was the direct cause of the following exception:", "",
        "Traceback (most recent call last):",
        '  File "/app/invoice_sync/__main__.py", line 12, in <module>',
        "    main()",
        "RuntimeError: database unreachable after 5 attempts"]), previous=True)
    s.labels("network",
             why="Both the in-cluster Postgres Service name and an external host fail with EAI_AGAIN ('Temporary "
                 "failure in name resolution'), i.e. the pod cannot reach a DNS server at all; the worker gives up "
                 "after 5 attempts. The database itself is not the problem.",
             remediation="check CoreDNS / the kube-dns Service and the node's path to it (security group rules for "
                         "UDP/TCP 53 between nodes); restart the worker once lookups succeed")
    return s


@case("corpus")
def net_service_no_endpoints_rust() -> Snap:
    s = Snap("net-service-no-endpoints-rust", cluster="shop-aks-prod", captured="2024-09-24T08:02:44Z", platform="aks",
             version="1.29", ns="webshop")
    runs = timeline(s, 6, lambda i: s.rng.uniform(9.5, 11))
    d = _mk(s, "basket", container(
        "basket", "acmeshop.azurecr.io/shop/basket:0.42.1", ports=[(8080, "http")],
        env={"PRICING_URL": "http://pricing.webshop.svc.cluster.local:8080", "RUST_LOG": "info"},
        resources=res("50m", "64Mi", "500m", "128Mi")), created=runs[0][0] - 6)
    crashloop(s, "basket", runs, exit_code=101)
    finish_pod(s)
    d.emit(ready=0)
    ip = f"10.0.{s.rng.randint(1, 250)}.{s.rng.randint(2, 250)}"
    service(s, "pricing", selector={"app": "pricing-svc"}, ports=[("http", 8080, 8080)], cluster_ip=ip)
    endpoints(s, "pricing")
    a, b = runs[-1]
    ent: list[object] = [(a + 0.01, "INFO", "basket 0.42.1 starting")]
    for i in range(1, 4):
        ent.append((a + i * 3, "WARN", f"pricing warmup attempt {i}/3 failed: error sending request for url "
                                       f"(http://pricing.webshop.svc.cluster.local:8080/v1/price-lists/current): error trying "
                                       f"to connect: tcp connect error: Connection refused (os error 111)"))
    s.log("basket", render(s, "rust", ent, logger="basket::pricing") + "\n" +
          "thread 'main' panicked at src/main.rs:57:10:\n"
          "pricing warmup failed: reqwest::Error { kind: Request, url: \"http://pricing.webshop.svc.cluster.local:8080/v1/"
          "price-lists/current\", source: hyper_util::client::legacy::Error(Connect, ConnectError(\"tcp connect error\", "
          "Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" })) }\n"
          "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace", previous=True)
    s.labels("network",
             why="basket panics (exit 101) because every connection to the pricing Service is refused. The cause sits "
                 "in the Service: its selector app=pricing-svc matches no pods, so the Endpoints object has no "
                 "addresses and kube-proxy rejects the connection.",
             remediation="fix the pricing Service selector to the pods' label (app=pricing) so it gets endpoints; "
                         "basket recovers on its next restart")
    return s


@case("corpus")
def net_networkpolicy_egress_timeout() -> Snap:
    s = Snap("net-networkpolicy-egress-timeout", cluster="fintech-gke", captured="2024-03-21T15:49:10Z",
             platform="gke", version="1.29", ns="ledger-readers")
    runs = timeline(s, 4, lambda i: s.rng.uniform(62, 66))
    d = _mk(s, "statement-api", container(
        "api", "europe-west2-docker.pkg.dev/acme-fin/apps/statement-api:3.3.0", ports=[(8080, "http")],
        env={"DATABASE_URL": secret_env("statement-db", "url")}, resources=res("100m", "128Mi", "1", "256Mi")),
        created=runs[0][0] - 5)
    crashloop(s, "api", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    network_policy(s, "default-deny-egress", {
        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]}],
        "podSelector": {}, "policyTypes": ["Egress"]}, created=-2700)
    a, b = runs[-1]
    dbip = f"10.{s.rng.randint(100, 120)}.{s.rng.randint(0, 255)}.{s.rng.randint(2, 250)}"
    ent: list[object] = [(a + 0.1, "info", "statement-api 3.3.0 starting")]
    for i in range(1, 4):
        ent.append((a + i * 20.5, "warn", f"db ping failed attempt={i} err=\"failed to connect to `host=ledger-replica.db.internal "
                                           f"user=statements database=ledger`: dial error (dial tcp {dbip}:5432: i/o timeout)\""))
    ent.append((b - 0.1, "error", "giving up: database unreachable"))
    s.log("api", render(s, "logrus", ent), previous=True)
    s.labels("network",
             why="The DB host resolves (DNS is allowed) but every TCP connect to 5432 times out (i/o timeout). A "
                 "NetworkPolicy default-deny-egress created 45 minutes ago allows only DNS egress from all pods in the "
                 "namespace, so the statement-api cannot reach its database.",
             remediation="add an egress rule to the NetworkPolicy for the database CIDR/port 5432 (or exempt "
                         "statement-api) and let the pod restart")
    return s


@case("corpus")
def net_cni_ip_exhaustion_eks() -> Snap:
    s = Snap("net-cni-ip-exhaustion-eks", cluster="ads-eks-use1", captured="2023-08-30T21:12:07Z", platform="eks", region="us-east-1",
             version="1.25", ns="ads")
    d = _mk(s, "bid-router", container(
        "router", "773011902214.dkr.ecr.us-east-1.amazonaws.com/ads/bid-router:5.0.9", ports=[(9000, "http")],
        resources=res("1", "1Gi", "2", "1Gi")), created=-840, replicas=40, pool="bidders")
    s.status("router", state=s.waiting("ContainerCreating"), image_ok=False)
    sb = s.hexs(64)
    s.event("FailedCreatePodSandBox", f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup '
            f'network for sandbox "{sb}": plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign '
            "an IP address to container", count=58, first=-836, last=-6)
    finish_pod(s, sandbox=False)
    node(s, s.node, pool="bidders", zone="us-east-1d", instance="c6i.large", cpu=2, mem_gi=4)
    d.emit(ready=31, unavailable=9)
    s.labels("network",
             why="The pod never gets a sandbox: the AWS VPC CNI cannot assign an IP ('failed to assign an IP address "
                 "to container') because the c6i.large node has used all its ENI secondary IPs / the subnet is out of "
                 "free addresses after the scale-out.",
             remediation="enable prefix delegation (ENABLE_PREFIX_DELEGATION=true) or add larger subnets / bigger "
                         "instance types; lower max pods per node to what the ENIs can address")
    return s


@case("corpus")
def net_calico_unauthorized_sandbox() -> Snap:
    s = Snap("net-calico-unauthorized-sandbox", cluster="onprem-kubeadm-ams", captured="2024-01-25T07:33:18Z",
             platform="kubeadm", version="1.27", ns="warehouse")
    d = _mk(s, "pick-planner", container(
        "planner", "harbor.acme-logistics.example/wms/pick-planner:3.14.2", ports=[(8080, "http")],
        resources=res("200m", "256Mi", "1", "512Mi")), created=-1320, pool="k8s-wrk")
    s.status("planner", state=s.waiting("ContainerCreating"), image_ok=False)
    sb = s.hexs(64)
    s.event("FailedCreatePodSandBox", f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup '
            f'network for sandbox "{sb}": plugin type="calico" failed (add): error getting ClusterInformation: '
            "connection is unauthorized: Unauthorized", count=71, first=-1316, last=-12)
    s.event("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", type="Normal", count=70,
            first=-1310, last=-14)
    finish_pod(s, sandbox=False)
    d.emit(ready=2)
    s.labels("network",
             why="The pod is stuck in ContainerCreating because the Calico CNI plugin on the node fails to set up pod "
                 "networking: its own token for the API server is no longer accepted ('connection is unauthorized: "
                 "Unauthorized'). This is a CNI/node networking failure, not RBAC for the workload.",
             remediation="restart calico-node on the affected node so it refreshes the CNI kubeconfig token (upgrade "
                         "Calico if the token refresh is broken)")
    return s


@case("corpus")
def net_init_wait_for_mysql() -> Snap:
    s = Snap("net-init-wait-for-mysql", cluster="school-k3s", captured="2024-02-12T07:58:21Z", platform="k3s",
             version="1.27", ns="lms")
    init = [container("wait-for-db", "docker.io/library/busybox:1.36.1",
                      command=["sh", "-c", "until nc -z -w 2 lms-mysql 3306; do echo waiting for lms-mysql:3306; sleep 3; done"],
                      resources=res("5m", "8Mi", "50m", "16Mi"))]
    d = _mk(s, "moodle", container("moodle", "docker.io/bitnami/moodle:4.3.2-debian-12-r1", ports=[(8080, "http")],
                                   resources=res("250m", "512Mi", "1", "1Gi")), created=-2100, init=init,
            replicas=1, pool="lms-node")
    s.status("wait-for-db", state=s.running(-2094), ready=False)
    s.ev_cycle("wait-for-db", count=1, first=-2094, last=-2094)
    s.status("moodle", state=s.waiting("PodInitializing"), image_ok=False)
    finish_pod(s)
    d.emit(ready=0)
    dbip = f"10.43.{s.rng.randint(0, 255)}.{s.rng.randint(2, 250)}"
    service(s, "lms-mysql", selector={"app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "lms"},
            ports=[("mysql", 3306, "mysql")], cluster_ip=dbip)
    endpoints(s, "lms-mysql", not_ready=[(f"10.42.{s.rng.randint(0, 3)}.{s.rng.randint(2, 250)}", "lms-mysql-0")],
              ports=[("mysql", 3306)])
    lines = []
    t = -2092.0
    while t < -2:
        lines.append("waiting for lms-mysql:3306")
        t += 5.1
    s.log("wait-for-db", "\n".join(lines[-120:]))
    s.labels("network",
             why="The pod is held in Init:0/1 by wait-for-db, which has been unable to open TCP 3306 on the lms-mysql "
                 "Service for 35 minutes: the Service's only endpoint lms-mysql-0 is listed as notReady, so there is "
                 "nothing to connect to.",
             remediation="fix lms-mysql-0 (it is not Ready) so the Service gets a ready endpoint; moodle starts as "
                         "soon as the port answers")
    return s


@case("corpus")
def net_tls_handshake_mtu() -> Snap:
    s = Snap("net-tls-handshake-mtu", cluster="corp-aks-overlay", captured="2024-11-19T10:26:40Z", platform="aks",
             version="1.29", ns="identity-sync")
    runs = timeline(s, 4, lambda i: s.rng.uniform(95, 100))
    d = _mk(s, "entra-sync", container(
        "sync", "acmecorp.azurecr.io/identity/entra-sync:1.8.0", env={"AZURE_TENANT_ID": "7c1e4f0a-52d3-4b8e-9f61-2a9d0c3e8b15", "HTTP_TIMEOUT": "30s",
             "AZURE_CLIENT_SECRET": secret_env("entra-sync", "client-secret")},
        resources=res("50m", "64Mi", "250m", "128Mi")), created=runs[0][0] - 5, replicas=1, pool="sys")
    crashloop(s, "sync", runs, exit_code=1)
    finish_pod(s)
    node(s, s.node, pool="sys", zone="westeurope-1", instance="Standard_D4ds_v5", cpu=4, mem_gi=16)
    d.emit(ready=0)
    a, b = runs[-1]
    ent: list[object] = [(a + 0.2, "INFO", "entra-sync 1.8.0 starting"),
                         (a + 0.3, "INFO", "resolved login.microsoftonline.com -> 20.190.160.22"),
                         (a + 0.4, "INFO", "resolved graph.microsoft.com -> 20.190.151.9")]
    for i in range(1, 4):
        ent.append((a + 0.4 + i * 31, "INFO", f"token request failed (attempt {i}/3): Post "
                                               f"\"https://login.microsoftonline.com/7c1e4f0a-52d3-4b8e-9f61-2a9d0c3e8b15/oauth2/v2.0/token\": net/http: TLS handshake timeout"))
    ent.append((b - 0.1, "INFO", "fatal: could not obtain access token, exiting"))
    s.log("sync", render(s, "go", ent), previous=True)
    s.labels("network",
             why="DNS resolves and the token request reaches the TCP stage, but every TLS handshake to Entra ID "
                 "times out on every attempt, so the sync exits after 3 tries. A handshake that never completes while "
                 "DNS works is a network-path problem (MTU/fragmentation black hole on the overlay, or an egress "
                 "firewall dropping the large ServerHello), not an application or credential error.",
             remediation="test from a debug pod on the same node (curl -v https://login.microsoftonline.com); align the "
                         "pod MTU with the overlay / enable MSS clamping, or fix the egress firewall rule")
    return s
