"""Redaction of whole objects (env, probes, Secrets, annotations) and of large or hostile input."""

from __future__ import annotations

import copy

import pytest

from knowledge.redaction import LAST_APPLIED_ANNOTATION, REDACTED, redact_object, redact_text
from tests.unit.knowledge.redaction_fixtures import (
    DB_HOST,
    seeded_pod,
    seeded_snapshot,
)

# --------------------------------------------------------------------------------------------------------------
# redact_object
# --------------------------------------------------------------------------------------------------------------


def test_redact_object_hides_secret_env_values_but_keeps_references_and_ordinary_values() -> None:
    container = seeded_pod()["spec"]["containers"][0]
    env = {entry["name"]: entry for entry in redact_object(container)["env"]}

    assert env["DB_PASSWORD"]["value"] == REDACTED
    assert env["STRIPE_API_KEY"]["value"] == REDACTED
    assert env["AWS_SECRET_ACCESS_KEY"]["value"] == REDACTED
    assert env["AWS_ACCESS_KEY_ID"]["value"] == f"AKIA{REDACTED}"  # not a secret name; still a known token shape
    assert env["DB_HOST"]["value"] == DB_HOST
    assert env["DATABASE_URL"]["value"] == f"postgres://orders:{REDACTED}@{DB_HOST}:5432/orders"
    assert env["BROKER_URL"]["value"] == "amqp://guest:**@rabbitmq.shop.svc:5672"
    assert env["API_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "app-credentials", "key": "api-token"}}


def test_redact_object_hides_secret_header_values_in_probes() -> None:
    probe = {"httpGet": {"httpHeaders": [{"name": "Authorization", "value": "Bearer abc"}, {"name": "Accept"}]}}
    headers = redact_object(probe)["httpGet"]["httpHeaders"]
    assert headers == [{"name": "Authorization", "value": REDACTED}, {"name": "Accept"}]


def test_redact_object_hides_secret_data_but_keeps_its_keys_and_empty_values() -> None:
    secret = seeded_snapshot()["objects"][1]
    redacted = redact_object(secret)
    assert redacted["data"] == {"password": REDACTED, "optional-empty": ""}
    assert redacted["stringData"] == {"api-token": REDACTED}
    assert redacted["metadata"] == {"name": "app-credentials", "namespace": "shop"}
    assert redacted["type"] == "Opaque"


def test_redact_object_replaces_the_last_applied_configuration_whole() -> None:
    annotations = redact_object(seeded_pod())["metadata"]["annotations"]
    assert annotations[LAST_APPLIED_ANNOTATION] == REDACTED
    assert annotations["shop.example.com/alerts"] == f"https://hooks.slack.com/services/{REDACTED}"


def test_redact_object_walks_secret_named_references_instead_of_blanking_them() -> None:
    spec = redact_object(seeded_pod())["spec"]
    container = spec["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "app-credentials"}}]
    assert spec["volumes"][0] == {"name": "creds", "secret": {"secretName": "app-credentials"}}
    projection = spec["volumes"][1]["projected"]["sources"][0]
    assert projection == {"serviceAccountToken": {"expirationSeconds": 3600, "path": "token"}}
    assert spec["serviceAccountName"] == "orders"


def test_redact_object_hides_strings_under_secret_keys_at_any_depth() -> None:
    obj = {
        "config": {"db": {"password": "pw1", "host": "db", "port": 5432}},
        "apiKey": "k1",
        "tokens": 12,
        "auth": {"type": "basic", "password": "pw2"},
        "token": "",
        "enabled": True,
        "name": "password",
    }
    assert redact_object(obj) == {
        "config": {"db": {"password": REDACTED, "host": "db", "port": 5432}},
        "apiKey": REDACTED,
        "tokens": 12,
        "auth": {"type": "basic", "password": REDACTED},
        "token": "",
        "enabled": True,
        "name": "password",
    }


def test_redact_object_reads_a_flag_and_its_value_split_over_args() -> None:
    args = ["--admin-password", "pw1", "--port", "8080", "-u", "ci:pw2", "--token-ttl", "24h"]
    expected = ["--admin-password", REDACTED, "--port", "8080", "-u", f"ci:{REDACTED}", "--token-ttl", "24h"]
    assert redact_object(args) == expected


def test_redact_object_does_not_modify_its_input_and_keeps_container_types() -> None:
    snapshot = seeded_snapshot()
    before = copy.deepcopy(snapshot)
    redact_object(snapshot)
    assert snapshot == before
    mixed = ("a", 1, None, 2.5, {"k": ["password=x"]})
    assert redact_object(mixed) == ("a", 1, None, 2.5, {"k": [f"password={REDACTED}"]})


# --------------------------------------------------------------------------------------------------------------
# Speed: linear time, on big ordinary logs and on hostile input
# --------------------------------------------------------------------------------------------------------------

_ORDINARY_LINES = [
    '2024-05-01T12:00:{s:02d}.123Z level=info msg="request handled" method=GET path=/api/v1/orders/{n} status=200 '
    "duration_ms={n} user_id={n} trace_id=4bf92f3577b34da6a3ce929d0e0e{n:04d}",
    '{{"ts":"2024-05-01T12:00:{s:02d}Z","level":"error","msg":"connection refused","host":"10.0.3.{s}",'
    '"port":5432,"attempt":{n},"cache_key":"orders:{n}"}}',
    '10.0.0.{s} - - [01/May/2024:12:00:{s:02d} +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29" {n}',
    "\tat com.example.orders.OrderService.process(OrderService.java:{n})",
    "java.lang.IllegalStateException: token bucket exhausted for tenant {n}; retry after {s}s",
    'Pulling image "registry.example.com:5000/orders@sha256:0123456789abcdef0123456789abcdef'
    '0123456789abcdef0123456789ab{n:04d}"',
    'E0501 12:00:{s:02d}.000000       1 reflector.go:{n}] Failed to watch *v1.Secret: secrets "app-credentials" '
    "is forbidden",
    'FATAL:  password authentication failed for user "orders" (session {n})',
]


def _ordinary_log(size: int) -> str:
    lines: list[str] = []
    total = 0
    i = 0
    while total < size:
        line = _ORDINARY_LINES[i % len(_ORDINARY_LINES)].format(s=i % 60, n=(i * 7919) % 10000)
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines)


@pytest.mark.timeout(60)  # a hang guard, not a speed claim: benchmarks/redaction.py measures speed
def test_five_megabytes_of_ordinary_logs_come_back_untouched() -> None:
    text = _ordinary_log(5 * 1024 * 1024)
    assert redact_text(text) == text  # nothing secret in there, and nothing touched


@pytest.mark.timeout(30)  # catastrophic backtracking would hang here for hours; linear time takes well under 1 s
@pytest.mark.parametrize(
    "unit",
    [
        "a=a=", "key=", "cache_key=", "key: ", "token=a://", ":::@@@", "a:a@", "a://a:a", "tokentoken",
        "password=", '"password":"', '\\"password\\":\\"',
        "eyJabc.", "-----BEGIN PRIVATE KEY-----", "--token --token ", "<password>", "Bearer 1", "mysql -p",
        "redis-cli -a ", "- name: DB_PASSWORD\n", "Authorization: ", "\\", "x", " ", "@", "ZXlK", "AKIA",
    ],
)  # fmt: skip
def test_a_pathological_megabyte_line_does_not_backtrack_forever(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    assert isinstance(redact_text(text), str)
