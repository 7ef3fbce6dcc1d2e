"""NetworkPolicies that select a pod, and what they let out, in words (pure).

A policy selects the pods of its namespace that match its ``podSelector`` (``{}``: all of them). Once any policy
with ``Egress`` in its ``policyTypes`` selects a pod, the pod's outgoing traffic is dropped unless some egress rule
of some selecting policy allows it; DNS included. The same holds for ingress. (kubernetes.io/docs/concepts/
services-networking/network-policies; ``policyTypes`` defaults to Ingress, plus Egress when egress rules exist.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aetherius.quantities import parse_time, seconds_between
from aetherius.signals import Policy
from aetherius.snapshots import KubeObject


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a pod's labels; ``{}`` matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = str(expression.get("key")), str(expression.get("operator"))
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _ports(rule: dict[str, Any]) -> str:
    ports = [f"{p.get('protocol') or 'TCP'}/{p.get('port', 'any')}" for p in rule.get("ports") or []]
    return ", ".join(ports) if ports else "any port"


def _peer(peer: dict[str, Any]) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"] or {}
        return f"{block.get('cidr', '?')}" + (f" except {', '.join(block['except'])}" if block.get("except") else "")
    parts = []
    if "namespaceSelector" in peer:
        labels = (peer["namespaceSelector"] or {}).get("matchLabels") or {}
        parts.append("namespace " + (",".join(f"{k}={v}" for k, v in labels.items()) or "any"))
    if "podSelector" in peer:
        labels = (peer["podSelector"] or {}).get("matchLabels") or {}
        parts.append("pods " + (",".join(f"{k}={v}" for k, v in labels.items()) or "any"))
    return " ".join(parts) or "?"


def describe_egress(rules: list[dict[str, Any]]) -> list[str]:
    """One phrase per egress rule: ports, then destinations."""
    if not rules:
        return ["nothing"]
    out = []
    for rule in rules:
        peers = [_peer(p) for p in rule.get("to") or [] if isinstance(p, dict)]
        out.append(f"{_ports(rule)} to {' or '.join(peers) if peers else 'anywhere'}")
    return out


def selecting_policies(pod: KubeObject, objects: list[KubeObject], captured: datetime | None) -> list[Policy]:
    """The NetworkPolicies among ``objects`` that select ``pod``."""
    meta = pod.get("metadata") or {}
    namespace = meta.get("namespace") or ""
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    found = []
    for obj in objects:
        if obj.get("kind") != "NetworkPolicy":
            continue
        pmeta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if pmeta.get("namespace") and namespace and pmeta.get("namespace") != namespace:
            continue
        if not selector_matches(spec.get("podSelector") or {}, labels):
            continue
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        egress_rules = [r for r in spec.get("egress") or [] if isinstance(r, dict)]
        found.append(
            Policy(
                name=str(pmeta.get("name") or "?"),
                age_s=seconds_between(parse_time(pmeta.get("creationTimestamp")), captured),
                egress="Egress" in types,
                ingress="Ingress" in types,
                egress_allows=describe_egress(egress_rules) if "Egress" in types else [],
            )
        )
    return found
