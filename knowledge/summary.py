"""The one-paragraph summary: which object, what cause, on what evidence — in an SRE's words."""

from __future__ import annotations

from typing import Any

from aetherius.diagnoses import Finding
from aetherius.quantities import format_bytes, format_cores
from aetherius.signals import Signals
from aetherius.taxonomy import TITLES, Category

_CNI_PROBLEMS = {
    "ip_exhaustion": " (it has no free IP address to give)",
    "cni_credentials": " (its own API credentials are refused)",
}


_PULL_ERRORS = {
    "platform": "it has no variant for this node's OS/CPU architecture",
    "not_found": "not found",
    "unauthorized": "the registry refuses our credentials",
    "rate_limited": "the registry rate-limits pulls",
    "tls": "TLS verification fails",
}


def _cause(category: Category, facts: dict[str, Any]) -> str:
    c = facts.get("container", "the container")
    match category:
        case "oom_killed" if facts.get("node_oom"):
            return (
                f"container {c} is killed by the node-wide OOM killer: the node runs out of memory because pods "
                f"request less than they use, not because {c} reaches its own limit"
            )
        case "oom_killed" if facts.get("child_oom"):
            peak, limit = facts.get("memory_peak"), facts.get("memory_limit")
            usage = f" at {format_bytes(peak)} of its {format_bytes(limit)} limit" if peak and limit else ""
            return (
                f"the kernel OOM killer kills worker processes inside container {c}{usage} while the container "
                "keeps running, so restarts stay at 0 and requests to the killed workers fail"
            )
        case "oom_killed" if facts.get("evicted_resource") == "memory":
            return "the kubelet evicted the pod because the node ran low on memory"
        case "oom_killed":
            peak, limit = facts.get("memory_peak"), facts.get("memory_limit")
            usage = f" (peak {format_bytes(peak)} of {format_bytes(limit)})" if peak and limit else ""
            return f"container {c} runs out of memory and is killed{usage}"
        case "crash_loop":
            code = facts.get("exit_code", "?")
            return f"container {c} exits on its own (exit {code}): an application error, not the platform"
        case "image_pull":
            error = str(facts.get("pull_error", "unknown"))
            why = _PULL_ERRORS.get(error, error.replace("_", " "))
            return f"the image {facts.get('image', '')} cannot be pulled ({why})"
        case "cpu_throttling":
            ratio = facts.get("throttle_ratio")
            limit = facts.get("cpu_limit_cores")
            detail = f" in {ratio:.0%} of CFS periods" if isinstance(ratio, float) else ""
            cap = f" by its {format_cores(limit)} CPU limit" if limit else ""
            return f"container {c} is throttled{detail}{cap}, so it runs far slower than it needs to"
        case "network" if facts.get("sandbox"):
            plugin = f"CNI plugin {facts['cni_plugin']}" if facts.get("cni_plugin") else "the CNI plugin"
            node = f" on node {facts['node']}" if facts.get("node") else ""
            detail = _CNI_PROBLEMS.get(str(facts.get("cni_problem")), "")
            return f"{plugin}{node} cannot set up the pod's network{detail}, so no container starts"
        case "network" if facts.get("init_wait"):
            target = f"{facts['host']}:{facts['port']}" if facts.get("host") else "a dependency"
            return f"init container {c} keeps waiting for {target}, so the application containers never start"
        case "network":
            target = facts.get("host") or "a dependency"
            port = f":{facts['port']}" if facts.get("port") else ""
            how = "cannot resolve" if facts.get("dns") else "cannot connect to"
            retrying = " and keeps retrying, so the pod is not ready"
            ending = " and gives up" if facts.get("exit_code") is not None else retrying
            policy = facts.get("network_policy")
            blocked = f"; NetworkPolicy {policy} restricts its egress" if policy else ""
            return f"container {c} {how} {target}{port}{ending}{blocked}"
        case "disk_pressure":
            if facts.get("claim"):
                return f"the volume {facts['claim']} is full"
            if facts.get("emptydir_volume"):
                limit = f" of {facts['emptydir_limit']}" if facts.get("emptydir_limit") else ""
                volume = facts["emptydir_volume"]
                return f"emptyDir volume {volume} outgrew its sizeLimit{limit} and the kubelet evicted the pod"
            resource = facts.get("evicted_resource", "nodefs")
            if facts.get("own_limit"):
                return f"the pod wrote more {resource} than its own limit allows, so the kubelet evicted it"
            return f"the node ran out of disk ({resource}) and the kubelet evicted or blocked the pod"
        case "config_error":
            if facts.get("missing_name"):
                key = f" key {facts['missing_key']} in" if facts.get("missing_key") else ""
                kind = facts.get("missing_kind", "ConfigMap")
                if facts.get("missing_key") and facts.get("reference_exists"):
                    return f"the container needs{key} {kind} {facts['missing_name']}, which exists but has no such key"
                return f"the container needs{key} {kind} {facts['missing_name']}, which does not exist"
            return f"container {c} cannot start with its configuration (settings, files, permissions or credentials)"
        case "rbac_denied":
            who = facts.get("service_account") or "its ServiceAccount"
            what = f" {facts.get('verb')} {facts.get('resource')}" if facts.get("verb") else ""
            return f"the Kubernetes API forbids {who} to{what or ' do what it needs'}"
        case "scheduling" if facts.get("quota"):
            asked = f" (each new pod asks {facts['quota_requested']})" if facts.get("quota_requested") else ""
            who = facts.get("controller") or "the controller"
            return f"ResourceQuota {facts['quota']} refuses the pods {who} tries to create{asked}"
        case "scheduling" if facts.get("scarce_resource"):
            return f"the scheduler cannot place the pod: no node has enough {facts['scarce_resource']} free"
        case "scheduling":
            why = str(facts.get("scheduling_reason", "no fitting node")).replace("_", " ")
            return f"the scheduler cannot place the pod ({why})"
        case "probe_failure":
            probe = facts.get("probe", "liveness")
            return (
                f"the {probe} probe of {c} fails while the application itself runs, so the kubelet keeps acting on it"
            )
        case "volume_mount":
            what = facts.get("claim") or facts.get("volume") or "a volume"
            return f"{what} cannot be provisioned, attached or mounted, so the containers never start"
        case _:
            return "nothing convincing points to a failure"


def summarize(sig: Signals, category: Category, confidence: float, findings: list[Finding]) -> str:
    relevant = sorted((f for f in findings if f.category == category), key=lambda f: -f.weight)
    facts: dict[str, Any] = {}
    for f in reversed(relevant):
        facts.update(f.facts)
    evidence = [e for f in relevant for e in f.evidence][:2]
    where = f"{sig.subject} ({sig.workload}" + (f", cluster {sig.cluster})" if sig.cluster else ")")
    if category == "unknown":
        because = f" {evidence[0]}." if evidence else ""
        return f"{where}: no failure mechanism stands out ({confidence:.0%} sure).{because}"
    tail = f" Evidence: {'; '.join(evidence).rstrip('.')}." if evidence else ""
    return f"{TITLES[category]} in {where}: {_cause(category, facts)}.{tail}"
