"""Redaction: no secret leaves through any door, and the evidence around it survives.

All secret values are fake. Vendor tokens are assembled from two string pieces so secret scanners (GitHub push
protection and the like) do not mistake this file for a leak.
"""

from __future__ import annotations

import pytest

from knowledge.redaction import REDACTED, looks_secret_name, redact_text
from tests.unit.knowledge.redaction_fixtures import (
    ANTHROPIC_KEY,
    AWS_ACCESS_KEY_ID,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    GOOGLE_API_KEY,
    IMAGE,
    NPM_TOKEN,
    OPENAI_KEY,
    POD_IP,
    POD_NAME,
    POD_UID,
    PYPI_TOKEN,
    SA_TOKEN_JWT,
    SENDGRID_KEY,
    SLACK_BOT_TOKEN,
    SLACK_WEBHOOK_PATH,
    SSH_KEY_BODY,
    STRIPE_KEY,
    TWILIO_KEY,
    VAULT_TOKEN,
)

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
