"""Corpus: image_pull mechanisms across runtimes (containerd, CRI-O, Docker) and registries."""

from __future__ import annotations

from .common import (
    DaemonSet,
    Deployment,
    Snap,
    StatefulSet,
    case,
    container,
    finish_pod,
    image_pull_failure,
    node,
    res,
)


def _pod(s: Snap, app: str, image: str, *, created: float, cname: str = "app", replicas: int = 3,
         pool: str = "workers", init: list | None = None, ready: int | None = None, **kw: object) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(4, 60))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels,
               node=s.new_node(pool), created=created, containers=[container(cname, image, **kw)],  # type: ignore[arg-type]
               init_containers=init)
    s.ev_scheduled()
    return d


@case("corpus")
def image_manifest_unknown_crio() -> Snap:
    s = Snap("image-manifest-unknown-crio", cluster="telco-ocp-core", captured="2024-03-07T23:18:04Z",
             platform="openshift", version="1.28", ns="oss-inventory")
    img = "quay.io/acme-telco/inventory-sync:v2.31"
    d = _pod(s, "inventory-sync", img, created=-1800, cname="sync", pool="worker",
             resources=res("100m", "256Mi", "500m", "512Mi"))
    err = (f"rpc error: code = Unknown desc = initializing source docker://{img}: reading manifest v2.31 in "
           "quay.io/acme-telco/inventory-sync: manifest unknown")
    image_pull_failure(s, "sync", err, count=7, first=-1795)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    s.labels("image_pull",
             why="CRI-O cannot find tag v2.31 in quay.io ('reading manifest v2.31 ... manifest unknown'); the tag was "
                 "never pushed, so the container stays in ImagePullBackOff.",
             remediation="push quay.io/acme-telco/inventory-sync:v2.31 or set the Deployment back to an existing tag")
    return s


@case("corpus")
def image_ecr_403_node_role() -> Snap:
    s = Snap("image-ecr-403-node-role", cluster="data-eks-usw2", captured="2023-10-19T15:07:55Z", platform="eks", region="us-west-2",
             version="1.26", ns="ingest")
    img = "209931405512.dkr.ecr.us-west-2.amazonaws.com/shared/clickstream-ingest:3.0.2"
    d = _pod(s, "clickstream-ingest", img, created=-2440, cname="ingest", pool="data",
             resources=res("500m", "1Gi", "2", "2Gi"))
    ref = img
    err = (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve reference '
           f'"{ref}": unexpected status from HEAD request to https://209931405512.dkr.ecr.us-west-2.amazonaws.com/v2/'
           "shared/clickstream-ingest/manifests/3.0.2: 403 Forbidden")
    image_pull_failure(s, "ingest", err, count=10, first=-2435)
    finish_pod(s)
    node(s, s.node, pool="data", zone="us-west-2c", instance="m6i.2xlarge", cpu=8, mem_gi=32)
    d.emit(ready=0)
    s.labels("image_pull",
             why="The image lives in another AWS account's ECR; the node's instance role is not allowed by the "
                 "repository policy, so the registry answers 403 Forbidden to the manifest request. 'Forbidden' here "
                 "is registry authorization during the pull, not Kubernetes RBAC.",
             remediation="add the node group's IAM role (or the account) to the shared ECR repository policy "
                         "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer) or replicate the image into this account")
    return s


@case("corpus")
def image_dockerhub_ratelimit_dockershim() -> Snap:
    s = Snap("image-dockerhub-ratelimit-dockershim", cluster="lab-kubeadm-docker", captured="2023-03-14T10:22:31Z",
             platform="kubeadm-docker", version="1.23", ns="ci")
    st = StatefulSet(s, "build-cache-redis", replicas=3, ordinal=2)
    img = "redis:7.0.9-alpine"
    s.make_pod(st.pod_name, generate_name=st.generate_name, owner=st.owner, labels=st.pod_labels,
               node=s.new_node("k8s-worker"), created=-960,
               containers=[container("redis", img, ports=[(6379, "redis")], resources=res("100m", "256Mi", None, "512Mi"))])
    s.ev_scheduled()
    err = ("rpc error: code = Unknown desc = Error response from daemon: toomanyrequests: You have reached your pull "
           "rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit")
    image_pull_failure(s, "redis", err, count=6, first=-955)
    finish_pod(s)
    st.emit(ready=2, service="build-cache-redis")
    s.labels("image_pull",
             why="Docker Hub refuses the anonymous pull with 'toomanyrequests: You have reached your pull rate "
                 "limit' (dockershim wording, 'Error response from daemon'); the shared NAT IP of the lab exhausted "
                 "the anonymous quota.",
             remediation="add an imagePullSecret for an authenticated Docker Hub account or mirror redis through the "
                         "internal registry / pull-through cache")
    return s


@case("corpus")
def image_platform_mismatch_arm64() -> Snap:
    s = Snap("image-platform-mismatch-arm64", cluster="farm-k3s-pi", captured="2024-04-29T06:40:12Z", platform="k3s",
             version="1.29", ns="sensors")
    ds = DaemonSet(s, "soil-probe-agent")
    img = "docker.io/acmeagri/soil-probe-agent:1.6.0"
    nn = s.new_node("pi")
    s.make_pod(ds.pod_name, generate_name=ds.generate_name, owner=ds.owner, labels=ds.pod_labels, node=nn,
               created=-700, containers=[container("agent", img, resources=res("20m", "32Mi", "200m", "64Mi"),
                                                   security={"privileged": True})])
    s.ev_scheduled()
    err = (f'failed to pull and unpack image "{img}": no match for platform in manifest: not found')
    image_pull_failure(s, "agent", err, count=5, first=-695)
    finish_pod(s)
    node(s, nn, instance="k3s", zone="greenhouse-2", cpu=4, mem_gi=8, arch="arm64")
    s.labels("image_pull",
             why="The node is arm64 (Raspberry Pi) but soil-probe-agent:1.6.0 was published for linux/amd64 only, so "
                 "containerd finds no matching platform in the manifest and the pull fails.",
             remediation="publish a multi-arch image (docker buildx --platform linux/amd64,linux/arm64) or pin the "
                         "previous multi-arch tag")
    return s


@case("corpus")
def image_invalid_reference_space() -> Snap:
    s = Snap("image-invalid-reference-space", cluster="ops-aks-weu", captured="2024-11-12T13:55:47Z", platform="aks",
             version="1.30", ns="observability", events_api="events")
    img = "acmeops.azurecr.io/exporters/sql-exporter:v0.15.1 "
    d = _pod(s, "sql-exporter", img, created=-420, cname="exporter", replicas=1, pool="syspool",
             ports=[(9399, "metrics")], resources=res("50m", "64Mi", "200m", "128Mi"))
    msg = (f'Failed to apply default image tag "{img}": couldn\'t parse image reference "{img}": invalid reference format')
    s.status("exporter", state=s.waiting("InvalidImageName", msg), image_ok=False)
    s.event("InspectFailed", msg, count=36, first=-418, last=-4, field="exporter")
    s.event("Failed", "Error: InvalidImageName", count=36, first=-418, last=-4, field="exporter")
    finish_pod(s)
    d.emit(ready=0)
    s.labels("image_pull",
             why="The image string ends with a space (a quoted Helm value), which is not a valid reference: kubelet "
                 "reports InvalidImageName / 'invalid reference format' and never attempts the pull.",
             remediation="remove the trailing space from the image value in the Helm values and re-deploy")
    return s


@case("corpus")
def image_harbor_x509_unknown_ca() -> Snap:
    s = Snap("image-harbor-x509-unknown-ca", cluster="factory-kubeadm", captured="2024-08-19T05:13:20Z",
             platform="kubeadm", version="1.28", ns="mes")
    img = "harbor.plant.acme.internal/mes/line-controller:7.2.5"
    d = _pod(s, "line-controller", img, created=-3100, cname="controller", replicas=2, pool="k8s-prod",
             ports=[(8443, "https")], resources=res("250m", "512Mi", "1", "1Gi"))
    nn = s.node
    err = (f'failed to pull and unpack image "{img}": failed to resolve reference "{img}": failed to do request: '
           'Head "https://harbor.plant.acme.internal/v2/mes/line-controller/manifests/7.2.5": tls: failed to verify '
           "certificate: x509: certificate signed by unknown authority")
    image_pull_failure(s, "controller", err, count=11, first=-3095)
    finish_pod(s)
    node(s, nn, instance="vm-4c8g", zone="plant-a", cpu=4, mem_gi=8, created=-3 * 3600)
    d.emit(ready=1)
    s.labels("image_pull",
             why="The node was rebuilt 3 hours ago without the plant's internal CA, so containerd cannot verify "
                 "Harbor's TLS certificate ('x509: certificate signed by unknown authority') and every pull fails.",
             remediation="install the internal CA on the node (/etc/containerd/certs.d/harbor.plant.acme.internal/"
                         "ca.crt or the system trust store) and restart containerd; fix the node image/bootstrap")
    return s


@case("corpus")
def image_pull_secret_missing_ghcr() -> Snap:
    s = Snap("image-pull-secret-missing-ghcr", cluster="startup-gke", captured="2025-03-18T17:02:09Z", platform="gke",
             version="1.32", ns="billing-ui", events_api="events")
    img = "ghcr.io/acme-corp/billing-ui:2025.3.18"
    d = _pod(s, "billing-ui", img, created=-1500, cname="web", pool="default-pool",
             ports=[(3000, "http")], resources=res("100m", "128Mi", "500m", "256Mi"))
    s.pod["spec"]["imagePullSecrets"] = [{"name": "ghcr-pull"}]
    s.event("FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets (ghcr-pull); attempting to "
            "pull the image may not succeed.", count=40, first=-1497, last=-9)
    err = (f'rpc error: code = Unknown desc = failed to pull and unpack image "{img}": failed to resolve reference '
           f'"{img}": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to '
           "https://ghcr.io/token?scope=repository%3Aacme-corp%2Fbilling-ui%3Apull&service=ghcr.io: 401 Unauthorized")
    image_pull_failure(s, "web", err, count=9, first=-1496)
    finish_pod(s)
    d.emit(ready=0)
    s.labels("image_pull",
             why="The pod references imagePullSecret ghcr-pull, which does not exist in the billing-ui namespace "
                 "(it was created in default), so the kubelet pulls anonymously and the private GHCR package returns "
                 "401 Unauthorized.",
             remediation="create the ghcr-pull docker-registry secret in namespace billing-ui (or copy it there) and "
                         "let the kubelet retry")
    return s


@case("corpus")
def image_init_container_tag_removed() -> Snap:
    s = Snap("image-init-container-tag-removed", cluster="content-eks-apse1", captured="2024-12-02T02:48:36Z",
             platform="eks", region="ap-southeast-1", version="1.31", ns="content")
    init_img = "docker.io/bitnami/kubectl:1.25.4-debian-11-r3"
    app_img = "331209848455.dkr.ecr.ap-southeast-1.amazonaws.com/content/article-api:9.0.3"
    init = [container("wait-for-migrations", init_img,
                      command=["kubectl", "wait", "--for=condition=complete", "job/article-db-migrate", "--timeout=300s"],
                      resources=res("10m", "32Mi", "100m", "64Mi"))]
    d = _pod(s, "article-api", app_img, created=-2100, cname="api", init=init, pool="apps",
             ports=[(8080, "http")], resources=res("250m", "512Mi", "1", "1Gi"))
    s.pod["spec"]["serviceAccountName"] = s.pod["spec"]["serviceAccount"] = "article-api"
    err = (f'failed to pull and unpack image "{init_img}": failed to resolve reference "{init_img}": '
           f"{init_img}: not found")
    image_pull_failure(s, "wait-for-migrations", err, count=9, first=-2095)
    s.status("api", state=s.waiting("PodInitializing"), image_ok=False)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    s.labels("image_pull",
             why="The main image is fine; the pod is stuck in Init:ImagePullBackOff because the init container's "
                 "image tag bitnami/kubectl:1.25.4-debian-11-r3 no longer exists on Docker Hub (old Bitnami "
                 "revisions are removed).",
             remediation="pin the wait-for-migrations init container to an existing kubectl image (mirror it into ECR "
                         "so it cannot disappear)")
    return s
