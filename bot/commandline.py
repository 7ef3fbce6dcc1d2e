"""``/aeth`` text → a `Command` (pure). Anything unknown or malformed is a `UsageError` with the short usage."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from aetherius.errors import PermanentError

USAGE = """*Usage:* `/aeth <command>`
• `diagnose pod/NAME -n NS [--cluster C]` diagnose a pod now, answered in a thread
• `incidents` open incidents, newest first
• `similar <text|incident-id>` past cases that look like it
• `status` clusters, heartbeats, queue depth  · `stats` feedback and accuracy so far
• `logs pod/NAME -n NS [--previous] [--tail N]` · `describe pod/NAME -n NS` · `top pods -n NS` (read-only)
• `help` this message"""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
MAX_TAIL = 2000
SIMPLE = {"help", "incidents", "status", "stats"}
READ_ONLY = {"logs", "describe", "top"}


class UsageError(PermanentError):
    """The command text cannot be understood; the message says what is wrong, followed by the usage."""


@dataclass(frozen=True)
class Command:
    verb: str
    pod: str = ""
    namespace: str = ""
    cluster: str = ""
    query: str = ""
    previous: bool = False
    tail: int = 200


def _name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise UsageError(f"`{value[:60]}` is not a valid {what} name")
    return value


def parse(text: str) -> Command:
    try:
        words = shlex.split(text.strip())
    except ValueError as err:
        raise UsageError(f"cannot read the command: {err}") from None
    if not words:
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    if verb in SIMPLE:
        if rest:
            raise UsageError(f"`{verb}` takes no arguments")
        return Command(verb)
    if verb == "similar":
        if not rest:
            raise UsageError("`similar` needs some text or an incident id")
        return Command(verb, query=" ".join(rest)[:2000])
    if verb in {"diagnose", "logs", "describe", "top"}:
        return _targeted(verb, rest)
    raise UsageError(f"unknown command `{verb[:40]}`")


def _targeted(verb: str, words: list[str]) -> Command:
    target, namespace, cluster, previous, tail = "", "", "", False, 200
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-n", "--namespace", "--cluster", "--tail"):
            if i + 1 >= len(words):
                raise UsageError(f"`{word}` needs a value")
            value = words[i + 1]
            if word == "--cluster":
                cluster = _name(value, "cluster")
            elif word == "--tail":
                if not value.isdigit() or not 1 <= int(value) <= MAX_TAIL:
                    raise UsageError(f"`--tail` takes a number from 1 to {MAX_TAIL}")
                tail = int(value)
            else:
                namespace = _name(value, "namespace")
            i += 2
        elif word == "--previous" and verb == "logs":
            previous, i = True, i + 1
        elif word.startswith("-"):
            raise UsageError(f"unknown option `{word[:40]}` for `{verb}`")
        elif target:
            raise UsageError(f"unexpected `{word[:40]}`")
        else:
            target, i = word, i + 1
    if not namespace:
        raise UsageError(f"`{verb}` needs `-n NAMESPACE`")
    if verb == "top":
        if target not in ("pods", "pod"):
            raise UsageError("try `top pods -n NAMESPACE`")
        return Command(verb, namespace=namespace, cluster=cluster)
    kind, _, name = target.partition("/")
    if kind not in ("pod", "pods", "po") or not name:
        raise UsageError(f"`{verb}` needs `pod/NAME`")
    return Command(verb, pod=_name(name, "pod"), namespace=namespace, cluster=cluster, previous=previous, tail=tail)
