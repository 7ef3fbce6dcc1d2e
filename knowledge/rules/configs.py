"""Configuration the container needs but cannot get: missing ConfigMaps/Secrets/keys, bad container specs."""

from __future__ import annotations

import re

from aetherius.diagnoses import Finding
from aetherius.signals import Signals
from knowledge.rules import patterns as p
from knowledge.rules.base import finding, quote, subject_events

_MISSING = re.compile(
    r"(?P<kind>configmap|secret)s?\s+\\?\"(?P<name>[\w.-]+)\\?\"\s+not found"
    r"|couldn't find key (?P<key>[\w.-]+) in (?P<kind2>ConfigMap|Secret) (?:[\w.-]+/)?(?P<name2>[\w.-]+)",
    re.IGNORECASE,
)
_NOT_EXECUTABLE = re.compile(
    r"executable file not found|exec format error|no such file or directory.{0,40}exec|"
    r"not found in \$PATH|exec: \\?\"[^\"]+\\?\": (?:stat|permission)",
    re.IGNORECASE,
)


def missing_reference(text: str) -> dict[str, str] | None:
    match = _MISSING.search(text)
    if not match:
        return None
    kind = (match.group("kind") or match.group("kind2") or "").lower()
    return {
        "missing_kind": "Secret" if kind == "secret" else "ConfigMap",
        "missing_name": match.group("name") or match.group("name2") or "",
        **({"missing_key": match.group("key")} if match.group("key") else {}),
    }


def container_config_unavailable(sig: Signals) -> list[Finding]:
    out: list[Finding] = []
    for c in sig.containers:
        if c.state != "waiting" or c.reason not in (
            "CreateContainerConfigError",
            "CreateContainerError",
            "RunContainerError",
            "ContainerCannotRun",
        ):
            continue
        events = [
            e
            for e in subject_events(sig, "Failed", "FailedCreatePodContainer")
            if c.name in e.message or not any(o.name in e.message for o in sig.containers if o.name != c.name)
        ]
        text = " ".join([c.message, *(e.message for e in events)])
        evidence = [f"container {c.name}: waiting {c.reason}: {quote(c.message)}"]
        missing: dict[str, object] | None = dict(found) if (found := missing_reference(text)) else None
        if missing and f"{missing['missing_kind']}/{missing['missing_name']}" in sig.present_objects:
            missing["reference_exists"] = True  # the object is there: only the key is missing (a rename, a typo)
        if p.VOLUME_BROKEN.search(text):
            # the runtime cannot use a mounted volume (an NFS export recreated under a live mount): not the config
            tail = f"container {c.name}: ...{quote(c.message[-200:] or text[-200:], 220)}"
            out.append(finding("mounted_volume_broken", "volume_mount", 0.9, [*evidence, tail], container=c.name))
        elif missing:
            out.append(
                finding("container_config_unavailable", "config_error", 0.95, evidence, container=c.name, **missing)
            )
        elif _NOT_EXECUTABLE.search(text):
            out.append(finding("entrypoint_not_runnable", "crash_loop", 0.75, evidence, container=c.name))
            out.append(finding("entrypoint_not_runnable", "config_error", 0.45, evidence, container=c.name))
        else:
            weight = 0.9 if c.reason == "CreateContainerConfigError" else 0.7
            out.append(finding("container_config_unavailable", "config_error", weight, evidence, container=c.name))
    return out
