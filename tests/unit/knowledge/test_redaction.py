"""Redaction: no secret leaves through any door, and the evidence around it survives.

All secret values are fake. Vendor tokens are assembled from two string pieces so secret scanners (GitHub push
protection and the like) do not mistake this file for a leak.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from knowledge.redaction import LAST_APPLIED_ANNOTATION, REDACTED, looks_secret_name, redact_object, redact_text

# --------------------------------------------------------------------------------------------------------------
# Seeded secrets: every value below must disappear from any redacted output that contained it.
# --------------------------------------------------------------------------------------------------------------

PG_PASSWORD = "S3cr3tPg_pw_0001"
REDIS_PASSWORD = "R3disPw_777"
MONGO_PASSWORD = "M0ngoPw-atlas-55"
SA_TOKEN_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3Qta2V5In0"
    ".eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OnNob3A6b3JkZXJzIn0"
    ".ZmFrZS1zaWduYXR1cmUtZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc4OQ"
)
AWS_ACCESS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GOOGLE_API_KEY = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
GCP_PRIVATE_KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDfakefakefake"
SLACK_BOT_TOKEN = "xox" + "b-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_WEBHOOK_PATH = "T0FAKE001/B0FAKE002/" + "fakeWebhookSecret0123456"
GITHUB_TOKEN = "ghp" + "_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITLAB_TOKEN = "glpat" + "-xYz12AbC34dEf56GhI78"
STRIPE_KEY = "sk_" + "live_51FakeFakeFake0123456789abcd"
OPENAI_KEY = "sk-" + "proj-FakeOpenAIKey_0123456789-abcdefghijklmnop"
ANTHROPIC_KEY = "sk-" + "ant-api03-FakeAnthropicKey0123456789-abcdefghijklmno_AA"
SENDGRID_KEY = "SG" + ".ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"
TWILIO_KEY = "SK" + "0123456789abcdef0123456789abcdef"
NPM_TOKEN = "npm" + "_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
PYPI_TOKEN = "pypi" + "-AgEIcHlwaS5vcmcCJGFiY2RlZmFrZS0xMjM0LTU2NzgtOTBhYi1jZGVmMDEyMzQ1Njc4AAIqWzMsImZha2UiXQ"
VAULT_TOKEN = "hvs" + ".CAESIFakeVaultToken0123456789abcdefGh"
SSH_KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ"
AZURE_ACCOUNT_KEY = "Zm9vYmFyZmFrZWtleWZvcmF6dXJlc3RvcmFnZTAxMjM0NTY3ODk+/abc=="
AZURE_SAS_SIG = "FakeSasSig0123%2Bvalue%3D"
DOCKER_AUTH = "dXNlcjpmYWtlLXJlZ2lzdHJ5LXBhc3M="
DOCKER_PASSWORD = "fake-registry-pass-9"
ENV_DB_PASSWORD = "correct-horse-battery-staple-42"
CURL_PASSWORD = "curlPa55word"
FLAG_PASSWORD = "flagPa55-xyz"
ARGS_PASSWORD = "argsPa55-in-list"
MYSQL_PASSWORD = "mysqlR00tPw"
API_KEY_HEADER = "apikey-6f1d2c3b4a59687766554433"
CLIENT_SECRET = "cl1ent-s3cret-value-9876"
BASIC_AUTH = "dXNlcjpwYXNzd29yZDEyMw=="
JDBC_PASSWORD = "JdbcPw_42"
LAST_APPLIED_PASSWORD = "lastApplied-S3cret"
SECRET_DATA_B64 = "aHVudGVyMi1zZWNyZXQtZGF0YQ=="
STRING_DATA_VALUE = "stringData-plain-secret-31"
PROBE_TOKEN = "probeHeaderTok3n-abc123"

SEEDED_SECRETS: list[str] = [
    PG_PASSWORD,
    REDIS_PASSWORD,
    MONGO_PASSWORD,
    SA_TOKEN_JWT,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    GOOGLE_API_KEY,
    GCP_PRIVATE_KEY_BODY,
    SLACK_BOT_TOKEN,
    SLACK_WEBHOOK_PATH,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    STRIPE_KEY,
    OPENAI_KEY,
    ANTHROPIC_KEY,
    SENDGRID_KEY,
    TWILIO_KEY,
    NPM_TOKEN,
    PYPI_TOKEN,
    VAULT_TOKEN,
    SSH_KEY_BODY,
    AZURE_ACCOUNT_KEY,
    AZURE_SAS_SIG,
    DOCKER_AUTH,
    DOCKER_PASSWORD,
    ENV_DB_PASSWORD,
    CURL_PASSWORD,
    FLAG_PASSWORD,
    ARGS_PASSWORD,
    MYSQL_PASSWORD,
    API_KEY_HEADER,
    CLIENT_SECRET,
    BASIC_AUTH,
    JDBC_PASSWORD,
    LAST_APPLIED_PASSWORD,
    SECRET_DATA_B64,
    STRING_DATA_VALUE,
    PROBE_TOKEN,
]

IMAGE = "registry.example.com/shop/orders@sha256:" + "0123456789abcdef" * 4
POD_IP = "10.0.3.17"
DB_HOST = "orders-db.shop.svc.cluster.local"
POD_UID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
POD_NAME = "orders-7d9f8c6b5-x2kqz"

EVIDENCE: list[str] = [
    IMAGE,
    POD_IP,
    DB_HOST,
    POD_UID,
    POD_NAME,
    'password authentication failed for user \\"orders\\"',  # as it appears inside json.dumps
    '"exitCode": 137',
    "exit code 137",
    "app-credentials",
    "OOMKilled",
    "token bucket",
    "amqp://guest:**@rabbitmq.shop.svc:5672",
]

SEEDED_LOG = f"""\
2024-05-01T12:00:00Z INFO connecting to postgres://orders:{PG_PASSWORD}@{DB_HOST}:5432/orders?sslmode=require
2024-05-01T12:00:00Z INFO cache rediss://default:{REDIS_PASSWORD}@redis.shop.svc:6380/0
2024-05-01T12:00:00Z INFO catalog mongodb+srv://catalog:{MONGO_PASSWORD}@cluster0.example.mongodb.net/?retryWrites=true
2024-05-01T12:00:01Z ERROR FATAL:  password authentication failed for user "orders" from {POD_IP}
2024-05-01T12:00:01Z DEBUG request headers: Authorization: Bearer {SA_TOKEN_JWT}
2024-05-01T12:00:01Z DEBUG upstream -H "Authorization: Basic {BASIC_AUTH}" -H "X-Api-Key: {API_KEY_HEADER}"
aws_access_key_id = {AWS_ACCESS_KEY_ID}
aws_secret_access_key = {AWS_SECRET_ACCESS_KEY}
maps client created key={GOOGLE_API_KEY}
{{"type": "service_account", "private_key_id": "0123abcd", \
"private_key": "-----BEGIN PRIVATE KEY-----\\n{GCP_PRIVATE_KEY_BODY}\\n-----END PRIVATE KEY-----\\n"}}
slack client init token {SLACK_BOT_TOKEN}
posting to https://hooks.slack.com/services/{SLACK_WEBHOOK_PATH}
git clone https://x-access-token:{GITHUB_TOKEN}@github.com/shop/orders.git
GITLAB_TOKEN={GITLAB_TOKEN}
stripe: using key {STRIPE_KEY}
llm: OPENAI_API_KEY set ({OPENAI_KEY}), anthropic fallback {ANTHROPIC_KEY}
mail: SENDGRID_API_KEY={SENDGRID_KEY}
sms: twilio key sid {TWILIO_KEY}
//registry.npmjs.org/:_authToken={NPM_TOKEN}
twine upload -u __token__ -p {PYPI_TOKEN}
vault login {VAULT_TOKEN}
-----BEGIN OPENSSH PRIVATE KEY-----
{SSH_KEY_BODY}
-----END OPENSSH PRIVATE KEY-----
DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey={AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net
GET https://shopdata.blob.core.windows.net/exports/a.csv?sv=2022-11-02&ss=b&srt=o&sp=r&sig={AZURE_SAS_SIG}
{{"auths": {{"registry.example.com": {{"auth": "{DOCKER_AUTH}", "password": "{DOCKER_PASSWORD}"}}}}}}
+ curl -sf -u admin:{CURL_PASSWORD} http://{POD_IP}:8080/admin
+ ./migrate --db-password {FLAG_PASSWORD} --timeout 30s
+ mysql -h {DB_HOST} -uroot -p{MYSQL_PASSWORD} -e 'select 1'
oauth: {{"client_id": "orders", "client_secret": "{CLIENT_SECRET}"}}
jdbc:sqlserver://{DB_HOST}:1433;databaseName=orders;user=sa;password={JDBC_PASSWORD};encrypt=true
rate limiter: token bucket empty, retrying
broker amqp://guest:**@rabbitmq.shop.svc:5672 connection closed
container exited with exit code 137 (OOMKilled)
Successfully pulled image "{IMAGE}"
"""


def _seeded_pod() -> dict[str, Any]:
    last_applied = {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {"containers": [{"name": "orders", "env": [{"name": "X", "value": LAST_APPLIED_PASSWORD}]}]},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": POD_NAME,
            "namespace": "shop",
            "uid": POD_UID,
            "annotations": {
                LAST_APPLIED_ANNOTATION: json.dumps(last_applied),
                "shop.example.com/alerts": f"https://hooks.slack.com/services/{SLACK_WEBHOOK_PATH}",
            },
        },
        "spec": {
            "serviceAccountName": "orders",
            "containers": [
                {
                    "name": "orders",
                    "image": IMAGE,
                    "args": ["--admin-password", ARGS_PASSWORD, "--port", "8080"],
                    "env": [
                        {"name": "DB_PASSWORD", "value": ENV_DB_PASSWORD},
                        {"name": "DB_HOST", "value": DB_HOST},
                        {"name": "STRIPE_API_KEY", "value": STRIPE_KEY},
                        {"name": "AWS_ACCESS_KEY_ID", "value": AWS_ACCESS_KEY_ID},
                        {"name": "AWS_SECRET_ACCESS_KEY", "value": AWS_SECRET_ACCESS_KEY},
                        {"name": "DATABASE_URL", "value": f"postgres://orders:{PG_PASSWORD}@{DB_HOST}:5432/orders"},
                        {"name": "BROKER_URL", "value": "amqp://guest:**@rabbitmq.shop.svc:5672"},
                        {
                            "name": "API_TOKEN",
                            "valueFrom": {"secretKeyRef": {"name": "app-credentials", "key": "api-token"}},
                        },
                    ],
                    "envFrom": [{"secretRef": {"name": "app-credentials"}}],
                    "livenessProbe": {
                        "httpGet": {
                            "path": "/healthz",
                            "port": 8080,
                            "httpHeaders": [{"name": "X-Auth-Token", "value": PROBE_TOKEN}],
                        }
                    },
                }
            ],
            "volumes": [
                {"name": "creds", "secret": {"secretName": "app-credentials"}},
                {
                    "name": "sa-token",
                    "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3600, "path": "token"}}]},
                },
            ],
        },
        "status": {
            "podIP": POD_IP,
            "containerStatuses": [
                {
                    "name": "orders",
                    "imageID": IMAGE,
                    "restartCount": 4,
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
                }
            ],
        },
    }


def _seeded_snapshot() -> dict[str, Any]:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "app-credentials", "namespace": "shop"},
        "type": "Opaque",
        "data": {"password": SECRET_DATA_B64, "optional-empty": ""},
        "stringData": {"api-token": STRING_DATA_VALUE},
    }
    events = [
        {
            "kind": "Event",
            "reason": "FailedMount",
            "message": 'MountVolume.SetUp failed for volume "creds" : secret "app-credentials" not found',
        },
        {
            "kind": "Event",
            "reason": "Failed",
            "message": f"Failed to pull image: unauthorized: docker login --password {DOCKER_PASSWORD} failed",
        },
        {
            "kind": "Event",
            "reason": "Unhealthy",
            "message": f"Liveness probe failed: GET http://{POD_IP}:8080/healthz?access_token={VAULT_TOKEN} 401",
        },
    ]
    return {
        "objects": [_seeded_pod(), secret, *events],
        "logs": [{"namespace": "shop", "pod": POD_NAME, "container": "orders", "text": SEEDED_LOG}],
    }


# --------------------------------------------------------------------------------------------------------------
# The whole-snapshot guarantee
# --------------------------------------------------------------------------------------------------------------


def test_seeded_snapshot_leaks_no_secret_and_keeps_its_evidence() -> None:
    snapshot = _seeded_snapshot()
    raw = json.dumps(snapshot)
    assert len(set(SEEDED_SECRETS)) >= 25
    assert all(secret in raw for secret in SEEDED_SECRETS), "every seeded secret is really in the input"

    redacted = json.dumps(redact_object(snapshot))

    leaked = [secret for secret in SEEDED_SECRETS if secret in redacted]
    assert leaked == []
    lost = [evidence for evidence in EVIDENCE if evidence not in redacted]
    assert lost == []


def test_seeded_log_text_leaks_no_secret_and_keeps_its_evidence() -> None:
    redacted = redact_text(SEEDED_LOG)

    assert [secret for secret in SEEDED_SECRETS if secret in redacted] == []
    for evidence in (IMAGE.split("@")[0], POD_IP, DB_HOST, 'password authentication failed for user "orders"'):
        assert evidence in SEEDED_LOG and evidence in redacted
    assert "exit code 137 (OOMKilled)" in redacted
    assert "rate limiter: token bucket empty, retrying" in redacted


def test_redaction_is_idempotent() -> None:
    once = redact_text(SEEDED_LOG)
    assert redact_text(once) == once
    obj = redact_object(_seeded_snapshot())
    assert redact_object(obj) == obj


# --------------------------------------------------------------------------------------------------------------
# redact_text: what is hidden
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://orders:hunter2@db:5432/orders", "postgres://orders:[REDACTED]@db:5432/orders"),
        ("postgresql://orders:hunter2@db/orders", "postgresql://orders:[REDACTED]@db/orders"),
        ("mysql://root:hunter2@10.0.0.5:3306/shop", "mysql://root:[REDACTED]@10.0.0.5:3306/shop"),
        ("mongodb://app:hunter2@m0,m1,m2/db?replicaSet=rs0", "mongodb://app:[REDACTED]@m0,m1,m2/db?replicaSet=rs0"),
        ("mongodb+srv://app:p%40ss@cluster0.x.net/", "mongodb+srv://app:[REDACTED]@cluster0.x.net/"),
        ("redis://:hunter2@redis:6379/0", "redis://:[REDACTED]@redis:6379/0"),
        ("rediss://default:hunter2@redis:6380", "rediss://default:[REDACTED]@redis:6380"),
        ("amqp://shop:hunter2@rabbit:5672/vhost", "amqp://shop:[REDACTED]@rabbit:5672/vhost"),
        ("amqps://shop:hunter2@rabbit:5671", "amqps://shop:[REDACTED]@rabbit:5671"),
        ("https://user:hunter2@git.example.com/repo.git", "https://user:[REDACTED]@git.example.com/repo.git"),
        ("ftp://backup:hunter2@ftp.example.com/dump", "ftp://backup:[REDACTED]@ftp.example.com/dump"),
        ("jdbc:mysql://shop:hunter2@db:3306/shop", "jdbc:mysql://shop:[REDACTED]@db:3306/shop"),
        ("jdbc:postgresql://db/orders?user=orders&password=hunter2", "jdbc:postgresql://db/orders?user=orders&password=[REDACTED]"),
        ("jdbc:sqlserver://db:1433;user=sa;password=Hunter2!;encrypt=true", "jdbc:sqlserver://db:1433;user=sa;password=[REDACTED];encrypt=true"),
        ("jdbc:oracle:thin:scott/tiger@db:1521:orcl", "jdbc:oracle:thin:scott/[REDACTED]@db:1521:orcl"),
        ("dial orders:hunter2@db:5432 failed", "dial orders:[REDACTED]@db:5432 failed"),
        ("https://user:p@ss@host/x", "https://user:[REDACTED]@host/x"),
    ],
)  # fmt: skip
def test_connection_string_keeps_user_and_host_but_hides_password(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {SA_TOKEN_JWT}", "Authorization: Bearer [REDACTED]"),
        ("authorization: bearer abc123opaque", "authorization: bearer [REDACTED]"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]"),
        ("Authorization: Token 0123456789abcdef", "Authorization: Token [REDACTED]"),
        (
            'Authorization: Digest username="bob", realm="api", nonce="abc", response="6629fae4"',
            "Authorization: Digest [REDACTED]",
        ),
        ("Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic [REDACTED]"),
        (
            'curl -H "Authorization: Bearer abc123" https://api',
            'curl -H "Authorization: Bearer [REDACTED]" https://api',
        ),
        ('{"Authorization": "Bearer abc123"}', '{"Authorization": "Bearer [REDACTED]"}'),
        ("map[Authorization:[Bearer abc123]]", "map[Authorization:[Bearer [REDACTED]]]"),
        ("Cookie: session=abc123; theme=dark", "Cookie: [REDACTED]"),
        ("retrying with Bearer a1b2c3d4e5f6 after 401", "retrying with Bearer [REDACTED] after 401"),
    ],
)
def test_authorization_header_keeps_scheme_but_hides_credentials(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=abc123", "password=[REDACTED]"),
        ("level=info user=orders password=abc123 db=orders", "level=info user=orders password=[REDACTED] db=orders"),
        ("DB_PASSWORD=abc123", "DB_PASSWORD=[REDACTED]"),
        ("export MYSQL_ROOT_PASSWORD='abc 123'", "export MYSQL_ROOT_PASSWORD='[REDACTED]'"),
        ("PGPASSWORD=abc123 psql", "PGPASSWORD=[REDACTED] psql"),
        ("passwd: abc123", "passwd: [REDACTED]"),
        ("pwd=abc123", "pwd=[REDACTED]"),
        ("secret: s3cr3t-value", "secret: [REDACTED]"),
        ("token=abc.def.ghi", "token=[REDACTED]"),
        ('{"api_key": "abc123"}', '{"api_key": "[REDACTED]"}'),
        ('{"apiKey":"abc123","user":"bob"}', '{"apiKey":"[REDACTED]","user":"bob"}'),
        ("X-Api-Key: abc123", "X-Api-Key: [REDACTED]"),
        ("apikey=abc123", "apikey=[REDACTED]"),
        ("ACCESS_KEY=abc123", "ACCESS_KEY=[REDACTED]"),
        ("client_secret=abc123", "client_secret=[REDACTED]"),
        ("private_key: abc123", "private_key: [REDACTED]"),
        ("auth=abc123", "auth=[REDACTED]"),
        ("X-Auth-Token: abc123", "X-Auth-Token: [REDACTED]"),
        ("spring.datasource.password=abc123", "spring.datasource.password=[REDACTED]"),
        ("{'password': 'abc123'}", "{'password': '[REDACTED]'}"),
        ("&{User:orders Password:abc123 Host:db}", "&{User:orders Password:[REDACTED] Host:db}"),
        ('{"msg":"{\\"password\\":\\"abc123\\"}"}', '{"msg":"{\\"password\\":\\"[REDACTED]\\"}"}'),
        (':password => "abc123"', ':password => "[REDACTED]"'),
        ("<password>abc123</password>", "<password>[REDACTED]</password>"),
        ("GET /cb?code=x&access_token=abc123&state=y", "GET /cb?code=x&access_token=[REDACTED]&state=y"),
        ("- name: DB_PASSWORD\n  value: abc123", "- name: DB_PASSWORD\n  value: [REDACTED]"),
        ('{"name":"API_TOKEN","value":"abc123"}', '{"name":"API_TOKEN","value":"[REDACTED]"}'),
        ('api_key: "-----BEGIN x"', 'api_key: "[REDACTED]"'),
        ("SENTRY_DSN=https://abc123@o1.ingest.sentry.io/5", "SENTRY_DSN=https://[REDACTED]@o1.ingest.sentry.io/5"),
        ("vault secret_id=abc123", "vault secret_id=[REDACTED]"),
    ],
)
def test_secret_keys_hide_only_their_value(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("secret", "kept_prefix"),
    [
        (AWS_ACCESS_KEY_ID, "AKIA"),
        ("ASIA" + "Y34FZKBOKMUTVV7A", "ASIA"),
        (GOOGLE_API_KEY, "AIza"),
        (SLACK_BOT_TOKEN, "xoxb-"),
        ("xox" + "p-1234567890-1234567890-abcdefabcdef", "xoxp-"),
        ("xox" + "a-2-1234567890-abcdefabcdef", "xoxa-"),
        ("xox" + "s-1234567890-abcdefabcdef", "xoxs-"),
        ("xapp" + "-1-A0123456789-0123456789012-abcdef0123456789", "xapp-"),
        (GITHUB_TOKEN, "ghp_"),
        ("gho" + "_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "gho_"),
        ("ghu" + "_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghu_"),
        ("ghs" + "_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghs_"),
        ("ghr" + "_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghr_"),
        ("github" + "_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_"),
        (GITLAB_TOKEN, "glpat-"),
        (STRIPE_KEY, "sk_live_"),
        ("sk_" + "test_51FakeFakeFake0123456789abcd", "sk_test_"),
        ("rk_" + "live_51FakeFakeFake0123456789abcd", "rk_live_"),
        ("pk_" + "live_51FakeFakeFake0123456789abcd", "pk_live_"),
        ("sk-" + "FakeLegacyOpenAIKey0123456789abcdefghijklmnopqr", "sk-"),
        (OPENAI_KEY, "sk-proj-"),
        (ANTHROPIC_KEY, "sk-ant-api03-"),
        (SENDGRID_KEY, "SG."),
        (TWILIO_KEY, "SK"),
        ("AC" + "0123456789abcdef0123456789abcdef", "AC"),
        (NPM_TOKEN, "npm_"),
        (PYPI_TOKEN, "pypi-"),
        (VAULT_TOKEN, "hvs."),
        ("hf" + "_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "hf_"),
        ("dckr" + "_pat_AbCdEfGhIjKlMnOpQrStUvWx", "dckr_pat_"),
    ],
)
def test_vendor_tokens_are_hidden_but_keep_their_public_prefix(secret: str, kept_prefix: str) -> None:
    redacted = redact_text(f"starting worker with credential {secret} now")
    assert redacted == f"starting worker with credential {kept_prefix}{REDACTED} now"


def test_jwts_and_service_account_tokens_are_hidden_whole() -> None:
    assert redact_text(f"token {SA_TOKEN_JWT} rejected") == f"token {REDACTED} rejected"
    assert redact_text(f'"{SA_TOKEN_JWT}"') == f'"{REDACTED}"'
    legacy_sa_token_secret = "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNkluUmxjM1FpZlEuZXlKemRXSWlPaUo0SW4wLmFiYw=="
    assert redact_text(f"token: {legacy_sa_token_secret}") == f"token: {REDACTED}"
    assert redact_text(f"data {legacy_sa_token_secret}") == f"data {REDACTED}"


@pytest.mark.parametrize(
    "block",
    [
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQ==\n"
        "-----END PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\nMIIEow==\n"
        "-----END RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIBfake\\n-----END EC PRIVATE KEY-----",
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGFakeKey=\n-----END PGP PRIVATE KEY BLOCK-----",
    ],
)
def test_private_key_blocks_are_hidden_between_begin_and_end(block: str) -> None:
    redacted = redact_text(f"loaded key\n{block}\nnext line")
    begin = block.split("-----")[1]
    end = block.split("-----")[-2]
    assert redacted == f"loaded key\n-----{begin}-----{REDACTED}-----{end}-----\nnext line"


def test_truncated_private_key_is_hidden_to_its_end() -> None:
    redacted = redact_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0\nMIIEvQIBADANBgkqhkiG9w0")
    assert redacted == f"-----BEGIN PRIVATE KEY-----{REDACTED}"


def test_base64_wrapped_private_key_is_hidden_but_base64_certificate_is_kept() -> None:
    key = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB"
    cert = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lK"
    assert redact_text(f"tls.key: {key}") == f"tls.key: {REDACTED}"
    assert redact_text(f"tls.crt: {cert}") == f"tls.crt: {cert}"


def test_certificates_and_public_ssh_keys_are_kept() -> None:
    text = (
        "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIJ\n-----END CERTIFICATE-----\n"
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakePublicKey ops@example.com\n"
        "x509: certificate has expired or is not yet valid"
    )
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -u admin:hunter2 https://api", "curl -u admin:[REDACTED] https://api"),
        ("curl --user 'admin:hunter2' https://api", "curl --user 'admin:[REDACTED]' https://api"),
        ("app --password hunter2 --port 80", "app --password [REDACTED] --port 80"),
        ("app --token hunter2", "app --token [REDACTED]"),
        ("app --client-secret=hunter2", "app --client-secret=[REDACTED]"),
        ("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef", "kubeadm join 10.0.0.1:6443 --token [REDACTED]"),
        ("mysql -h db -uroot -phunter2 shop", "mysql -h db -uroot -p[REDACTED] shop"),
        ("mysqladmin ping -uroot -p'hunter2'", "mysqladmin ping -uroot -p'[REDACTED]'"),
        ("redis-cli -h redis -a hunter2 ping", "redis-cli -h redis -a [REDACTED] ping"),
        ("redis-server --requirepass hunter2", "redis-server --requirepass [REDACTED]"),
    ],
)
def test_command_line_passwords_are_hidden(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "echo $REGISTRY_PASSWORD | docker login --password-stdin registry.example.com",
        "app --token-ttl 24h --auth-mode rbac --password-file /run/secrets/db",
        "mkdir -p /var/lib/app && ls -a /tmp",
        "docker run -u 1000:1000 -p 8080:80 nginx",
        "mysqladmin ping -uroot -p$MYSQL_ROOT_PASSWORD",
        "redis-cli --no-auth-warning ping",
    ],
)
def test_command_lines_that_only_mention_secrets_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_azure_connection_strings_and_sas_signatures_are_hidden() -> None:
    conn = (
        "DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey=Zm9vYmFy+/abc==;EndpointSuffix=core.windows.net"
    )
    assert redact_text(conn) == (
        "DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey=[REDACTED];EndpointSuffix=core.windows.net"
    )
    bus = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManage;SharedAccessKey=abc123="
    assert redact_text(bus) == (
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManage;SharedAccessKey=[REDACTED]"
    )
    sas = "https://a.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=abc%2Bdef%3D"
    assert redact_text(sas) == "https://a.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=[REDACTED]"


def test_docker_config_auth_and_passwords_are_hidden() -> None:
    config = '{"auths": {"registry.example.com": {"username": "ci", "password": "pw1", "auth": "Y2k6cHcx"}}}'
    assert redact_text(config) == (
        '{"auths": {"registry.example.com": {"username": "ci", "password": "[REDACTED]", "auth": "[REDACTED]"}}}'
    )
    dockerconfigjson = "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiWTJrNmNIY3gifX19"
    assert redact_text(f".dockerconfigjson: {dockerconfigjson}") == f".dockerconfigjson: {REDACTED}"


def test_webhook_urls_keep_the_service_but_hide_the_path() -> None:
    text = f"POST https://hooks.slack.com/services/{SLACK_WEBHOOK_PATH} 404"
    assert redact_text(text) == f"POST https://hooks.slack.com/services/{REDACTED} 404"
    discord = "https://discord.com/api/webhooks/123456/AbCdEf-token"
    assert redact_text(discord) == f"https://discord.com/api/webhooks/{REDACTED}"


# --------------------------------------------------------------------------------------------------------------
# redact_text: what is kept
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'FATAL:  password authentication failed for user "orders"',
        "java.lang.IllegalStateException: token bucket exhausted for tenant 42",
        'Error from server (Forbidden): secrets "app-credentials" is forbidden: User '
        '"system:serviceaccount:shop:orders" cannot get resource "secrets" in API group "" in the namespace "shop"',
        'Failed to watch *v1.Secret: secrets "app-credentials" is forbidden',
        'MountVolume.SetUp failed for volume "creds" : secret "app-credentials" not found',
        "Error: couldn't find key password in Secret shop/app-credentials",
        "Access denied for user 'root'@'10.0.0.5' (using password: YES)",
        "open /var/run/secrets/kubernetes.io/serviceaccount/token: no such file or directory",
        "auth: invalid signature for token issued by kube-apiserver",
        f'Pulling image "{IMAGE}"',
        "image: nginx:1.25@sha256:" + "ab" * 32,
        "docker-pullable://registry.local:5000/shop/orders@sha256:" + "cd" * 32,
        "Container orders failed liveness probe, will be restarted; exit code 137, reason OOMKilled",
        f"uid={POD_UID} pod={POD_NAME} ip={POD_IP} node=ip-10-0-1-23.eu-west-1.compute.internal",
        '2024-05-01T12:00:00.123Z level=info msg="request handled" status=200 duration_ms=12 cache_key=orders:42',
        "KEYCLOAK_URL=https://sso.example.com/auth max_tokens=4096 token_ttl=3600 secretName=app-credentials",
        "serviceAccountName: orders\nautomountServiceAccountToken: false\nimagePullSecrets:\n- name: regcred",
        "    secretKeyRef:\n      name: app-credentials\n      key: password",
        "    Type:        Secret (a volume populated by a Secret)\n    SecretName:  app-credentials",
        "Data\n====\npassword:  8 bytes\napi-token:  32 bytes",
        "      DB_PASSWORD:  <set to the key 'password' in secret 'app-credentials'>  Optional: false",
        "send email to ops@example.com; git@github.com:shop/orders.git",
        "12:00:01 connect 10.0.0.5:5432 [::1]:8080 http://db:5432/orders",
        "-----BEGIN CERTIFICATE-----",
        "disk-pressure sk-worker-7d9f8c6b5-abcde task-runner-0",
    ],
)
def test_ordinary_evidence_is_left_byte_for_byte_intact(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "amqp://guest:**@rabbitmq:5672/",
        "postgres://orders:[REDACTED]@db/orders",
        "password=${DB_PASSWORD} token=$(API_TOKEN) secret=$CLIENT_SECRET",
        'password: "{{ .Values.db.password }}"',
        "password=*** api_key=<redacted> token=xxxxx",
        "Authorization: Bearer [REDACTED]",
        "password=",
        '"password": ""',
    ],
)
def test_already_masked_values_and_references_stay_readable(text: str) -> None:
    assert redact_text(text) == text


def test_empty_text_is_returned_as_is() -> None:
    assert redact_text("") == ""


# --------------------------------------------------------------------------------------------------------------
# looks_secret_name
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "password", "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "PGPASSWORD", "passwd", "MYSQL_PWD", "secret",
        "CLIENT_SECRET", "clientSecret", "token", "API_TOKEN", "accessToken", "refresh_token", "identitytoken",
        "api_key", "apiKey", "APIKey", "X-Api-Key", "apikey", "access_key", "AWS_SECRET_ACCESS_KEY", "private_key",
        "privateKey", "private_key_id", "auth", "BASIC_AUTH", "X-Auth-Token", "Authorization", "credentials",
        "SENTRY_DSN", "DB_CONNECTION_STRING", "AccountKey", "SharedAccessKey", "sig", "SECRET_KEY_BASE",
        "ENCRYPTION_KEY", "passphrase", "secret_id", "tokenSecret", "serviceAccountToken",
    ],
)  # fmt: skip
def test_secret_names_are_recognised(name: str) -> None:
    assert looks_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "name", "KEYCLOAK_URL", "key", "cache_key", "secretName", "secretRef", "secretKeyRef", "SecretName",
        "imagePullSecrets", "tokens", "max_tokens", "token_ttl", "TOKEN_EXPIRY", "token_bucket_size",
        "PASSWORD_MIN_LENGTH", "password_file", "auth_url", "AUTH_MODE", "authType", "oauth_client_id",
        "AWS_ACCESS_KEY_ID", "existingSecret", "automountServiceAccountToken", "serviceAccountName",
        "SharedAccessKeyName", "monkey", "passthrough", "author", "signal", "expirationSeconds", "",
    ],
)  # fmt: skip
def test_names_that_only_point_at_secrets_are_not_secret(name: str) -> None:
    assert not looks_secret_name(name)


# --------------------------------------------------------------------------------------------------------------
# redact_object
# --------------------------------------------------------------------------------------------------------------


def test_redact_object_hides_secret_env_values_but_keeps_references_and_ordinary_values() -> None:
    container = _seeded_pod()["spec"]["containers"][0]
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
    secret = _seeded_snapshot()["objects"][1]
    redacted = redact_object(secret)
    assert redacted["data"] == {"password": REDACTED, "optional-empty": ""}
    assert redacted["stringData"] == {"api-token": REDACTED}
    assert redacted["metadata"] == {"name": "app-credentials", "namespace": "shop"}
    assert redacted["type"] == "Opaque"


def test_redact_object_replaces_the_last_applied_configuration_whole() -> None:
    annotations = redact_object(_seeded_pod())["metadata"]["annotations"]
    assert annotations[LAST_APPLIED_ANNOTATION] == REDACTED
    assert annotations["shop.example.com/alerts"] == f"https://hooks.slack.com/services/{REDACTED}"


def test_redact_object_walks_secret_named_references_instead_of_blanking_them() -> None:
    spec = redact_object(_seeded_pod())["spec"]
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
    snapshot = _seeded_snapshot()
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


@pytest.mark.parametrize(
    "text",
    [
        'User "system:serviceaccount:auth-gw:token-issuer" cannot list resource "secrets"',
        "system:serviceaccount:secrets:token-reader",
        "serviceaccounts:auth:default",
    ],
)
def test_service_account_names_in_namespaces_that_sound_secret_are_evidence_not_secrets(text: str) -> None:
    assert redact_text(text) == text
