"""Corpus: disk_pressure mechanisms (node evictions, ephemeral limits, emptyDir, taints, full PVCs, inodes)."""

from __future__ import annotations

from .common import (
    GI,
    MI,
    Deployment,
    Job,
    Snap,
    StatefulSet,
    case,
    container,
    crashloop,
    finish_pod,
    gauge,
    labels,
    mount,
    node,
    node_fs,
    pvc,
    render,
    res,
    scheduling_message,
    secret_env,
    taint,
    taint_phrase,
    timeline,
    volume_stats,
)


def _evicted(s: Snap, c: str, msg: str, at: float, started: float, *, dt: bool = True) -> None:
    s.status(c, state=s.terminated(137, "Error", started, at + s.rng.uniform(2, 30)), ready=False)
    s.event("Evicted", msg, first=at)
    s.event("Killing", f"Stopping container {c}", type="Normal", first=at, field=c)
    extra = [{"lastProbeTime": None, "lastTransitionTime": s.iso(at), "message": msg.strip(),
              "reason": "TerminationByKubelet", "status": "True", "type": "DisruptionTarget"}] if dt and s.v("1.26") else []
    finish_pod(s, phase="Failed", reason="Evicted", message=msg, extra_conditions=extra)


def _deploy(s: Snap, app: str, c: dict, *, created: float, pool: str = "workers", replicas: int = 3,
            volumes: list | None = None) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(2, 50))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node(pool),
               created=created, containers=[c], volumes=volumes)
    s.ev_scheduled()
    return d


@case("corpus")
def disk_node_logs_victim_eviction() -> Snap:
    s = Snap("disk-node-logs-victim-eviction", cluster="news-gke", captured="2024-08-14T03:09:52Z", platform="gke",
             version="1.30", ns="frontend", events_api="events")
    d = _deploy(s, "article-renderer", container(
        "renderer", "us-docker.pkg.dev/acme-news/web/article-renderer:22.8.1", ports=[(3000, "http")]),
        created=-20 * 3600, pool="web-pool")
    used = s.rng.randint(780_000, 840_000)
    msg = (f"The node was low on resource: ephemeral-storage. Threshold quantity: 10245364204, available: "
           f"{s.rng.randint(9_300_000, 9_900_000)}Ki. Container renderer was using {used}Ki, request is 0, has larger "
           "consumption of ephemeral-storage. ")
    _evicted(s, "renderer", msg, -700, -20 * 3600 + 14)
    nref = {"kind": "Node", "name": s.node, "uid": s.node}
    s.event("EvictionThresholdMet", "Attempting to reclaim ephemeral-storage", count=4, first=-760, last=-640, obj=nref)
    node(s, s.node, pool="web-pool", zone="us-central1-f", instance="e2-standard-4", cpu=4, mem_gi=16, disk_gi=100,
         pressure={"DiskPressure": -765}, taints=[taint("node.kubernetes.io/disk-pressure", since=s.iso(-762))])
    d.emit(ready=3)
    node_fs(s, avail=lambda t: max(9.4 * GI, 31 * GI - (t + 3600) * 7.6 * MI), size=95 * GI, start=-3600, step=60,
            device="/dev/sda1", fstype="ext4", mount="/")
    gauge(s, "container_fs_usage_bytes", labels(s, "renderer", device="/dev/sda1"),
          lambda t: used * 1024 if t < -690 else None, -3600, 0, 60, noise=0.003)
    s.labels("disk_pressure",
             why="Evicted for ephemeral-storage while the node's root filesystem fell below the 10% threshold "
                 "(node DiskPressure, disk-pressure taint, EvictionThresholdMet). The renderer itself uses only "
                 "~800Mi; it was picked because it has no ephemeral-storage request. The disk is consumed on the node.",
             remediation="find what fills the node disk (container logs under /var/log/pods, images) and clean it; "
                         "give the renderer an ephemeral-storage request so it ranks below the offenders")
    return s


@case("corpus")
def disk_container_ephemeral_limit() -> Snap:
    s = Snap("disk-container-ephemeral-limit", cluster="dataops-eks", captured="2023-11-02T11:45:33Z", platform="eks", region="eu-west-1",
             version="1.27", ns="dataops-etl")
    d = _deploy(s, "csv-normalizer", container(
        "normalizer", "661200437718.dkr.ecr.eu-west-1.amazonaws.com/etl/csv-normalizer:0.9.12",
        env={"TMPDIR": "/tmp"}, resources=res("500m", "1Gi", "2", "2Gi", req_ephemeral_storage="1Gi",
                                               lim_ephemeral_storage="2Gi")), created=-5400, replicas=2)
    msg = "Pod ephemeral local storage usage exceeds the total limit of containers 2Gi. "
    _evicted(s, "normalizer", msg, -1500, -5390)
    d.emit(ready=2)
    gauge(s, "container_fs_usage_bytes", labels(s, "normalizer", device="/dev/nvme0n1p1"),
          lambda t: (0.3 * GI + (t + 3600) / 2100 * 1.75 * GI) if t < -1500 else None, -3600, 0, 60, noise=0.002)
    s.log("normalizer", render(s, "python", [
        (-1900, "INFO", "spooling s3://acme-etl-inbox/2023-11-02/partner-7/ to /tmp/spool (14 files, 3.4 GiB)"),
        (-1720, "INFO", "spooled 6/14 files"),
        (-1540, "INFO", "spooled 9/14 files")], logger="normalizer.spool"))
    s.labels("disk_pressure",
             why="The kubelet evicted the pod because its ephemeral storage exceeded the containers' 2Gi "
                 "ephemeral-storage limit: it spools 3.4GiB of CSVs into /tmp in the writable layer. The node itself "
                 "is fine; this is a per-pod local storage limit.",
             remediation="stream the files instead of spooling, or mount an emptyDir/generic ephemeral volume sized for "
                         "the spool and raise the ephemeral-storage limit accordingly")
    return s


@case("corpus")
def disk_emptydir_sizelimit() -> Snap:
    s = Snap("disk-emptydir-sizelimit", cluster="mail-aks", captured="2024-04-04T18:21:06Z", platform="aks",
             version="1.28", ns="mail")
    d = _deploy(s, "outbound-mta", container(
        "postfix", "acmemail.azurecr.io/mail/postfix-relay:3.8.4", ports=[(25, "smtp")],
        resources=res("100m", "256Mi", "1", "512Mi"), mounts=[mount("spool", "/var/spool/postfix")]),
        created=-2 * 86400, volumes=[{"emptyDir": {"sizeLimit": "5Gi"}, "name": "spool"}], pool="mailpool")
    msg = 'Usage of EmptyDir volume "spool" exceeds the limit "5Gi". '
    _evicted(s, "postfix", msg, -300, -2 * 86400 + 11)
    d.emit(ready=1)
    s.log("postfix", "\n".join(
        f"{s.dt(t).strftime('%b %d %H:%M:%S')} {s.pod_name} postfix/qmgr[412]: {s.hexs(11).upper()}: from=<noreply@acme-mail.example>, "
        f"size={s.rng.randint(40000, 90000)}, nrcpt=1 (queue active)" for t in range(-900, -310, 45)) + "\n" +
        "\n".join(f"{s.dt(t).strftime('%b %d %H:%M:%S')} {s.pod_name} postfix/smtp[{s.rng.randint(500, 900)}]: "
                  f"{s.hexs(11).upper()}: to=<user{s.rng.randint(1, 9999)}@example.org>, relay=none, delay={s.rng.randint(3000, 9000)}, "
                  "status=deferred (connect to mx.example.org[203.0.113.25]:25: Connection timed out)"
                  for t in range(-880, -320, 70)))
    s.labels("disk_pressure", also=[],
             why="Evicted because the postfix spool emptyDir exceeded its 5Gi sizeLimit ('Usage of EmptyDir volume "
                 "\"spool\" exceeds the limit'); the deferred-queue keeps growing because a destination MX times out. "
                 "The SMTP timeouts explain the growth, the kill is local storage.",
             remediation="raise the spool sizeLimit or move the queue to a PVC, and expire/bounce deferred mail for the "
                         "unreachable destination")
    return s


@case("corpus")
def disk_pending_pressure_taint() -> Snap:
    s = Snap("disk-pending-pressure-taint", cluster="lab-kubeadm-126", captured="2023-07-18T09:02:47Z",
             platform="kubeadm", version="1.26", ns="qa")
    d = Deployment(s, "test-runner", replicas=2, labels={"app": "test-runner"}, revision=3)
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=None, created=-1260,
               containers=[container("runner", "registry.lab.example/qa/test-runner:2023.07",
                                     resources=res("500m", "1Gi", "2", "2Gi"))])
    msg = scheduling_message(s.version, 4, [taint_phrase(s.version, 1, "node-role.kubernetes.io/control-plane"),
                                             taint_phrase(s.version, 3, "node.kubernetes.io/disk-pressure")])
    s.event("FailedScheduling", msg, count=22, first=-1258, last=-38, component="default-scheduler")
    finish_pod(s, unschedulable=msg)
    for i in range(3):
        nn = f"lab-worker-0{i + 1}"
        node(s, nn, instance="vm-4c16g", zone="lab", cpu=4, mem_gi=16, disk_gi=60,
             pressure={"DiskPressure": -s.rng.randint(1500, 4000)},
             taints=[taint("node.kubernetes.io/disk-pressure", since=s.iso(-1400 - i * 300))])
    d.emit(ready=0)
    s.labels("disk_pressure", also=["scheduling"],
             why="The pod is Pending only because all three workers carry the node.kubernetes.io/disk-pressure taint "
                 "(their DiskPressure condition is True) and the fourth node is the control plane. The root cause is "
                 "node disk exhaustion; the scheduling failure is the symptom.",
             remediation="free disk on the lab workers (crictl rmi --prune, clear old build artefacts) so DiskPressure "
                         "clears and the taint is removed")
    return s


@case("corpus")
def disk_postgres_pvc_full() -> Snap:
    s = Snap("disk-postgres-pvc-full", cluster="saas-gke-eu", captured="2024-12-27T04:50:33Z", platform="gke",
             version="1.29", ns="accounts-db")
    st = StatefulSet(s, "accounts-pg", replicas=1)
    runs = timeline(s, 5, lambda i: s.rng.uniform(1.5, 2.5))
    s.make_pod(st.pod_name, generate_name=st.generate_name, owner=st.owner, labels=st.pod_labels,
               node=s.new_node("db-pool"), created=-20 * 86400,
               containers=[container("postgres", "docker.io/library/postgres:15.8", ports=[(5432, "postgres")],
                                     env={"PGDATA": "/var/lib/postgresql/data/pgdata",
                                          "POSTGRES_PASSWORD": secret_env("accounts-pg", "password")},
                                     resources=res("1", "4Gi", "2", "4Gi"),
                                     mounts=[mount("data", "/var/lib/postgresql/data")])],
               volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-accounts-pg-0"}}])
    s.ev_scheduled(-20 * 86400 + 1)
    crashloop(s, "postgres", runs, exit_code=1, pulled_first=False)
    finish_pod(s)
    st.emit(ready=0)
    pvc(s, "data-accounts-pg-0", sc="premium-rwo", size="50Gi", volume=f"pvc-{s.uid()}", provisioner="pd.csi.storage.gke.io")
    cap = 52_576_092_160
    volume_stats(s, "data-accounts-pg-0", capacity=cap,
                 avail=lambda t: max(0.0, 2.9 * GI - (t + 3600) * 0.9 * MI) if t < -400 else 0, start=-3600)
    a, b = runs[-1]
    prev_txt = render(s, "postgres", [
        (a + 0.1, "INFO", "starting PostgreSQL 15.8 (Debian 15.8-1.pgdg120+1) on x86_64-pc-linux-gnu"),
        (a + 0.1, "INFO", 'listening on IPv4 address "0.0.0.0", port 5432'),
        (a + 0.2, "INFO", "database system was interrupted; last known up at 2024-12-27 03:41:12 UTC"),
        (a + 0.3, "INFO", "database system was not properly shut down; automatic recovery in progress"),
        (a + 0.4, "INFO", "redo starts at 2C/9F01A3B8"),
        (a + 1.1, "PANIC", 'could not write to file "pg_wal/xlogtemp.31": No space left on device'),
        (a + 1.2, "INFO", "startup process (PID 31) was terminated by signal 6: Aborted"),
        (a + 1.2, "INFO", "aborting startup due to startup process failure"),
        (a + 1.3, "INFO", "database system is shut down")], pid=1)
    s.log("postgres", prev_txt, previous=True)
    s.labels("disk_pressure",
             why="Postgres cannot even finish crash recovery: 'could not write to file pg_wal/...: No space left on "
                 "device'. kubelet_volume_stats show the 50Gi data PVC at 0 bytes available after steady WAL growth; "
                 "the volume mounts fine, it is simply full.",
             remediation="expand the PVC (premium-rwo allows volume expansion) and then find why WAL grew (stuck "
                         "replication slot / failed archive_command)")
    return s


@case("corpus")
def disk_inodes_eviction_crio() -> Snap:
    s = Snap("disk-inodes-eviction-crio", cluster="web-ocp-legacy", captured="2023-04-26T14:37:12Z",
             platform="openshift", version="1.25", ns="legacy-portal")
    d = _deploy(s, "portal-php", container(
        "php-fpm", "image-registry.openshift-image-registry.svc:5000/legacy-portal/portal-php:5.8",
        ports=[(9000, "fastcgi")], resources=res("200m", "256Mi", "1", "512Mi")), created=-6 * 86400, pool="worker")
    msg = (f"The node was low on resource: inodes. Threshold quantity: 655360, available: {s.rng.randint(500000, 640000)}. "
           f"Container php-fpm was using {s.rng.randint(2_900_000, 3_300_000)}, request is 0, has larger consumption of inodes. ")
    _evicted(s, "php-fpm", msg, -1100, -6 * 86400 + 15)
    node(s, s.node, pool="worker", zone="dc-east", instance="vm-8c32g", cpu=8, mem_gi=32, disk_gi=120,
         pressure={"DiskPressure": -1180}, taints=[taint("node.kubernetes.io/disk-pressure", since=s.iso(-1175))])
    d.emit(ready=2)
    node_fs(s, avail=lambda t: 61 * GI, size=120 * GI, start=-3600, step=120, device="/dev/sda4", fstype="xfs",
            mount="/var", files_free=lambda t: max(520_000, 2_400_000 - (t + 3600) * 760))
    s.log("php-fpm", render(s, "phpfpm", [(-1600, "WARN", "[pool www] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and 14 total children"),
                                          (-1250, "INFO", "fpm is running, pid 1")]))
    s.labels("disk_pressure",
             why="Evicted for inodes, not bytes: the /var filesystem still has ~61GiB free but free inodes fell "
                 "below the threshold; php-fpm had created ~3M session files in its writable layer (no session GC), "
                 "and the node reports DiskPressure.",
             remediation="move PHP sessions to Redis or an emptyDir with periodic cleanup (session.gc_probability), "
                         "and clean the leftover files on the node")
    return s


@case("corpus")
def disk_admission_rejected() -> Snap:
    s = Snap("disk-admission-rejected", cluster="batch-aks", captured="2024-10-30T01:00:41Z", platform="aks",
             version="1.30", ns="reports")
    j = Job(s, "", cron="nightly-ledger-export", scheduled=-42)
    nn = s.new_node("batchpool")
    s.make_pod(j.pod_name, generate_name=j.generate_name, owner=j.owner, labels=j.pod_labels, node=nn, created=-40,
               restart_policy="Never", containers=[container(
                   "export", "acmefin.azurecr.io/reports/ledger-export:3.0.1", resources=res("500m", "512Mi", "1", "1Gi"))])
    s.ev_scheduled(-39)
    msg = "Pod was rejected: The node had condition: [DiskPressure]. "
    s.event("Evicted", "The node had condition: [DiskPressure]. ", first=-38)
    finish_pod(s, phase="Failed", reason="Evicted", message=msg, sandbox=False)
    s.pod["status"].pop("podIP", None)
    node(s, nn, pool="batchpool", zone="westeurope-3", instance="Standard_E4ds_v5", cpu=4, mem_gi=32, disk_gi=128,
         pressure={"DiskPressure": -45}, taints=[taint("node.kubernetes.io/disk-pressure", since=s.iso(-37))])
    j.emit(status={"active": 1, "startTime": s.iso(-42), "uncountedTerminatedPods": {}, "failed": 1}, backoff=3)
    node_fs(s, avail=lambda t: max(12.3 * GI, 19 * GI - (t + 1800) * 5 * MI), size=124 * GI, start=-1800, step=60,
            device="/dev/sda1", fstype="ext4")
    s.labels("disk_pressure",
             why="The pod was scheduled a second before the disk-pressure taint landed, and the kubelet rejected it at "
                 "admission ('The node had condition: [DiskPressure]'), so it is Failed/Evicted without ever starting. "
                 "The node's root filesystem is below its eviction threshold.",
             remediation="clean up the batchpool node's disk (images, logs, leftover export files) and let the Job "
                         "controller retry the pod elsewhere")
    return s
