"""Handling hostile or huge input, against floors measured in the same run.

redaction   = ``redact_text`` over 5 MB of ordinary log lines (nothing to hide: the common case)
  floor     = one pass of a trivial regex (``\\d``) over the same text: reading it once
scaling     = redaction time on 4x the text / on 1x the text (linear time gives ~4; backtracking gives far more)
pathology   = the worst of the adversarial 1 MB lines the unit tests feed it, per MB, against the ordinary MB
trimming    = loading a snapshot with a 50 MB log (tail + error lines kept), against reading its bytes

Usage: python benchmarks/inputs.py [--json]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from report import report

from knowledge.loading import to_snapshot
from knowledge.redaction import redact_text

ORDINARY = (
    "2025-03-02T10:05:{s:02d}Z INFO GET /api/v1/orders/{n} 200 12ms user=alice@example.com trace=4bf92f3577b34da6\n"
    "2025-03-02T10:05:{s:02d}Z WARN retrying payment provider call attempt={n} backoff=250ms\n"
    "2025-03-02T10:05:{s:02d}Z ERROR dial tcp 10.0.{n}.4:5432: connect: connection refused\n"
)
PATHOLOGICAL = ["a=a=", "key=", "token=a://", ":::@@@", "password=", '"password":"', "eyJabc.", "Bearer 1", "\\"]


def ordinary(size: int) -> str:
    out, i, total = [], 0, 0
    while total < size:
        chunk = ORDINARY.format(s=i % 60, n=(i * 7919) % 10000)
        out.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(out)[:size]


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    mb = 1024 * 1024
    text5, text1, text4 = ordinary(5 * mb), ordinary(mb), ordinary(4 * mb)
    digit = re.compile(r"\d")
    floor = best_of(3, lambda: digit.findall(text5))
    redaction = best_of(3, lambda: redact_text(text5))
    scaling = best_of(3, lambda: redact_text(text4)) / best_of(3, lambda: redact_text(text1))
    per_mb = best_of(3, lambda: redact_text(text1))
    worst_unit, worst = "", 0.0
    for unit in PATHOLOGICAL:
        line = unit * (mb // len(unit))
        took = best_of(1, lambda line=line: redact_text(line))  # type: ignore[misc]
        if took > worst:
            worst_unit, worst = unit, took

    log = ("2025-03-02T10:05:00Z INFO request served in 3ms\n" * (50 * mb // 47)) + "panic: nil pointer\n"
    doc = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "n"}, "spec": {}}
    snapshot = {"apiVersion": "aetherius/v1", "kind": "Snapshot", "metadata": {"name": "p"}, "objects": [doc],
                "logs": [{"container": "c", "previous": False, "text": log}]}  # fmt: skip
    read_floor = best_of(3, lambda: log.encode().count(b"\n"))
    trimming = best_of(1, lambda: to_snapshot(snapshot))

    result = {
        "redact_5mb_s": round(redaction, 3),
        "read_5mb_floor_s": round(floor, 3),
        "redaction_ratio_vs_floor": round(redaction / floor, 1),
        "redaction_mb_per_s": round(5 / redaction, 1),
        "scaling_4x_text": round(scaling, 2),
        "worst_pathological_mb_s": round(worst, 3),
        "worst_pathological_unit": worst_unit,
        "worst_pathological_vs_ordinary_mb": round(worst / per_mb, 2),
        "trim_50mb_log_s": round(trimming, 2),
        "trim_ratio_vs_counting_lines": round(trimming / read_floor, 1),
    }
    report("input handling benchmark", result, as_json=args.json)


if __name__ == "__main__":
    main()
