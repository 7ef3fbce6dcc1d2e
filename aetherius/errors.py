"""One error tree for the whole product, so every caller knows what to do next.

::

    AetheriusError                 base; never raised directly
    ├── TemporaryError             retry with back-off (network blips, 5xx, 429, a busy store)
    │   ├── StoreUnavailable       the case store / database / broker cannot be reached right now
    │   ├── ApiUnavailable         the Kubernetes API timed out, dropped us, or answered 429/5xx
    │   └── ResourceExpired        410 Gone: list again, then watch from the new resourceVersion
    └── PermanentError             tell the user, do not retry
        ├── SnapshotError          the evidence cannot be used
        │   ├── SnapshotTooLarge   a file or a field is beyond the configured limits
        │   ├── MalformedSnapshot  not JSON/YAML, truncated, binary, wrong shape
        │   └── UnsupportedKind    a Deployment, a Node... where a Pod is needed
        ├── CaseError              a case file is invalid
        ├── ConfigurationError     settings that cannot work (bad path, bad URL)
        ├── AccessDenied           the Kubernetes API refused us (401/403)
        ├── NotFound               the Kubernetes object is gone (404), e.g. a pod deleted before capture
        ├── ApiRejected            the Kubernetes API rejected the request (400/409/422)
        ├── IllegalTransition      a state machine (incident, approval, action) refuses the move
        └── UnknownRecord          no incident / approval / action with that id in the state store

Messages are written for the on-call engineer who will read them: one line, what is wrong and, where it helps,
what to do. Nothing in a message may contain a secret (callers pass redacted text).
"""

from __future__ import annotations


class AetheriusError(Exception):
    """Base of every error Aetherius raises on purpose."""


class TemporaryError(AetheriusError):
    """Worth retrying later with back-off."""


class StoreUnavailable(TemporaryError):
    """A store (case store, SQL database, broker) cannot be reached right now."""


class PermanentError(AetheriusError):
    """Retrying will not help; report it to the user."""


class SnapshotError(PermanentError):
    """A snapshot cannot be used as evidence."""


class SnapshotTooLarge(SnapshotError):
    """The input is beyond the configured size limits."""


class MalformedSnapshot(SnapshotError):
    """The input is not a parseable snapshot."""


class UnsupportedKind(SnapshotError):
    """The input holds an object of a kind that cannot be diagnosed."""


class CaseError(PermanentError):
    """A case file or case record is invalid."""


class ConfigurationError(PermanentError):
    """Settings that cannot work."""


# --- Kubernetes API errors (collectors/kube maps ApiException and transport failures onto these) ---


class AccessDenied(PermanentError):
    """The Kubernetes API refused the request (401/403): RBAC lacks a verb on a resource, or bad credentials."""


class NotFound(PermanentError):
    """The Kubernetes object does not exist (404), e.g. a pod deleted before it could be captured."""


class ApiRejected(PermanentError):
    """The Kubernetes API rejected the request as invalid (400/409/422); retrying the same request will not help."""


class ResourceExpired(TemporaryError):
    """410 Gone: the resourceVersion is older than the API server keeps; list again, then watch from the new one."""


class ApiUnavailable(TemporaryError):
    """The Kubernetes API did not answer in time, dropped the connection, or answered 429/5xx."""


# --- State store errors (aetherius.incidents and aetherius.store raise these) ---


class IllegalTransition(PermanentError):
    """The move is not in the state machine (``closed`` is terminal, ``open`` cannot jump to ``remediating``...)."""


class UnknownRecord(PermanentError):
    """The state store holds no incident, approval or action with that id (a stale task, a mistyped id)."""
