"""Mask the volatile parts of incident text so the same problem embeds alike wherever and whenever it happens.

Two pods of one Deployment failing for one reason differ only in timestamps, pod-name suffixes, IPs, container IDs
and counters. Left in, those tokens pull embeddings apart (MiniLM sees ``7d9f8c6b5`` as meaningful sub-words) and
past cases stop matching; masked, the text says only what went wrong.

Order matters: whole structured tokens first (UUIDs, timestamps, IPs, pod names), then hex runs, then bare numbers,
so a UUID never becomes ``<hex>-<n>-...`` and a pod-template hash is never mistaken for a hash. Every pattern is
precompiled and anchored on token starts, so masking stays linear in the length of the text.

Digits glued to the end of letters are part of a word and stay (``http2``, ``ipv4``, ``s3``, ``k8s``, ``utf8``,
``apps/v1``). StatefulSet pods keep their name and only lose the ordinal like any number (``kafka-0`` becomes
``kafka-<n>``): their identity is the workload, not the replica.
"""

from __future__ import annotations

import re

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_ZONE = r"(?:UTC|GMT|[A-Z]{1,3}[SD]T)"

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")

_TIMESTAMPS: tuple[re.Pattern[str], ...] = (
    # ISO 8601 / RFC 3339, with fraction and zone: 2024-05-02T10:14:12.123456Z, 2024-05-02 10:14:12 +0000
    re.compile(
        r"\b\d{4}-\d{2}-\d{2}"
        r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?: ?(?:[Zz](?![A-Za-z])|[+-]\d{2}:?\d{2}(?!\d)))?)?"
        r"(?!\d)"
    ),
    # klog header: E0502 10:14:12.345678
    re.compile(r"\b[IWEF]\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?(?!\d)"),
    # syslog and date(1): May 02 10:14:12, Thu May  2 10:14:12 UTC 2024
    re.compile(
        rf"\b(?:{_WEEKDAY},? )?{_MONTH} +\d{{1,2}}(?:,? \d{{4}})? \d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?"
        rf"(?: {_ZONE})?(?: \d{{4}}(?!\d))?"
    ),
    # RFC 1123 (HTTP Date): Thu, 02 May 2024 10:14:12 GMT
    re.compile(
        rf"\b(?:{_WEEKDAY}, )?\d{{1,2}}[ -]{_MONTH}[ -]\d{{2,4}} \d{{2}}:\d{{2}}:\d{{2}}(?: (?:{_ZONE}|[+-]\d{{4}}))?"
    ),
    # Common Log Format: 02/May/2024:10:10:26 +0000 (the brackets stay)
    re.compile(rf"\b\d{{2}}/{_MONTH}/\d{{4}}:\d{{2}}:\d{{2}}:\d{{2}}(?: [+-]\d{{4}})?"),
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = r"[0-9a-fA-F]{1,4}"
_IPV6 = (
    rf"(?:(?:{_H}:){{7}}{_H}"  # full form
    rf"|(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?"  # compressed, something before ::
    rf"|::{_H}(?::{_H}){{0,6}})"  # compressed, nothing before ::
)
_IPS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\[{_IPV6}\](?::\d{{1,5}})?"),  # [fe80::1]:8080
    re.compile(rf"(?<![\w:])::ffff:{_IPV4}(?![\w.])", re.IGNORECASE),  # IPv4-mapped
    re.compile(rf"(?<![\w.]){_IPV4}(?::\d{{1,5}})?(?!\w|\.\d)"),
)
_IPV6_BARE = re.compile(rf"(?<![\w:.]){_IPV6}(?![\w:])")
"""Bare IPv6 needs a digit check too, or ``Foo::Bar`` in a stack trace would become an address."""

_TIME_OF_DAY = re.compile(r"(?<![\w:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\w:])")
_EPOCH = re.compile(r"(?<![\w.])1[5-9]\d{8}(?:\d{9}|\d{6}|\d{3})?(?:\.\d+)?(?!\w)")
"""Unix time in s, ms, µs or ns between 2017 and 2033: old enough for any log we will see, and narrow enough
that byte counts like 1073741824 stay numbers."""

_POD_TOKEN = re.compile(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
"""Kubernetes' ``rand.SafeEncodeString`` alphabet (no vowels, no 0/1/3): pod-template hashes and pod suffixes."""
_POD_SUFFIX = re.compile(rf"[{_SAFE}]{{5}}")
_POD_HASH = re.compile(rf"[{_SAFE}]{{6,10}}|\d{{6,10}}")
"""ReplicaSet pod-template hash, or the scheduled-minute number of a CronJob's Job."""

_PREFIXED_HEX = re.compile(r"\b((?:sha1|sha256|sha512|md5):|(?:docker|containerd|cri-o)://)[0-9a-fA-F]{8,}\b")
"""Digests and container IDs are hex whatever their letters, even without the digit bare hex needs."""
_HEX_LITERAL = re.compile(r"\b0[xX][0-9a-fA-F]+\b")
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")
"""At least one digit and one letter: ``12345678`` is a number and ``deadbeef``-like words stay words."""

_DURATION = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)){2,}(?!\w)")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_COUNT = re.compile(r"(?<![\w.])x(?!509\b)\d+(?!\w)")
"""Event repeat counts as the signature writes them (``x12``)."""
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*")
_MEANINGFUL = re.compile(
    r"(?i)(?<![\w])(?:exit(?:=| code:? | status:? |code: ?)|signal:? |status(?:=| code:? )|HTTP/(?:\d(?:\.\d)?|<n>) )"
    r"(\d{1,3})(?!\d)"
)
"""Numbers that *are* the evidence: exit codes (1 vs 127 vs 137), signals, HTTP statuses (401 vs 503)."""
_SHELTER = str.maketrans("0123456789", "\ue000\ue001\ue002\ue003\ue004\ue005\ue006\ue007\ue008\ue009")
_UNSHELTER = str.maketrans("\ue000\ue001\ue002\ue003\ue004\ue005\ue006\ue007\ue008\ue009", "0123456789")


def _shelter(match: re.Match[str]) -> str:
    """Hide a meaningful number's digits from the number masks (private-use characters are not ``\\d``)."""
    start = match.start(1) - match.start()
    return match.group(0)[:start] + match.group(1).translate(_SHELTER)


def _pod(match: re.Match[str]) -> str:
    token = match.group(0)
    parts = token.split("-")
    if len(parts) >= 3 and _POD_SUFFIX.fullmatch(parts[-1]) and _POD_HASH.fullmatch(parts[-2]):
        return "<pod>"  # Deployment / ReplicaSet / CronJob pod
    if _POD_SUFFIX.fullmatch(parts[-1]) and any(ch.isdigit() for ch in parts[-1]):
        return "<pod>"  # DaemonSet / Job pod; a digit tells a random suffix from a word like "https"
    return token


def _ipv6(match: re.Match[str]) -> str:
    token = match.group(0)
    return "<ip>" if any(ch.isdigit() for ch in token) else token


def _duration(match: re.Match[str]) -> str:
    return _DIGITS.sub("<n>", match.group(0))


def mask_volatile(text: str) -> str:
    """``text`` with timestamps, UUIDs, IPs, generated pod names, hashes and numbers replaced by placeholders;
    exit codes, signals and HTTP statuses stay, since they are what tells one failure from another.

    Idempotent: placeholders contain no digits, so masking masked text changes nothing.
    """
    text = _MEANINGFUL.sub(_shelter, text)
    text = _UUID.sub("<uuid>", text)
    for pattern in _TIMESTAMPS:
        text = pattern.sub("<ts>", text)
    for pattern in _IPS:
        text = pattern.sub("<ip>", text)
    text = _IPV6_BARE.sub(_ipv6, text)
    text = _TIME_OF_DAY.sub("<ts>", text)
    text = _EPOCH.sub("<ts>", text)
    text = _POD_TOKEN.sub(_pod, text)
    text = _PREFIXED_HEX.sub(r"\1<hex>", text)
    text = _HEX_LITERAL.sub("<hex>", text)
    text = _HEX.sub("<hex>", text)
    text = _DURATION.sub(_duration, text)
    text = _COUNT.sub("x<n>", text)
    return _NUMBER.sub("<n>", text).translate(_UNSHELTER)
