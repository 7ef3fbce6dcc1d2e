"""Secret redaction: the one filter every output path goes through (CLI, Slack, LLM prompts, case store, our logs).

Why one module: evidence leaves the cluster through many doors, and a secret that is masked on four of them and
not on the fifth has leaked. Every door calls :func:`redact_text` (free text: logs, event messages, errors) or
:func:`redact_object` (Kubernetes objects and other JSON-like data), so a new secret format is taught once, here.

What it hides, replacing only the secret part with ``[REDACTED]`` so the evidence keeps its meaning
(``postgres://orders:[REDACTED]@db:5432/orders``, ``Authorization: Bearer [REDACTED]``):

* values after secret-looking keys in ``key=value``, ``key: value``, ``"key": "value"``, ``key => value``,
  ``<key>value</key>``, ``--key value`` forms, any case and ``-``/``_``/``.``/camelCase variants
  (``DB_PASSWORD=``, ``X-Api-Key:``, ``aws_secret_access_key =``, ``AccountKey=``, ``sig=``, ``"auth":``),
  including JSON embedded in JSON (``\\"password\\":\\"...\\"``) and YAML ``name: X_TOKEN`` / ``value: ...`` pairs;
* ``Authorization``/``Proxy-Authorization`` (Bearer, Basic, Token, Digest, AWS4...) and ``Cookie`` headers,
  and stray ``Bearer <token>``;
* credentials inside URLs and connection strings of any scheme (``user:pass@host`` with or without a scheme,
  ``jdbc:...;password=...``, ``jdbc:oracle:thin:scott/tiger@``), ``curl -u user:pass``, ``mysql -pSECRET``,
  ``redis-cli -a SECRET``;
* credentials recognisable by their shape: PEM/OpenSSH/PGP private key blocks (also base64-wrapped), JWTs (so
  Kubernetes service-account tokens), AWS key ids, Google API keys, Slack/GitHub/GitLab/Stripe/OpenAI/Anthropic/
  SendGrid/Twilio/npm/PyPI/Hugging Face/Vault/DigitalOcean/Docker Hub/Grafana... tokens, Slack/Discord/Teams
  webhook URLs, base64 docker configs.

Vendor tokens keep their public prefix (``ghp_[REDACTED]``, ``xoxb-[REDACTED]``): which kind of credential was
there is evidence, the rest is not.

What it deliberately keeps, because it is evidence and not a secret: names of Secrets and keys
(``secrets "app-credentials" is forbidden``, ``secretName``, ``secretKeyRef``), sentences that merely mention a
secret word (``password authentication failed for user "orders"``, ``token bucket``, ``using password: YES``),
values that are already masked or are references (``amqp://guest:**@host``, ``${DB_PASSWORD}``,
``<set to the key 'password' in secret 'x'>``), image digests (``app@sha256:...``), IPs, hostnames, UIDs, exit
codes, certificates and public SSH keys.

Speed: logs of several MB pass through here (about 0.5 s for 5 MB of ordinary logs on one core). All rules are
compiled once into a single alternation whose every branch starts with a literal character, so the engine skips
most positions in C, and the text is scanned once, left to right. Handlers never recurse: a value that is kept is
rescanned by the same pass, and bare values are measured by the handler, not by the pattern, so nested input
such as ``key=key=key=...`` stays linear. Every other repetition is bounded, possessive or atomic.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from knowledge.redaction.names import REDACTED, is_placeholder, looks_secret_name
from knowledge.redaction.patterns import COMBINED, dispatch

__all__ = ["LAST_APPLIED_ANNOTATION", "REDACTED", "looks_secret_name", "redact_object", "redact_text"]

LAST_APPLIED_ANNOTATION: Final = "kubectl.kubernetes.io/last-applied-configuration"

# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


def redact_text(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``; everything else byte-for-byte intact.

    Idempotent: redacting redacted text changes nothing.
    """
    search = COMBINED.search
    m = search(text)
    if m is None:
        return text
    parts: list[str] = []
    copied = 0  # text[:copied] is in parts
    while m is not None:
        outcome = dispatch(m)
        if isinstance(outcome, int):
            m = search(text, max(outcome, m.start() + 1))  # always moves forward
            continue
        replacement, end = (outcome, m.end()) if isinstance(outcome, str) else outcome
        parts.append(text[copied : m.start()])
        parts.append(replacement)
        copied = max(end, m.start() + 1)
        m = search(text, copied)
    parts.append(text[copied:])
    return "".join(parts)


def redact_object(obj: Any) -> Any:
    """A redacted deep copy of a JSON-like structure (Kubernetes objects, snapshots, API payloads).

    Besides running every string through :func:`redact_text`:

    * a ``Secret``'s ``data`` and ``stringData`` values are hidden (keys stay: which keys exist is evidence;
      empty values stay: "the password is empty" is evidence);
    * the ``kubectl.kubernetes.io/last-applied-configuration`` annotation is hidden whole (it repeats the spec,
      Secret data included);
    * ``{"name": ..., "value": ...}`` entries (container ``env``, probe ``httpHeaders``) whose name looks secret
      have their value hidden;
    * a string under a secret-looking key (``password``, ``apiKey``, ``token``, ``auth``...) is hidden; a dict
      under such a key (``secretKeyRef``, the ``serviceAccountToken`` projection) is walked, not blanked, and a
      ``name`` is never treated as a secret.

    The input is not modified.
    """
    return _redact_node(obj, secret=False)


def _redact_node(node: Any, *, secret: bool) -> Any:
    if isinstance(node, str):
        if secret and not is_placeholder(node):
            return REDACTED
        return redact_text(node)
    if isinstance(node, dict):
        return _redact_dict(node)
    if isinstance(node, list | tuple):
        items = _redact_list(node, secret=secret)
        return items if isinstance(node, list) else tuple(items)
    if node is None or isinstance(node, bool | int | float):
        return node
    return copy.deepcopy(node)


def _redact_list(items: list[Any] | tuple[Any, ...], *, secret: bool) -> list[Any]:
    """Redact each item; a flag and its value split over two items (container ``args``) are read together."""
    out: list[Any] = []
    previous: Any = None
    for item in items:
        redacted = _redact_node(item, secret=secret and isinstance(item, str))
        if isinstance(previous, str) and isinstance(item, str) and previous.startswith("-") and " " not in previous:
            joined = f"{previous} {item}"
            cleaned = redact_text(joined)  # ["--db-password", "x"], ["-u", "user:pass"]
            if cleaned != joined and cleaned.startswith(previous + " "):
                redacted = cleaned[len(previous) + 1 :]
        out.append(redacted)
        previous = item
    return out


def _redact_dict(node: dict[Any, Any]) -> dict[Any, Any]:
    is_secret_object = node.get("kind") == "Secret"
    env_name = node.get("name")
    secret_env = isinstance(env_name, str) and "value" in node and looks_secret_name(env_name)
    out: dict[Any, Any] = {}
    for key, value in node.items():
        if key == LAST_APPLIED_ANNOTATION and isinstance(value, str):
            out[key] = REDACTED
        elif is_secret_object and key in ("data", "stringData") and isinstance(value, dict):
            out[key] = {k: REDACTED if v else v for k, v in value.items()}
        elif key == "value" and secret_env:
            out[key] = _redact_node(value, secret=True)
        elif isinstance(key, str) and key != "name" and looks_secret_name(key):
            out[key] = _redact_node(value, secret=True)
        else:
            out[key] = _redact_node(value, secret=False)
    return out
