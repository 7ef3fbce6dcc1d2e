"""Corpus: volume_mount mechanisms (attach conflicts, CSI drivers, NFS, provisioning, lost PVs, filesystems)."""

from __future__ import annotations

from .common import (
    Deployment,
    Snap,
    StatefulSet,
    case,
    container,
    finish_pod,
    mount,
    node,
    pvc,
    res,
    scheduling_message,
    storageclass,
)


def _stuck(s: Snap, owner: object, c: dict, *, created: float, volumes: list, pool: str = "workers",
           node_name: str | None = None, scheduled: bool = True) -> None:
    s.make_pod(owner.pod_name, generate_name=owner.generate_name, owner=owner.owner, labels=owner.pod_labels,  # type: ignore[attr-defined]
               node=(node_name or s.new_node(pool)) if scheduled else None, created=created, containers=[c],
               volumes=volumes)
    if scheduled:
        s.ev_scheduled()
        s.status(c["name"], state=s.waiting("ContainerCreating"), image_ok=False)


def _timeout_msg(s: Snap, vol: str, others: str) -> str:
    if s.v("1.27"):
        return (f"Unable to attach or mount volumes: unmounted volumes=[{vol}], unattached volumes=[], failed to "
                f"process volumes=[]: timed out waiting for the condition")
    return f"Unable to attach or mount volumes: unmounted volumes=[{vol}], unattached volumes=[{others}]: timed out waiting for the condition"


@case("corpus")
def vol_multi_attach_rwo_rollout() -> Snap:
    s = Snap("vol-multi-attach-rwo-rollout", cluster="observability-eks", captured="2024-07-17T09:49:21Z",
             platform="eks", version="1.29", ns="grafana")
    d = Deployment(s, "grafana", replicas=1, labels={"app.kubernetes.io/name": "grafana"}, revision=22)
    old_pod = f"grafana-{s.sfx(10)}-{s.sfx()}"
    _stuck(s, d, container("grafana", "docker.io/grafana/grafana:11.1.0", ports=[(3000, "grafana")],
                           resources=res("100m", "256Mi", "1", "512Mi"), mounts=[mount("storage", "/var/lib/grafana")]),
           created=-540, volumes=[{"name": "storage", "persistentVolumeClaim": {"claimName": "grafana"}}], pool="mon")
    pvname = f"pvc-{s.uid()}"
    s.event("FailedAttachVolume", f'Multi-Attach error for volume "{pvname}" Volume is already used by pod(s) {old_pod}',
            first=-538, component="attachdetach-controller", host="")
    s.event("FailedMount", _timeout_msg(s, "storage", "storage kube-api-access-" + s.sfx()), count=4, first=-418, last=-49)
    finish_pod(s)
    d.emit(ready=0, rs_created=-541, updated=1, unavailable=1)
    pvc(s, "grafana", sc="gp3", size="10Gi", volume=pvname, provisioner="ebs.csi.aws.com", created=-200 * 86400)
    s.labels("volume_mount",
             why="The Deployment (strategy RollingUpdate) starts the new grafana pod on another node while the old pod "
                 "still holds the ReadWriteOnce EBS volume, so attach fails with 'Multi-Attach error ... already used "
                 "by pod(s)' and the new pod waits in ContainerCreating.",
             remediation="use strategy Recreate for this single-replica RWO Deployment (or a StatefulSet); delete the "
                         "old pod to release the volume now")
    return s


@case("corpus")
def vol_csi_driver_not_registered() -> Snap:
    s = Snap("vol-csi-driver-not-registered", cluster="content-eks-graviton", captured="2024-04-03T12:16:52Z",
             platform="eks", version="1.28", ns="wordpress")
    d = Deployment(s, "wp-frontend", replicas=6, labels={"app": "wp-frontend"}, revision=74)
    nn = s.new_node(region="eu-west-1")
    _stuck(s, d, container("wordpress", "docker.io/library/wordpress:6.5.0-php8.2-apache", ports=[(80, "http")],
                           resources=res("250m", "384Mi", "1", "768Mi"), mounts=[mount("uploads", "/var/www/html/wp-content/uploads")]),
           created=-1400, node_name=nn, volumes=[{"name": "uploads", "persistentVolumeClaim": {"claimName": "wp-uploads"}}])
    pvname = f"pvc-{s.uid()}"
    s.event("FailedMount", f'MountVolume.SetUp failed for volume "{pvname}" : kubernetes.io/csi: mounter.SetUpAt failed '
            "to get CSI client: driver name efs.csi.aws.com not found in the list of registered CSI drivers",
            count=19, first=-1395, last=-12)
    s.event("FailedMount", _timeout_msg(s, "uploads", ""), count=6, first=-1275, last=-60)
    finish_pod(s)
    node(s, nn, pool="graviton-spot", zone="eu-west-1b", instance="m7g.xlarge", cpu=4, mem_gi=16, arch="arm64",
         created=-3 * 3600, labels={"karpenter.sh/nodepool": "graviton-spot"})
    d.emit(ready=5)
    pvc(s, "wp-uploads", sc="efs-sc", size="100Gi", volume=pvname, provisioner="efs.csi.aws.com", access="ReadWriteMany")
    s.labels("volume_mount",
             why="The pod landed on a new arm64 Graviton node where the EFS CSI node plugin is not running (its "
                 "DaemonSet is restricted to amd64), so kubelet reports 'driver name efs.csi.aws.com not found in the "
                 "list of registered CSI drivers' and the uploads volume never mounts.",
             remediation="let the efs-csi-node DaemonSet run on arm64 nodes (multi-arch image, fix its nodeSelector/"
                         "affinity) or keep EFS users off the graviton-spot NodePool")
    return s


@case("corpus")
def vol_nfs_access_denied() -> Snap:
    s = Snap("vol-nfs-access-denied", cluster="render-kubeadm", captured="2023-12-19T17:26:33Z", platform="kubeadm",
             version="1.27", ns="render")
    d = Deployment(s, "frame-compositor", replicas=8, labels={"app": "frame-compositor"}, revision=15)
    _stuck(s, d, container("compositor", "harbor.studio.example/render/compositor:2023.12", resources=res("4", "8Gi", "8", "16Gi"),
                           mounts=[mount("shared-media", "/mnt/media")]), created=-960, pool="render-node",
           volumes=[{"name": "shared-media", "nfs": {"path": "/exports/media", "server": "10.20.0.15"}}])
    podpath = f"/var/lib/kubelet/pods/{s.pod_uid}/volumes/kubernetes.io~nfs/shared-media"
    s.event("FailedMount", 'MountVolume.SetUp failed for volume "shared-media" : mount failed: exit status 32\n'
            f"Mounting command: mount\nMounting arguments: -t nfs 10.20.0.15:/exports/media {podpath}\n"
            "Output: mount.nfs: access denied by server while mounting 10.20.0.15:/exports/media", count=14,
            first=-955, last=-22)
    finish_pod(s)
    node(s, s.node, instance="bare-metal-gpu", zone="studio-b", cpu=32, mem_gi=128, created=-2 * 86400)
    d.emit(ready=7)
    s.labels("volume_mount",
             why="The NFS server refuses the mount ('mount.nfs: access denied by server'): the pod was scheduled on a "
                 "render node added two days ago whose IP is not in /etc/exports on 10.20.0.15, so the volume never "
                 "mounts and the pod stays in ContainerCreating.",
             remediation="add the new render node subnet/IP to the NFS export (exportfs -ra) or keep the compositor on "
                         "nodes that are allowed")
    return s


@case("corpus")
def vol_provisioning_kms_unauthorized() -> Snap:
    s = Snap("vol-provisioning-kms-unauthorized", cluster="health-eks", captured="2024-01-31T20:07:40Z", platform="eks",
             version="1.27", ns="ehr")
    st = StatefulSet(s, "fhir-store", replicas=1)
    msg = scheduling_message(s.version, 6, ["pod has unbound immediate PersistentVolumeClaims"])
    _stuck(s, st, container("fhir", "public.ecr.aws/acme-health/fhir-server:6.10.1", ports=[(8080, "http")],
                            resources=res("1", "4Gi", "2", "4Gi"), mounts=[mount("data", "/data")]),
           created=-1700, scheduled=False, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-fhir-store-0"}}])
    s.event("FailedScheduling", msg, count=28, first=-1699, last=-30, component="default-scheduler")
    claim = pvc(s, "data-fhir-store-0", sc="gp3-phi-encrypted", size="500Gi", phase="Pending", provisioner="ebs.csi.aws.com",
                created=-1700, labels={"app.kubernetes.io/name": "fhir-store"})
    cref = s.ref(claim)
    s.event("ProvisioningFailed", f'failed to provision volume with StorageClass "gp3-phi-encrypted": rpc error: code = '
            f'Internal desc = Could not create volume "pvc-{s.uid()}": could not create volume in EC2: operation error EC2: '
            "CreateVolume, https response error StatusCode: 403, RequestID: " + s.uid() + ", api error "
            "UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure "
            "message: kT9d...(truncated)", count=12, first=-1690, last=-95, obj=cref,
            component="ebs.csi.aws.com_ebs-csi-controller-6c7b9d8f5-" + s.sfx(), series=False)
    s.event("Provisioning", f'External provisioner is provisioning volume for claim "{s.ns}/data-fhir-store-0"',
            type="Normal", count=12, first=-1692, last=-97, obj=cref,
            component="ebs.csi.aws.com_ebs-csi-controller-6c7b9d8f5-" + s.sfx(), series=False)
    finish_pod(s, unschedulable=msg)
    storageclass(s, "gp3-phi-encrypted", provisioner="ebs.csi.aws.com", binding="Immediate",
                 params={"type": "gp3", "encrypted": "true", "kmsKeyId": "arn:aws:kms:us-east-1:330012548871:key/" + s.uid()})
    st.emit(ready=0, service="fhir-store")
    s.labels("volume_mount", also=["scheduling"],
             why="The pod cannot schedule because its PVC is unbound, and the PVC is unbound because the EBS CSI "
                 "controller is denied CreateVolume (UnauthorizedOperation 403): its IAM role may not use the customer "
                 "KMS key of the new gp3-phi-encrypted StorageClass. This is cloud IAM for the storage driver, not "
                 "Kubernetes RBAC.",
             remediation="allow the ebs-csi-controller IAM role kms:CreateGrant/GenerateDataKey*/Decrypt on that KMS "
                         "key (key policy), then the claim provisions and the pod schedules")
    return s


@case("corpus")
def vol_azure_disk_detach_pending() -> Snap:
    s = Snap("vol-azure-disk-detach-pending", cluster="erp-aks-neu", captured="2023-08-08T06:41:19Z", platform="aks",
             version="1.26", ns="erp")
    st = StatefulSet(s, "erp-mssql", replicas=1)
    nn = s.new_node("dbpool")
    _stuck(s, st, container("mssql", "mcr.microsoft.com/mssql/server:2022-CU5-ubuntu-20.04", ports=[(1433, "tds")],
                            resources=res("2", "8Gi", "4", "8Gi"), mounts=[mount("mssql-data", "/var/opt/mssql")]),
           created=-1250, node_name=nn, volumes=[{"name": "mssql-data", "persistentVolumeClaim": {"claimName": "mssql-data-erp-mssql-0"}}])
    pvname = f"pvc-{s.uid()}"
    sub = s.uid()
    s.event("FailedAttachVolume", f'AttachVolume.Attach failed for volume "{pvname}" : rpc error: code = Internal desc = '
            f"Attach volume /subscriptions/{sub}/resourceGroups/mc_erp-rg_erp-aks-neu_northeurope/providers/"
            f"Microsoft.Compute/disks/{pvname} to instance {nn} failed with Retriable: false, RetryAfter: 0s, "
            'HTTPStatusCode: 409, RawError: {"error":{"code":"OperationNotAllowed","message":"Cannot attach data disk '
            f"'{pvname}' to VM '{nn}' because the disk is currently being detached or the last detach operation failed. "
            'Please wait until the disk is completely detached and then try again or delete/detach the disk explicitly '
            'again."}}', count=9, first=-1240, last=-70, component="attachdetach-controller", host="")
    s.event("FailedMount", _timeout_msg(s, "mssql-data", "mssql-data kube-api-access-" + s.sfx()), count=5, first=-1120, last=-100)
    finish_pod(s)
    st.emit(ready=0, service="erp-mssql")
    pvc(s, "mssql-data-erp-mssql-0", sc="managed-csi-premium", size="256Gi", volume=pvname, provisioner="disk.csi.azure.com")
    s.labels("volume_mount",
             why="AttachVolume fails with Azure 409 OperationNotAllowed: the managed disk is still marked as detaching "
                 "from the previous VM (failed detach after the node upgrade), so it cannot be attached to the new "
                 "node and the database pod waits in ContainerCreating.",
             remediation="detach the disk explicitly from the old VMSS instance (az vmss disk detach / az disk update) "
                         "and let the attach-detach controller retry")
    return s


@case("corpus")
def vol_pvc_lost_pv_deleted() -> Snap:
    s = Snap("vol-pvc-lost-pv-deleted", cluster="forge-k3s", captured="2024-10-15T21:03:55Z", platform="k3s",
             version="1.30", ns="forge")
    st = StatefulSet(s, "gitea", replicas=1)
    pvname = f"pvc-{s.uid()}"
    msg = scheduling_message(s.version, 3, [f'persistentvolumeclaim "data-gitea-0" bound to non-existent persistentvolume "{pvname}"'])
    _stuck(s, st, container("gitea", "docker.io/gitea/gitea:1.22.3-rootless", ports=[(3000, "http"), (2222, "ssh")],
                            resources=res("100m", "256Mi", "1", "1Gi"), mounts=[mount("data", "/var/lib/gitea")]),
           created=-2200, scheduled=False, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-gitea-0"}}])
    s.event("FailedScheduling", msg, count=40, first=-2199, last=-15, component="default-scheduler")
    finish_pod(s, unschedulable=msg)
    claim = pvc(s, "data-gitea-0", sc="local-path", size="20Gi", phase="Lost", volume=pvname,
                provisioner="rancher.io/local-path", created=-150 * 86400)
    claim["metadata"]["annotations"].update({"pv.kubernetes.io/bind-completed": "yes"})
    s.event("ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!", first=-2300,
            obj=s.ref(claim), component="persistentvolume-controller")
    st.emit(ready=0, service="gitea")
    s.labels("volume_mount", also=["scheduling"],
             why="The gitea PVC is in phase Lost: its PersistentVolume was deleted (local-path volume removed with the "
                 "old node), so the scheduler reports the claim is bound to a non-existent PV and the pod cannot be "
                 "placed.",
             remediation="restore the data from backup into a new volume: delete and recreate the PVC data-gitea-0 "
                         "(new local-path PV) and restore the repositories")
    return s


@case("corpus")
def vol_bad_superblock_gke() -> Snap:
    s = Snap("vol-bad-superblock-gke", cluster="analytics-gke-legacy", captured="2023-05-11T12:38:04Z", platform="gke",
             version="1.25", ns="warehouse")
    st = StatefulSet(s, "clickhouse", replicas=3, ordinal=1)
    nn = s.new_node("ch-pool")
    _stuck(s, st, container("clickhouse", "docker.io/clickhouse/clickhouse-server:23.3.2.37", ports=[(8123, "http")],
                            resources=res("4", "16Gi", "4", "16Gi"), mounts=[mount("data", "/var/lib/clickhouse")]),
           created=-880, node_name=nn, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-clickhouse-1"}}])
    pvname = f"pvc-{s.uid()}"
    gm = f"/var/lib/kubelet/plugins/kubernetes.io/csi/pd.csi.storage.gke.io/{s.hexs(64)}/globalmount"
    s.event("FailedMount", f'MountVolume.MountDevice failed for volume "{pvname}" : rpc error: code = Internal desc = '
            f'Failed to format and mount device from ("/dev/disk/by-id/google-{pvname}") to ("{gm}") with fstype ("ext4") '
            f"and options ([]): mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t ext4 -o "
            f"defaults /dev/disk/by-id/google-{pvname} {gm}\nOutput: mount: {gm}: wrong fs type, bad option, bad "
            "superblock on /dev/sdc, missing codepage or helper program, or other error.", count=13, first=-860, last=-25)
    s.event("FailedMount", _timeout_msg(s, "data", "data kube-api-access-" + s.sfx()), count=6, first=-740, last=-70)
    finish_pod(s)
    st.emit(ready=2, service="clickhouse-headless")
    pvc(s, "data-clickhouse-1", sc="premium-rwo", size="1Ti", volume=pvname, provisioner="pd.csi.storage.gke.io")
    s.labels("volume_mount",
             why="The disk attaches but cannot be mounted: ext4 reports 'wrong fs type, bad option, bad superblock' "
                 "after the node crashed mid-write, so MountDevice fails and clickhouse-1 stays in ContainerCreating.",
             remediation="fsck the persistent disk from a maintenance VM (or restore it from the latest snapshot), then "
                         "let the pod mount it again")
    return s


@case("corpus")
def vol_no_storageclass_set() -> Snap:
    s = Snap("vol-no-storageclass-set", cluster="dev-kubeadm-132", captured="2025-03-12T14:20:40Z", platform="kubeadm",
             version="1.32", ns="sandbox", events_api="events")
    st = StatefulSet(s, "keycloak-db", replicas=1)
    msg = scheduling_message(s.version, 3, ["pod has unbound immediate PersistentVolumeClaims"])
    _stuck(s, st, container("postgres", "docker.io/library/postgres:17.2", ports=[(5432, "postgres")],
                            resources=res("250m", "512Mi", "1", "1Gi"), mounts=[mount("pgdata", "/var/lib/postgresql/data")]),
           created=-1500, scheduled=False, volumes=[{"name": "pgdata", "persistentVolumeClaim": {"claimName": "pgdata-keycloak-db-0"}}])
    s.event("FailedScheduling", msg, count=25, first=-1499, last=-20, component="default-scheduler")
    claim = pvc(s, "pgdata-keycloak-db-0", sc=None, size="8Gi", phase="Pending", created=-1500)
    s.event("FailedBinding", "no persistent volumes available for this claim and no storage class is set",
            type="Normal", count=98, first=-1499, last=-5, obj=s.ref(claim), component="persistentvolume-controller",
            series=True)
    finish_pod(s, unschedulable=msg)
    st.emit(ready=0, service="keycloak-db")
    s.labels("volume_mount", also=["scheduling"],
             why="The cluster has no default StorageClass and the claim names none, so the PV controller reports 'no "
                 "persistent volumes available for this claim and no storage class is set'; the unbound claim keeps "
                 "the pod unschedulable.",
             remediation="install a provisioner and mark a default StorageClass (or set storageClassName on the "
                         "volumeClaimTemplate), then recreate the PVC")
    return s
