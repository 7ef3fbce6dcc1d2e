"""Corpus: scheduling mechanisms (resources, selectors, spread, anti-affinity, quota, autoscalers, volume zones)."""

from __future__ import annotations

from .common import (
    Deployment,
    Snap,
    StatefulSet,
    case,
    cond,
    container,
    finish_pod,
    http_probe,
    mount,
    node,
    pv,
    pvc,
    res,
    resource_quota,
    scheduling_message,
    steady,
    taint_phrase,
)


def _pending(s: Snap, owner: object, c: dict, *, created: float, msg: str, count: int, extra_spec: dict | None = None,
             volumes: list | None = None) -> None:
    s.make_pod(owner.pod_name, generate_name=owner.generate_name, owner=owner.owner, labels=owner.pod_labels,  # type: ignore[attr-defined]
               node=None, created=created, containers=[c], extra_spec=extra_spec, volumes=volumes)
    s.event("FailedScheduling", msg, count=count, first=created + 1, last=-s.rng.uniform(3, 50),
            component="default-scheduler", action="Scheduling")
    finish_pod(s, unschedulable=msg)


@case("corpus")
def sched_insufficient_memory_123() -> Snap:
    s = Snap("sched-insufficient-memory-123", cluster="search-kubeadm-docker", captured="2023-02-21T10:40:02Z",
             platform="kubeadm-docker", version="1.23", ns="search")
    st = StatefulSet(s, "es-data", replicas=4, ordinal=3)
    msg = scheduling_message(s.version, 5, ["2 Insufficient memory", taint_phrase(s.version, 3, "node-role.kubernetes.io/master")])
    _pending(s, st, container("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:7.17.9",
                              env={"ES_JAVA_OPTS": "-Xms15g -Xmx15g"}, ports=[(9200, "http"), (9300, "transport")],
                              resources=res("4", "30Gi", "4", "30Gi")), created=-3000, msg=msg, count=49)
    st.emit(ready=3, service="es-data-headless")
    for i in range(2):
        node(s, f"es-worker-0{i + 1}", instance="bare-metal-64g", zone="dc1", cpu=16, mem_gi=64)
    s.labels("scheduling",
             why="es-data-3 asks for 30Gi guaranteed memory; the two data workers already host the other data pods "
                 "and have less than 30Gi allocatable left (Insufficient memory), and the other three nodes are "
                 "masters with an untolerated taint.",
             remediation="add a worker with >= 32Gi free (or scale the StatefulSet back to 3 / lower the heap and "
                         "memory request)")
    return s


@case("corpus")
def sched_nodeselector_pool_renamed() -> Snap:
    s = Snap("sched-nodeselector-pool-renamed", cluster="risk-gke", captured="2024-08-06T13:33:17Z", platform="gke",
             version="1.29", ns="risk", events_api="events")
    d = Deployment(s, "var-calculator", replicas=4, labels={"app": "var-calculator"}, revision=27)
    msg = scheduling_message(s.version, 6, ["6 node(s) didn't match Pod's node affinity/selector"])
    _pending(s, d, container("calc", "europe-west6-docker.pkg.dev/acme-risk/quant/var-calculator:8.1.0",
                             resources=res("4", "24Gi", "8", "24Gi")), created=-5200, msg=msg, count=61,
             extra_spec={"nodeSelector": {"cloud.google.com/gke-nodepool": "highmem-pool"}})
    d.emit(ready=0)
    for pool in ("default-pool", "highmem-pool-v2"):
        node(s, s.new_node(pool), pool=pool, zone="europe-west6-b", instance="n2-highmem-8" if "highmem" in pool else "e2-standard-4",
             cpu=8 if "highmem" in pool else 4, mem_gi=64 if "highmem" in pool else 16)
    s.labels("scheduling",
             why="The pod's nodeSelector requires node pool highmem-pool, but that pool was replaced by highmem-pool-v2; "
                 "no node carries the old label, so all 6 nodes fail the node affinity/selector check.",
             remediation="update the nodeSelector to cloud.google.com/gke-nodepool=highmem-pool-v2 (or select on a "
                         "stable custom label instead of the pool name)")
    return s


@case("corpus")
def sched_topology_spread_zone_full() -> Snap:
    s = Snap("sched-topology-spread-zone-full", cluster="checkout-eks", captured="2024-01-09T18:55:30Z",
             platform="eks", region="us-east-1", version="1.28", ns="payments-checkout")
    d = Deployment(s, "payment-orchestrator", replicas=9, labels={"app": "payment-orchestrator"}, revision=64)
    msg = scheduling_message(s.version, 9, ["3 Insufficient cpu", "6 node(s) didn't match pod topology spread constraints"],
                             "0/9 nodes are available: 3 No preemption victims found for incoming pod, 6 Preemption is "
                             "not helpful for scheduling.")
    _pending(s, d, container("orchestrator", "615510229114.dkr.ecr.us-east-1.amazonaws.com/checkout/payment-orchestrator:6.4.0",
                             resources=res("1500m", "2Gi", None, "2Gi")), created=-1900, msg=msg, count=30,
             extra_spec={"topologySpreadConstraints": [{"labelSelector": {"matchLabels": {"app": "payment-orchestrator"}},
                                                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                        "whenUnsatisfiable": "DoNotSchedule"}]})
    d.emit(ready=8)
    s.labels("scheduling",
             why="The 9th replica must go to us-east-1c to keep zone skew <= 1 (DoNotSchedule), but the three 1c nodes "
                 "lack 1.5 CPU (Insufficient cpu); nodes in 1a/1b are excluded by the topology spread constraint.",
             remediation="add capacity in us-east-1c (or let the autoscaler scale that zone's node group), or relax the "
                         "constraint to whenUnsatisfiable: ScheduleAnyway")
    return s


@case("corpus")
def sched_anti_affinity_more_replicas_than_nodes() -> Snap:
    s = Snap("sched-anti-affinity-more-replicas-than-nodes", cluster="cache-aks", captured="2024-03-13T07:21:45Z",
             platform="aks", version="1.27", ns="sessions")
    d = Deployment(s, "session-cache", replicas=4, labels={"app": "session-cache"}, revision=8)
    msg = scheduling_message(s.version, 3, ["3 node(s) didn't match pod anti-affinity rules"],
                             "0/3 nodes are available: 3 No preemption victims found for incoming pod.")
    _pending(s, d, container("memcached", "docker.io/library/memcached:1.6.24", ports=[(11211, "memcache")],
                             resources=res("250m", "1Gi", "500m", "1Gi")), created=-1100, msg=msg, count=18,
             extra_spec={"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                 {"labelSelector": {"matchLabels": {"app": "session-cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}})
    d.emit(ready=3, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -86400 * 3, -86400 * 3),
        cond("Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "{d.rs_name}" has timed out progressing.', s, -480, -480)])
    s.labels("scheduling",
             why="Replicas were raised to 4, but a required pod anti-affinity on kubernetes.io/hostname allows one "
                 "session-cache pod per node and the user pool has only 3 nodes, so the 4th pod can never schedule.",
             remediation="scale the nodepool to 4+ nodes or switch to preferredDuringScheduling anti-affinity")
    return s


@case("corpus")
def sched_quota_failedcreate_rs() -> Snap:
    s = Snap("sched-quota-failedcreate-rs", cluster="tenant-ocp-shared", captured="2024-06-25T11:08:14Z",
             platform="openshift", version="1.29", ns="team-analytics")
    old = Deployment(s, "reports-api", replicas=3, labels={"app": "reports-api"}, revision=41)
    s.make_pod(old.pod_name, generate_name=old.generate_name, owner=old.owner, labels=old.pod_labels,
               node=s.new_node("worker"), created=-6 * 86400,
               containers=[container("api", "quay.io/acme-analytics/reports-api:3.7.2", ports=[(8080, "http")],
                                     resources=res("500m", "1Gi", "1", "2Gi"), readiness=http_probe("/health", 8080))])
    s.ev_scheduled(-6 * 86400 + 1)
    steady(s, "api", -6 * 86400 + 20, events=False)
    finish_pod(s)
    new_hash = s.sfx(10)
    rs_ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"reports-api-{new_hash}", "namespace": s.ns,
              "uid": s.uid(), "resourceVersion": s.rv()}
    qmsg = (f'pods "reports-api-{new_hash}-{s.sfx()}" is forbidden: exceeded quota: compute-resources, requested: '
            "limits.memory=3Gi, used: limits.memory=15Gi, limited: limits.memory=16Gi")
    s.event("FailedCreate", f"Error creating: {qmsg}", count=17, first=-1300, last=-40, obj=rs_ref,
            component="replicaset-controller")
    old.emit(ready=3, conditions=[
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", s, -6 * 86400, -6 * 86400),
        cond("ReplicaFailure", "True", "FailedCreate", qmsg, s, -1300, -1300),
        cond("Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "reports-api-{new_hash}" has timed out progressing.', s, -700, -700)],
        updated=0)
    resource_quota(s, "compute-resources", hard={"limits.cpu": "16", "limits.memory": "16Gi", "requests.cpu": "8",
                                                  "requests.memory": "12Gi", "pods": "30"},
                   used={"limits.cpu": "11", "limits.memory": "15Gi", "requests.cpu": "5500m", "requests.memory": "9Gi",
                         "pods": "17"})
    s.labels("scheduling",
             why="The running pod is fine; the rollout of revision 42 is stuck because the new ReplicaSet cannot create "
                 "any pod: the namespace ResourceQuota compute-resources would be exceeded (limits.memory 15Gi used of "
                 "16Gi, each new pod wants 3Gi). 'forbidden' here is quota admission, not RBAC.",
             remediation="raise the team-analytics quota (limits.memory) or lower the new pod's memory limit / use "
                         "maxSurge 0 so the rollout fits within quota")
    return s


@case("corpus")
def sched_karpenter_no_instance_type() -> Snap:
    s = Snap("sched-karpenter-no-instance-type", cluster="genomics-eks", captured="2025-03-02T05:44:10Z",
             platform="eks", region="us-east-2", version="1.31", ns="pipelines", events_api="events")
    d = Deployment(s, "variant-caller", replicas=2, labels={"app": "variant-caller"}, revision=12)
    msg = scheduling_message(s.version, 12, ["12 Insufficient memory"],
                             "0/12 nodes are available: 12 No preemption victims found for incoming pod.")
    _pending(s, d, container("caller", "830111902256.dkr.ecr.us-east-2.amazonaws.com/genomics/variant-caller:4.5.1",
                             resources=res("16", "200Gi", "16", "200Gi")), created=-2600, msg=msg, count=44,
             extra_spec={"nodeSelector": {"karpenter.sh/nodepool": "general"}})
    s.event("FailedScheduling", 'Failed to schedule pod, incompatible with nodepool "general", daemonset overhead='
            '{"cpu":"380m","memory":"612Mi","pods":"5"}, no instance type satisfied resources '
            '{"cpu":"16380m","memory":"205412Mi","pods":"6"} and requirements karpenter.k8s.aws/instance-family In '
            '[c6i m6i m7i], karpenter.sh/capacity-type In [on-demand spot], karpenter.sh/nodepool In [general], '
            'kubernetes.io/arch In [amd64] (no instance type has enough resources)', count=39, first=-2590, last=-12,
            component="karpenter", series=False)
    d.emit(ready=0)
    s.labels("scheduling",
             why="No node fits 200Gi of memory and Karpenter cannot launch one: the 'general' NodePool only allows "
                 "c6i/m6i/m7i families, whose largest sizes offered there have less memory than 200Gi plus daemonset "
                 "overhead ('no instance type has enough resources').",
             remediation="allow a memory-optimised family (r6i/r7i) in a NodePool for this workload, or lower the "
                         "variant-caller memory request")
    return s


@case("corpus")
def sched_volume_node_affinity_conflict() -> Snap:
    s = Snap("sched-volume-node-affinity-conflict", cluster="ci-eks", captured="2023-09-28T02:17:48Z", platform="eks",
             version="1.26", ns="ci")
    st = StatefulSet(s, "gitlab-gitaly", replicas=1)
    msg = scheduling_message(s.version, 4, [taint_phrase(s.version, 1, "CriticalAddonsOnly", "true"),
                                             "3 node(s) had volume node affinity conflict"])
    _pending(s, st, container("gitaly", "registry.gitlab.com/gitlab-org/build/cng/gitaly:v16.4.1",
                              ports=[(8075, "grpc-gitaly")], resources=res("1", "2Gi", None, "4Gi"),
                              mounts=[mount("repo-data", "/home/git/repositories")]),
             created=-4100, msg=msg, count=66,
             volumes=[{"name": "repo-data", "persistentVolumeClaim": {"claimName": "repo-data-gitlab-gitaly-0"}}])
    st.emit(ready=0)
    pvname = f"pvc-{s.uid()}"
    pvc(s, "repo-data-gitlab-gitaly-0", sc="gp3", size="200Gi", volume=pvname, provisioner="ebs.csi.aws.com",
        created=-400 * 86400)
    pv(s, pvname, claim="repo-data-gitlab-gitaly-0", sc="gp3", size="200Gi", driver="ebs.csi.aws.com",
       handle=f"vol-0{s.hexs(16)}", zone_key="topology.ebs.csi.aws.com/zone", zone="eu-west-1a", created=-400 * 86400)
    for z in ("eu-west-1b", "eu-west-1c", "eu-west-1b"):
        node(s, s.new_node(), pool="ci-workers-v2", zone=z, instance="m6i.2xlarge", cpu=8, mem_gi=32)
    s.labels("scheduling", also=["volume_mount"],
             why="The gitaly PV is an EBS volume pinned to eu-west-1a (PV nodeAffinity), but after the node group was "
                 "replaced all worker nodes are in 1b/1c, so the scheduler reports 'volume node affinity conflict' on "
                 "every candidate node.",
             remediation="add worker capacity in eu-west-1a (node group subnets) or snapshot the volume and restore it "
                         "in a zone that has nodes")
    return s
