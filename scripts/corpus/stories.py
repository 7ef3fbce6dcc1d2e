"""Recurring timelines: crash-loop restarts with kubelet back-off, steady running containers."""

from __future__ import annotations

from collections.abc import Callable

from .snap import Obj, Snap

Run = tuple[float, float]


def backoff(i: int) -> float:
    return min(300.0, 10.0 * (2 ** i))


def timeline(s: Snap, restarts: int, duration: float | Callable[[int], float], *, running_now: bool = False,
             last_end: float | None = None, gap: float = 1.5) -> list[Run]:
    """restarts+1 runs, each followed by kubelet back-off. Shifted so that the last run ends at last_end
    (waiting in back-off) or is still running at capture time."""
    def dur(i: int) -> float:
        d = duration(i) if callable(duration) else duration * s.rng.uniform(0.85, 1.15)
        return max(0.5, d)

    runs: list[Run] = []
    t = 0.0
    for i in range(restarts + 1):
        d = dur(i)
        runs.append((t, t + d))
        t = t + d + backoff(i) + gap + s.rng.uniform(0, 2)
    if running_now:
        a, b = runs[-1]
        target_start = -min(b - a - 1, s.rng.uniform(20, 240)) if b - a > 2 else -1.0
        shift = target_start - a
    else:
        target = last_end if last_end is not None else -s.rng.uniform(4, min(250.0, backoff(restarts) - 2))
        shift = target - runs[-1][1]
    runs = [(a + shift, b + shift) for a, b in runs]
    if running_now:
        runs[-1] = (runs[-1][0], 0.0)
    return runs


def crashloop(s: Snap, c: str, runs: list[Run], *, exit_code: int, reason: str = "Error",
              message: str | None = None, running_now: bool = False, ready: bool = False,
              events: bool = True, pulled_first: bool = True, waiting_reason: str = "CrashLoopBackOff",
              started: bool | None = None, signal: int | None = None) -> Obj:
    restarts = len(runs) - 1
    if running_now:
        last = s.terminated(exit_code, reason, runs[-2][0], runs[-2][1], message, signal) if restarts else None
        state = s.running(runs[-1][0])
    else:
        last = s.terminated(exit_code, reason, runs[-1][0], runs[-1][1], message, signal)
        pod_uid = s.pod_uid
        msg = (f"back-off {int(backoff(restarts - 1 if restarts else 0))}s restarting failed container={c} "
               f"pod={s.pod_name}_{s.ns}({pod_uid})")
        state = s.waiting(waiting_reason, msg)
    st = s.status(c, state=state, last=last, restarts=restarts, ready=ready, started=started)
    if events:
        s.ev_cycle(c, count=len(runs), first=runs[0][0], last=runs[-1][0], pulled_first=pulled_first)
        if restarts:
            total_wait = sum(backoff(i) for i in range(restarts))
            s.ev_backoff(c, count=max(1, int(total_wait / 14)), first=runs[0][1] + 1,
                         last=(runs[-1][1] + 2) if not running_now else (runs[-1][0] - 3))
    return st


def steady(s: Snap, c: str, since: float, *, restarts: int = 0, ready: bool = True, last: Obj | None = None,
           events: bool = True, pulled_first: bool = True) -> Obj:
    st = s.status(c, state=s.running(since), restarts=restarts, ready=ready, last=last)
    if events:
        s.ev_cycle(c, count=1, first=since, last=since, pulled_first=pulled_first)
    return st
