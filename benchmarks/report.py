"""How every benchmark prints its figures: one aligned table, or one JSON line with ``--json``."""

from __future__ import annotations

import json


def report(title: str, result: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(key) for key in result)
    print(title)
    for key, value in result.items():
        print(f"  {key:<{width}}  {value}")
