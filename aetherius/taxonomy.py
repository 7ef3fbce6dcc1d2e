"""The failure taxonomy: the twelve ids every diagnosis, case and label uses."""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal[
    "oom_killed",
    "crash_loop",
    "image_pull",
    "cpu_throttling",
    "network",
    "disk_pressure",
    "config_error",
    "rbac_denied",
    "scheduling",
    "probe_failure",
    "volume_mount",
    "unknown",
]

CATEGORIES: tuple[Category, ...] = get_args(Category)
KNOWN_CATEGORIES: tuple[Category, ...] = tuple(c for c in CATEGORIES if c != "unknown")

TITLES: dict[Category, str] = {
    "oom_killed": "Out of memory",
    "crash_loop": "Application crash",
    "image_pull": "Image cannot be pulled",
    "cpu_throttling": "CPU throttling",
    "network": "Network / DNS failure",
    "disk_pressure": "Disk pressure",
    "config_error": "Configuration error",
    "rbac_denied": "RBAC denied",
    "scheduling": "Cannot be scheduled",
    "probe_failure": "Failing probe",
    "volume_mount": "Volume cannot be mounted",
    "unknown": "No convincing cause",
}


def is_category(value: str) -> bool:
    return value in CATEGORIES
