"""Which names (env vars, keys, headers, flags) hold secret values, and which values are only placeholders."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

REDACTED: Final = "[REDACTED]"

# --------------------------------------------------------------------------------------------------------------
# Secret-looking names
# --------------------------------------------------------------------------------------------------------------

_NAME_SPLIT: Final = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# A name token equal to one of these makes the name secret.
_SECRET_WORDS: Final = frozenset(
    {
        "password", "passwd", "passwort", "pwd", "pass", "passphrase", "passcode", "secret", "token",
        "apikey", "accesskey", "secretkey", "privatekey", "accountkey", "masterkey", "signingkey", "encryptionkey",
        "credential", "credentials", "creds", "auth", "authorization", "dsn", "sig", "signature", "cookie",
        "requirepass", "masterauth", "connectionstring", "connstr", "jwt",
    }
)  # fmt: skip
# A name token ending with one of these makes the name secret (``PGPASSWORD``, ``identitytoken``, ``clientsecret``).
_SECRET_SUFFIXES: Final = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "secretkey", "privatekey",
    "credential", "credentials",
)  # fmt: skip
# ``<qualifier> key`` is secret (``api_key``, ``X-Api-Key``, ``AccountKey``); a bare ``key`` is not (cache keys).
_KEY_QUALIFIERS: Final = frozenset(
    {
        "api", "access", "secret", "private", "account", "master", "signing", "sign", "encryption", "encrypt",
        "decryption", "client", "shared", "storage", "license", "licence", "subscription", "app", "consumer", "auth",
        "session", "ssh", "deploy", "hmac", "jwt", "gpg", "pgp", "webhook", "root", "admin",
    }
)  # fmt: skip
# A last token naming metadata about a secret, not the secret itself (``secretName``, ``secretKeyRef``,
# ``token_ttl``, ``PASSWORD_MIN_LENGTH``, ``auth_url``, ``--password-stdin``, ``AWS_ACCESS_KEY_ID``).
_REFERENCE_WORDS: Final = frozenset(
    {
        "name", "names", "ref", "refs", "reference", "path", "paths", "file", "files", "filename", "dir",
        "directory", "type", "kind", "namespace", "mount", "volume", "ttl", "timeout", "expiry", "expires",
        "expiration", "seconds", "second", "minutes", "hours", "duration", "age", "interval", "length", "len",
        "size", "count", "limit", "max", "min", "rate", "bucket", "capacity", "budget", "usage", "url", "uri",
        "urls", "endpoint", "host", "hostname", "port", "server", "provider", "policy", "mode", "format", "version",
        "enabled", "disabled", "required", "optional", "field", "fields", "header", "source", "selector", "audience",
        "issuer", "algorithm", "alg", "method", "scheme", "strategy", "rotation", "env", "stdin", "id", "ids",
        "warning", "error", "errors", "status", "template", "prefix", "suffix", "label", "labels", "annotation",
        "location", "backend", "store", "checksum", "fingerprint", "digest", "lifetime", "validity",
    }
)  # fmt: skip
# A first token saying the name is a switch or a pointer (``existingSecret``, ``--no-auth-warning``,
# ``automountServiceAccountToken``).
_NEGATING_FIRST: Final = frozenset({"no", "existing", "use", "enable", "disable", "skip", "allow", "automount"})


@lru_cache(maxsize=8192)
def looks_secret_name(name: str) -> bool:
    """True when ``name`` (an env var, a dict key, a header, a flag) names a secret *value*.

    Split into words on separators and camelCase: a word such as ``password``/``token``/``secret``/``auth``,
    or ``<api|access|private|...> key``, makes it secret, unless the last word says the thing is metadata
    about a secret (``secretName``, ``secretKeyRef``, ``token_ttl``, ``password_file``) or the first word makes
    it a switch or pointer (``existingSecret``). ``KEYCLOAK_URL`` and ``cache_key`` are not secret.
    """
    tokens = [t.lower() for t in _NAME_SPLIT.split(name) if t]
    if not tokens or tokens[0] in _NEGATING_FIRST:
        return False
    last = tokens[-1]
    if last in _REFERENCE_WORDS:
        # ``secret_id`` (Vault AppRole) and ``private_key_id`` are secrets despite ending in ``id``.
        if not (last == "id" and len(tokens) > 1 and (tokens[-2] == "secret" or "private" in tokens)):
            return False
    for i, token in enumerate(tokens):
        if token in _SECRET_WORDS or token.endswith(_SECRET_SUFFIXES):
            return True
        previous = tokens[i - 1] if i else ""
        if token in ("key", "keys") and previous in _KEY_QUALIFIERS:
            return True
        if token in ("string", "str") and previous in ("connection", "conn"):
            return True
    return False


# --------------------------------------------------------------------------------------------------------------
# Values that are evidence, not secrets
# --------------------------------------------------------------------------------------------------------------

# Already masked, or a reference resolved elsewhere: keeping them says "the value comes from X".
_PLACEHOLDER: Final = re.compile(
    r"\*+|•+|x{3,}|X{3,}|-+|\.+|\?+|\[REDACTED\]|REDACTED|<[^>]*>|\$\{[^}]*\}|\$\([^)]*\)|\$[A-Z_][A-Z0-9_]*"
    r"|\{\{.*\}\}|%\([^)]*\)s"
)
# Unquoted words after a secret key that describe state rather than hold a value
# (``using password: YES``, ``token: expired``, ``auth=none``).
STOP_WORDS: Final = frozenset(
    {
        "expired", "invalid", "missing", "required", "empty", "null", "nil", "none", "undefined", "true", "false",
        "yes", "no", "on", "off", "enabled", "disabled", "failed", "failure", "error", "denied", "rejected",
        "unauthorized", "forbidden", "mismatch", "incorrect", "wrong", "not", "is", "was", "has", "provided",
        "present", "absent", "unknown", "redacted", "masked", "hidden", "ok", "set", "unset", "bearer", "basic",
        "digest", "token", "ntlm", "negotiate",
    }
)  # fmt: skip


def is_placeholder(value: str) -> bool:
    return not value or _PLACEHOLDER.fullmatch(value) is not None
