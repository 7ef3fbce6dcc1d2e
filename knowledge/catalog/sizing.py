"""Turning observations into resource values a human would write: rounded up, with headroom, never below now.

Memory and storage round up to coarser steps as they grow (64Mi under 1Gi, 128Mi to 4Gi...), CPU to 50m/100m/
250m/500m; the output is an exact Kubernetes quantity (``1408Mi``, ``2Gi``, ``1500m``) for commands, while
``aetherius.quantities.format_bytes`` stays the human rendering for titles.
"""

from __future__ import annotations

import math

MI = 2**20
GI = 2**30
HEADROOM = 0.3
"""Above an observed peak: GC cycles, traffic bursts and the sampling interval of the metrics all hide spikes."""


def round_up_bytes(value: float, *, fine: bool = False) -> int:
    """Up to a step a human would pick; ``fine`` (16Mi steps) when lowering, where a coarse step undoes the cut."""
    if fine:
        step = 16 * MI
    elif value <= GI:
        step = 64 * MI
    elif value <= 4 * GI:
        step = 128 * MI
    elif value <= 16 * GI:
        step = 256 * MI
    else:
        step = GI
    return max(step, math.ceil(value / step) * step)


def round_up_storage(value: float) -> int:
    step = GI if value <= 10 * GI else 5 * GI if value <= 100 * GI else 50 * GI
    return max(GI, math.ceil(value / step) * step)


def bytes_quantity(value: float) -> str:
    """Exact quantity: ``1408Mi``, ``2Gi``; bytes that are not a whole KiB stay plain bytes."""
    value = int(value)
    if value % GI == 0:
        return f"{value // GI}Gi"
    if value % MI == 0:
        return f"{value // MI}Mi"
    return f"{value // 2**10}Ki" if value % 2**10 == 0 else str(value)


def round_up_millicores(cores: float) -> int:
    millis = cores * 1000
    step = 50 if millis < 500 else 100 if millis < 2000 else 250 if millis < 8000 else 500
    return max(step, math.ceil(millis / step - 1e-9) * step)


def cores_quantity(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def with_headroom(value: float, headroom: float = HEADROOM) -> float:
    return value * (1 + headroom)
