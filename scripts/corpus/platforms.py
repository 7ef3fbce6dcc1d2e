"""Cluster flavours: node naming, labels, runtime, kubelet version strings, and version-dependent event wording."""

from __future__ import annotations

import random

ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes


def kv(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


# One entry per flavour. "kubelet" is a format string taking the minor version.
PLATFORMS: dict[str, dict[str, object]] = {
    "eks": {
        "runtime": "containerd",
        "runtime_version": "containerd://1.7.11",
        "kubelet": {23: "v1.23.17-eks-a59e1f0", 24: "v1.24.17-eks-8cb36c9", 25: "v1.25.16-eks-8ccc7ba",
                    26: "v1.26.12-eks-5e0fdde", 27: "v1.27.9-eks-5e0fdde", 28: "v1.28.5-eks-5e0fdde",
                    29: "v1.29.3-eks-ae9a62a", 30: "v1.30.2-eks-1552ad0", 31: "v1.31.0-eks-a737599",
                    32: "v1.32.1-eks-5d632ec"},
        "os": "Amazon Linux 2", "kernel": "5.10.210-201.852.amzn2.x86_64",
        "pod_cidr": "10.42", "node_cidr": "10.42",
    },
    "gke": {
        "runtime": "containerd",
        "runtime_version": "containerd://1.7.13",
        "kubelet": {23: "v1.23.17-gke.1700", 24: "v1.24.17-gke.2155000", 25: "v1.25.16-gke.1041000",
                    26: "v1.26.15-gke.1090000", 27: "v1.27.13-gke.1070000", 28: "v1.28.7-gke.1026000",
                    29: "v1.29.6-gke.1038001", 30: "v1.30.3-gke.1451000", 31: "v1.31.1-gke.1678000",
                    32: "v1.32.0-gke.1448000"},
        "os": "Container-Optimized OS from Google", "kernel": "6.1.75+",
        "pod_cidr": "10.8", "node_cidr": "10.132",
    },
    "aks": {
        "runtime": "containerd",
        "runtime_version": "containerd://1.7.15-1",
        "kubelet": {n: f"v1.{n}.{p}" for n, p in
                    {23: 15, 24: 15, 25: 15, 26: 10, 27: 9, 28: 9, 29: 7, 30: 3, 31: 2, 32: 0}.items()},
        "os": "Ubuntu 22.04.4 LTS", "kernel": "5.15.0-1064-azure",
        "pod_cidr": "10.244", "node_cidr": "10.224",
    },
    "openshift": {
        "runtime": "cri-o",
        "runtime_version": "cri-o://1.27.4-6.1.rhaos4.14.git1b1dd5c.el9",
        "kubelet": {n: f"v1.{n}.{p}+{h}" for n, p, h in
                    [(23, 17, "f67b3bd"), (24, 17, "c2b5c8e"), (25, 16, "a2e8cd9"), (26, 13, "8f85140"),
                     (27, 10, "c79e5e2"), (28, 11, "4a23b4e"), (29, 8, "f10c92d"), (30, 4, "a1c4d2b"),
                     (31, 3, "2c5b8e1"), (32, 1, "6f7a9d3")]},
        "os": "Red Hat Enterprise Linux CoreOS 414.92.202402051952-0 (Plow)",
        "kernel": "5.14.0-284.52.1.el9_2.x86_64",
        "pod_cidr": "10.128", "node_cidr": "10.0",
    },
    "k3s": {
        "runtime": "containerd",
        "runtime_version": "containerd://1.7.11-k3s2",
        "kubelet": {n: f"v1.{n}.{p}+k3s1" for n, p in
                    {23: 17, 24: 17, 25: 16, 26: 15, 27: 13, 28: 8, 29: 4, 30: 2, 31: 1, 32: 0}.items()},
        "os": "Ubuntu 22.04.3 LTS", "kernel": "6.5.0-1008-raspi",
        "pod_cidr": "10.42", "node_cidr": "192.168.88",
    },
    "kubeadm": {
        "runtime": "containerd",
        "runtime_version": "containerd://1.6.28",
        "kubelet": {n: f"v1.{n}.{p}" for n, p in
                    {23: 17, 24: 17, 25: 16, 26: 15, 27: 12, 28: 8, 29: 4, 30: 1, 31: 0, 32: 1}.items()},
        "os": "Rocky Linux 9.3 (Blue Onyx)", "kernel": "5.14.0-362.18.1.el9_3.x86_64",
        "pod_cidr": "10.233", "node_cidr": "172.20.4",
    },
    "kubeadm-docker": {  # dockershim, only realistic up to 1.23
        "runtime": "docker",
        "runtime_version": "docker://20.10.24",
        "kubelet": {23: "v1.23.17"},
        "os": "Ubuntu 20.04.6 LTS", "kernel": "5.4.0-174-generic",
        "pod_cidr": "10.244", "node_cidr": "10.10.3",
    },
}


def node_name(platform: str, rng: random.Random, *, pool: str = "default", region: str = "eu-west-1") -> str:
    if platform == "eks":
        return f"ip-10-42-{rng.randint(1, 250)}-{rng.randint(2, 250)}.{region}.compute.internal"
    if platform == "gke":
        return f"gke-{pool}-{rng.getrandbits(32):08x}-{''.join(rng.choice(ALNUM) for _ in range(4))}"
    if platform == "aks":
        return f"aks-{pool}-{rng.randint(10000000, 99999999)}-vmss{rng.randint(0, 40):06x}"
    if platform == "openshift":
        return f"{pool}-{rng.randint(0, 5)}.ocp4.corp.example"
    if platform == "k3s":
        return f"{pool}-{rng.randint(1, 12):02d}"
    return f"{pool}-{rng.randint(1, 24):02d}"


def runtime_prefix(platform: str) -> str:
    return {"docker": "docker://", "cri-o": "cri-o://", "containerd": "containerd://"}[
        str(PLATFORMS[platform]["runtime"])]


# ---- version-dependent wording -------------------------------------------------------------------------------


def backoff_message(version: str, container: str, pod: str, ns: str, uid: str) -> str:
    if kv(version) >= (1, 26):
        return f"Back-off restarting failed container {container} in pod {pod}_{ns}({uid})"
    return "Back-off restarting failed container"


def created_message(version: str, container: str) -> str:
    return f"Created container: {container}" if kv(version) >= (1, 32) else f"Created container {container}"


def started_message(version: str, container: str) -> str:
    return f"Started container {container}"


def pulled_message(version: str, image: str, secs: float, size: int) -> str:
    def d(x: float) -> str:  # Go time.Duration.Truncate(time.Millisecond).String()
        return f"{int(x * 1000)}ms" if x < 1 else f"{int(x * 1000) / 1000:g}s"
    if kv(version) >= (1, 30):
        return (f'Successfully pulled image "{image}" in {d(secs)} ({d(secs + 0.0123)} including waiting). '
                f"Image size: {size} bytes.")
    if kv(version) >= (1, 25):
        return f'Successfully pulled image "{image}" in {d(secs)} ({d(secs + 0.0123)} including waiting)'
    return f'Successfully pulled image "{image}" in {secs:.9f}s'


def taint_phrase(version: str, n: int, key: str, value: str = "", effect: str = "") -> str:
    kvs = f"{{{key}: {value}}}"
    if kv(version) >= (1, 25):
        return f"{n} node(s) had untolerated taint {kvs}"
    return f"{n} node(s) had taint {kvs}, that the pod didn't tolerate"


def scheduling_message(version: str, total: int, reasons: list[str], preemption: str | None = None) -> str:
    """reasons: already phrased parts like '2 Insufficient memory'. preemption: optional override."""
    body = f"0/{total} nodes are available: {', '.join(reasons)}."
    if kv(version) >= (1, 24):
        pre = preemption or f"0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        body += f" preemption: {pre}"
    return body


def probe_timeout_message(version: str, kind: str, url: str) -> str:
    if kv(version) >= (1, 24):
        return f'{kind} probe failed: Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    return f'{kind} probe failed: Get "{url}": net/http: request canceled (Client.Timeout exceeded while awaiting headers)'


def control_plane_taint(version: str) -> str:
    return "node-role.kubernetes.io/control-plane" if kv(version) >= (1, 25) else "node-role.kubernetes.io/master"
