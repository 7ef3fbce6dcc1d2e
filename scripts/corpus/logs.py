"""Log line renderers for the formats real workloads print. Entries are (offset, level, message) or raw strings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from .snap import Snap

Entry = "tuple[float, str, str] | str"

_PINO = {"TRACE": 10, "DEBUG": 20, "INFO": 30, "WARN": 40, "ERROR": 50, "FATAL": 60}
_KLOG = {"DEBUG": "I", "INFO": "I", "WARN": "W", "ERROR": "E", "FATAL": "F"}
_DOTNET = {"DEBUG": "dbug", "INFO": "info", "WARN": "warn", "ERROR": "fail", "FATAL": "crit"}
_NGINX = {"DEBUG": "debug", "INFO": "notice", "WARN": "warn", "ERROR": "error", "FATAL": "emerg"}


def _ms(d: datetime) -> str:
    return f"{d.microsecond // 1000:03d}"


def line(fmt: str, d: datetime, level: str, msg: str, ctx: dict[str, object]) -> str:
    lvl = level.upper()
    caller = ctx.get("caller", "app/main.go:61" if fmt == "zap" else "main.go:74")
    if isinstance(caller, (list, tuple)):
        caller = caller[sum(map(ord, msg)) % len(caller)]
    logger = str(ctx.get("logger", "app"))
    pid = ctx.get("pid", 1)
    if fmt == "python":  # logging.basicConfig(format="%(asctime)s %(levelname)-8s %(name)s %(message)s")
        return f"{d:%Y-%m-%d %H:%M:%S},{_ms(d)} {lvl:<8} {logger} {msg}"
    if fmt == "python-dash":
        return f"{d:%Y-%m-%d %H:%M:%S},{_ms(d)} - {logger} - {lvl} - {msg}"
    if fmt == "flask":
        return f"[{d:%Y-%m-%d %H:%M:%S},{_ms(d)}] {lvl} in {logger}: {msg}"
    if fmt == "celery":
        return f"[{d:%Y-%m-%d %H:%M:%S},{_ms(d)}: {lvl}/{ctx.get('proc', 'MainProcess')}] {msg}"
    if fmt == "gunicorn":
        return f"[{d:%Y-%m-%d %H:%M:%S} +0000] [{pid}] [{lvl if lvl != 'WARN' else 'WARNING'}] {msg}"
    if fmt == "uvicorn":
        return f"{(lvl if lvl != 'WARN' else 'WARNING') + ':':<9} {msg}"
    if fmt == "structlog":
        return json.dumps({"event": msg, "level": level.lower(), "logger": logger,
                           "timestamp": d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    if fmt == "go":
        return f"{d:%Y/%m/%d %H:%M:%S} {msg}"
    if fmt == "slog":
        return f"time={d:%Y-%m-%dT%H:%M:%S}.{_ms(d)}Z level={lvl if lvl != 'WARN' else 'WARN'} msg={_q(msg)}"
    if fmt == "logrus":
        return f'time="{d:%Y-%m-%dT%H:%M:%SZ}" level={level.lower() if lvl != "WARN" else "warning"} msg={_q(msg)}'
    if fmt == "zap":
        return json.dumps({"level": level.lower(), "ts": round(d.timestamp(), 3), "caller": caller,
                           "msg": msg})
    if fmt == "klog":
        return f"{_KLOG.get(lvl, 'I')}{d:%m%d %H:%M:%S}.{d.microsecond:06d} {pid:>7} {caller}] {msg}"
    if fmt == "spring":
        thread = str(ctx.get("thread", "main"))
        return f"{d:%Y-%m-%dT%H:%M:%S}.{_ms(d)}Z {lvl if lvl != 'FATAL' else 'ERROR':>5} {pid} --- [{thread[-15:]:>15}] {logger[:40]:<40} : {msg}"
    if fmt == "logback":
        return f"{d:%H:%M:%S}.{_ms(d)} [{ctx.get('thread', 'main')}] {lvl:<5} {logger} - {msg}"
    if fmt == "pino":
        return json.dumps({"level": _PINO.get(lvl, 30), "time": int(d.timestamp() * 1000), "pid": pid,
                           "hostname": ctx.get("host", "app"), "msg": msg}, separators=(",", ":"))
    if fmt == "winston":
        return json.dumps({"level": level.lower(), "message": msg, "service": logger,
                           "timestamp": d.strftime("%Y-%m-%dT%H:%M:%S.") + _ms(d) + "Z"})
    if fmt == "ruby":
        return f"{lvl[0]}, [{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond:06d} #{pid}] {lvl:>5} -- {ctx.get('progname', '')}: {msg}"
    if fmt == "sidekiq":
        return f"{d:%Y-%m-%dT%H:%M:%S}.{_ms(d)}Z pid={pid} tid={ctx.get('tid', 'gdnrvtlk3')} {lvl}: {msg}"
    if fmt == "dotnet":
        return f"{_DOTNET.get(lvl, 'info')}: {logger}[{ctx.get('event_id', 0)}]\n      {msg}"
    if fmt == "laravel":
        return f"[{d:%Y-%m-%d %H:%M:%S}] production.{lvl if lvl != 'WARN' else 'WARNING'}: {msg}"
    if fmt == "phpfpm":
        return f"[{d:%d-%b-%Y %H:%M:%S}] {lvl if lvl != 'INFO' else 'NOTICE'}: {msg}"
    if fmt == "nginx":
        return f"{d:%Y/%m/%d %H:%M:%S} [{_NGINX.get(lvl, 'notice')}] {pid}#{pid}: {msg}"
    if fmt == "rust":
        return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond:06d}Z {lvl:>5} {logger}: {msg}"
    if fmt == "postgres":
        pg = {"INFO": "LOG", "WARN": "WARNING", "ERROR": "ERROR", "FATAL": "FATAL", "PANIC": "PANIC"}.get(lvl, lvl)
        return f"{d:%Y-%m-%d %H:%M:%S}.{_ms(d)} UTC [{pid}] {pg}:  {msg}"
    if fmt == "iso":
        return f"{d:%Y-%m-%dT%H:%M:%S}.{_ms(d)}Z {msg}"
    if fmt == "plain":
        return msg
    raise ValueError(fmt)


def _q(msg: str) -> str:
    if " " in msg or '"' in msg or "=" in msg:
        return json.dumps(msg)
    return msg


def render(s: Snap, fmt: str, entries: Sequence[object], **ctx: object) -> str:
    out = []
    ctx.setdefault("host", s.pod_name)
    last = None
    for e in entries:
        if isinstance(e, str):
            out.append(e)
            continue
        off, level, msg = e[:3]  # type: ignore[index]
        lctx = {**ctx, **e[3]} if len(e) > 3 else ctx  # type: ignore[arg-type]
        d = s.dt(off).replace(microsecond=s.rng.randint(0, 999_999))
        if last is not None and d <= last:
            d = last + timedelta(milliseconds=s.rng.randint(1, 40))
        last = d
        out.append(line(fmt, d, level, msg, lctx))
    return "\n".join(out)


def every(start: float, end: float, step: float, level: str, make: object, s: Snap, jitter: float = 0.2) -> list[object]:
    """Repeated entries: make(i, t) -> message (or None to skip)."""
    out: list[object] = []
    t, i = start, 0
    while t <= end:
        msg = make(i, t)  # type: ignore[operator]
        if msg:
            out.append((t, level, msg))
        t += step * (1 + s.rng.uniform(-jitter, jitter))
        i += 1
    return out
