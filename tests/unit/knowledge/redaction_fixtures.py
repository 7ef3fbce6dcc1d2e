"""Seeded secrets and the evidence around them, shared by the redaction tests. All values are fake; vendor tokens
are assembled from two pieces so secret scanners do not mistake this file for a leak."""

from __future__ import annotations

import json
from typing import Any

from knowledge.redaction import LAST_APPLIED_ANNOTATION

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


def seeded_pod() -> dict[str, Any]:
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


def seeded_snapshot() -> dict[str, Any]:
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
        "objects": [seeded_pod(), secret, *events],
        "logs": [{"namespace": "shop", "pod": POD_NAME, "container": "orders", "text": SEEDED_LOG}],
    }
