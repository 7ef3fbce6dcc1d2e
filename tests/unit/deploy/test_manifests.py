"""deploy/: the Kubernetes manifests are valid objects that run real `aeth` commands safely, and the image ships
everything the wheel must carry.

Schema check without a cluster: each object is read into the `kubernetes` client's models (generated from the
API's OpenAPI schema) and written back; a field that does not survive the round trip is one the API does not know
(a typo such as ``readinesProbe`` would be dropped silently by a real apiserver).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from aetherius.cli.app import app
from aetherius.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
KUBE = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def documents() -> list[dict[str, Any]]:
    return [d for path in sorted(KUBE.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]


def named(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"] for name, d in named("Deployment").items()}


def aetherius_containers() -> list[tuple[str, dict[str, Any]]]:
    return [(n, c) for n, spec in pod_specs().items() for c in spec["containers"] if "aetherius" in c["image"]]


def read_back(doc: dict[str, Any], model: str) -> Any:
    """``doc`` read into the client's model ``model`` and written out again."""
    client = ApiClient()
    return client.sanitize_for_serialization(client.deserialize(json.dumps(doc), model, "application/json"))


def model_name(doc: dict[str, Any]) -> str:
    version = doc["apiVersion"].rsplit("/", 1)[-1]
    return f"{version[0].upper()}{version[1:]}{doc['kind']}"  # apps/v1 Deployment -> V1Deployment


def lost_fields(original: Any, written: Any, path: str = "") -> list[str]:
    if isinstance(original, dict):
        if not isinstance(written, dict):
            return [path or "/"]
        return [p for key, value in original.items() for p in lost_fields(value, written.get(key), f"{path}.{key}")]
    if isinstance(original, list):
        if not isinstance(written, list) or len(written) != len(original):
            return [path]
        return [p for i, value in enumerate(original) for p in lost_fields(value, written[i], f"{path}[{i}]")]
    return [] if original == written or str(original) == str(written) else [path]


def test_every_object_survives_a_round_trip_through_the_kubernetes_schema() -> None:
    docs = documents()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap", "ClusterRole", "ServiceAccount"}
    for doc in docs:
        assert lost_fields(doc, read_back(doc, model_name(doc))) == [], f"{doc['kind']}/{doc['metadata']['name']}"


def test_the_schema_round_trip_catches_a_misspelt_field() -> None:
    deployment = next(iter(named("Deployment").values()))
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"tcpSocket": {"port": 1}}
    assert lost_fields(broken, read_back(broken, "V1Deployment")) == [".spec.template.spec.containers[0].readinesProbe"]


def test_every_aetherius_container_runs_an_aeth_command_that_exists() -> None:
    commands = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    roles = {name: container["args"][0] for name, container in aetherius_containers()}
    assert roles == {"aetherius-collector": "collect", "aetherius-worker": "worker", "aetherius-slack": "serve"}
    assert set(roles.values()) <= commands


def test_every_aeth_variable_in_the_config_map_and_the_secret_recipe_is_a_setting() -> None:
    fields = {f"AETH_{name.upper()}" for name in Settings.model_fields}
    config = named("ConfigMap")["aetherius-settings"]["data"]
    recipe = re.findall(r"--from-literal=(AETH_\w+)=", (KUBE / "aetherius.yaml").read_text())
    assert {"AETH_DATABASE_URL", "AETH_SLACK_BOT_TOKEN", "AETH_SLACK_SIGNING_SECRET"} <= set(recipe)
    assert sorted(({k for k in config if k.startswith("AETH_")} | set(recipe)) - fields) == []
    assert not {k for k in config if "TOKEN" in k or "SECRET" in k or "DATABASE_URL" in k}, "secrets go in the Secret"
    for _, container in aetherius_containers():
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"aetherius-settings", "aetherius-secrets"}


def test_pods_run_unprivileged_with_a_read_only_root_and_a_writable_tmp() -> None:
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"], name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert "memory" in container["resources"]["limits"], name
    for name, container in aetherius_containers():
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/var/lib/aetherius"} <= mounts, name
    assert named("ConfigMap")["aetherius-settings"]["data"]["HOME"] == "/tmp"


def test_services_and_probes_name_ports_their_pods_declare() -> None:
    deployments = named("Deployment")
    for service in named("Service").values():
        [target] = [d for d in deployments.values() if d["spec"]["template"]["metadata"]["labels"].items()
                    >= service["spec"]["selector"].items()]  # fmt: skip
        ports = {p["name"] for c in target["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, service["metadata"]["name"]
    for name, spec in pod_specs().items():
        for container in spec["containers"]:
            ports = {p["name"] for p in container["ports"]}
            for probe in ("livenessProbe", "readinessProbe"):
                handler = container.get(probe, {})
                for action in ("httpGet", "tcpSocket"):
                    if action in handler:
                        assert handler[action]["port"] in ports, f"{name} {probe}"


def test_aetherius_pods_use_the_account_and_namespace_rbac_yaml_creates_and_redis_gets_no_token() -> None:
    account = named("ServiceAccount")["aetherius"]
    for name, spec in pod_specs().items():
        if name == "aetherius-redis":
            assert spec["automountServiceAccountToken"] is False
        else:
            assert spec["serviceAccountName"] == account["metadata"]["name"], name
    assert {d["metadata"].get("namespace", "aetherius") for d in documents() if d["kind"] != "Namespace"} == {
        "aetherius"
    }
    assert named("ConfigMap")["aetherius-settings"]["data"]["AETH_LEASE_NAMESPACE"] == "aetherius"


def test_the_dockerfile_copies_every_package_and_pins_the_torch_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    text = DOCKERFILE.read_text()
    copied = set(re.findall(r"^COPY (\w+) \1$", text, re.MULTILINE))
    assert copied == packages
    [torch] = [d for d in project["project"]["dependencies"] if d.startswith("torch")]
    assert f"install --index-url https://download.pytorch.org/whl/cpu {torch}" in text
    assert re.search(r"^USER 10001", text, re.MULTILINE) and 'ENTRYPOINT ["aeth"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and not packages & set(ignored)


@pytest.mark.slow
def test_the_wheel_the_image_installs_carries_the_case_library_the_prompts_and_the_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("aetherius-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    cases = {f"knowledge/cases/{p.name}" for p in (ROOT / "knowledge" / "cases").glob("*.yaml")}
    prompts = {f"prompts/{p.relative_to(ROOT / 'prompts')}" for p in (ROOT / "prompts").rglob("*.j2")}
    migrations = {
        f"aetherius/store/migrations/versions/{p.name}"
        for p in (ROOT / "aetherius/store/migrations/versions").glob("*.py")
    }
    assert len(cases) >= 80 and cases <= names
    assert prompts and prompts <= names
    assert migrations <= names and "aetherius/store/migrations/env.py" in names
