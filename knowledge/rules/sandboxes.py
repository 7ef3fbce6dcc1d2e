"""Pod networking that never comes up: the kubelet cannot create the pod sandbox because the CNI plugin fails.

The pod is scheduled and stuck in ContainerCreating; the application never ran, so its logs say nothing. The
words come from the node's CNI plugin (Calico, Cilium, AWS VPC CNI, Azure CNI, Flannel, ...) through the
runtime: ``failed to setup network for sandbox``, ``plugin type="calico" failed (add)``, ``failed to assign an IP
address``. An ``Unauthorized`` in that text is the plugin's own credential, not the workload's RBAC.
"""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules.base import event_evidence, finding, subject_events

_NETWORK_SETUP = re.compile(
    r"(?:set ?up|setting up|add) (?:pod )?network|network for sandbox|networkPlugin cni|\bCNI\b|plugin type=|"
    r"failed to (?:assign|allocate) (?:an )?IP|no IP addresses available|IPAM|ipam",
    re.IGNORECASE,
)
_PLUGIN = re.compile(r"plugin type=\\?\"(?P<plugin>[\w.-]+)|networkPlugin (?P<legacy>[\w.-]+)", re.IGNORECASE)
_ADDRESSES = re.compile(
    r"(?:assign|allocate) (?:an )?IP|no IP addresses available|IP ?(?:address(?:es)?)? exhausted|"
    r"InsufficientFreeAddresses|insufficient (?:free )?(?:IP|addresses)|range is full",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(r"unauthori[sz]ed|forbidden|token .{0,30}(?:expired|invalid)", re.IGNORECASE)


def pod_network_not_set_up(sig: Signals) -> list[Finding]:
    events = [e for e in subject_events(sig, "FailedCreatePodSandBox") if _NETWORK_SETUP.search(e.message)]
    running = any(c.state == "running" and not c.init for c in sig.containers)
    if not events or running:
        return []
    text = " ".join(e.message for e in events)
    plugin = _PLUGIN.search(text)
    count = sum(e.count for e in events)
    problem = "ip_exhaustion" if _ADDRESSES.search(text) else "cni_credentials" if _CREDENTIAL.search(text) else ""
    return [
        finding(
            "pod_network_not_set_up",
            "network",
            0.9 if count > 1 else 0.8,
            [event_evidence(e) for e in sorted(events, key=lambda e: -e.count)[:2]],
            cni_plugin=(plugin["plugin"] or plugin["legacy"]) if plugin else None,
            cni_problem=problem or None,
            node=sig.node_name or None,
            sandbox=True,
        )
    ]
