"""deploy/kubernetes/rbac.yaml grants every API call the collectors make, and nothing that writes a workload."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
CALL = re.compile(r"self\._(core|apps|batch|events|storage|networking|api)\.(read|list|create|replace)_(\w+)")
GROUPS = {"core": "", "apps": "apps", "batch": "batch", "events": "events.k8s.io", "storage": "storage.k8s.io",
          "networking": "networking.k8s.io", "api": "coordination.k8s.io"}  # fmt: skip
PLURALS = {"pod_log": "pods/log", "config_map": "configmaps", "persistent_volume_claim": "persistentvolumeclaims",
           "persistent_volume": "persistentvolumes", "replica_set": "replicasets", "daemon_set": "daemonsets",
           "stateful_set": "statefulsets", "cron_job": "cronjobs", "storage_class": "storageclasses",
           "network_policy": "networkpolicies"}  # fmt: skip
VERBS = {"read": "get", "list": "list", "create": "create", "replace": "update"}


def rules() -> list[dict[str, Any]]:
    docs = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/rbac.yaml").read_text()))
    return [rule for doc in docs if doc["kind"] in ("ClusterRole", "Role") for rule in doc["rules"]]


def allowed(group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules())


def api_calls() -> set[tuple[str, str, str]]:
    source = "".join(p.read_text() for p in (ROOT / "collectors/kube").glob("*.py"))
    found = set()
    for api, verb, rest in CALL.findall(source):
        name = re.sub(r"^namespaced_|_for_all_namespaces$", "", rest)
        resource = PLURALS.get(name, name + "s")
        found.add((GROUPS[api], resource, VERBS[verb]))
    return found


def test_every_call_the_cluster_reader_and_the_lease_client_make_is_granted() -> None:
    calls = api_calls()
    assert ("", "pods", "list") in calls and ("coordination.k8s.io", "leases", "update") in calls
    missing = sorted(c for c in calls if not allowed(*c))
    assert not missing, f"rbac.yaml does not grant {missing}"
    assert allowed("", "pods", "watch") and allowed("", "events", "watch") and allowed("metrics.k8s.io", "pods", "list")


def test_nothing_but_the_lease_may_be_written() -> None:
    writes = {"create", "update", "patch", "delete", "deletecollection", "*"}
    for rule in rules():
        if set(rule["verbs"]) & writes:
            assert rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"]
    assert not allowed("", "secrets", "get")
