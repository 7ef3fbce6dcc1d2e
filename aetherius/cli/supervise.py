"""Keep a child process running: restart it whenever it exits, until we are asked to stop.

``aeth worker`` runs the Celery worker under this. Celery with a Redis broker can stop for good when the broker
restarts at the wrong moment (a kombu reconnection failing inside the worker's shutdown path; see celery/celery
#8030 and kombu #582 for the family). Incidents are never lost to it (they are in the state store, and the
reconciler of the next worker re-enqueues them), but a worker that stays down is an outage. So, like a
``Restart=always`` unit, we restart it with a back-off that resets once it has run for a while; SIGTERM and SIGINT
are passed on to the child, and then we stop too.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

log = logging.getLogger(__name__)

CHILD_ENV = "AETH_SUPERVISED_WORKER"
"""Set in the environment of the worker a supervisor started, so that it does not supervise itself."""
USAGE_ERROR = 2
"""The exit code of a bad command line or setting: restarting cannot fix it, so the supervisor stops too."""

Spawn = Callable[[Sequence[str]], "subprocess.Popen[bytes]"]


def _spawn(command: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command))


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        spawn: Spawn = _spawn,
        first_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        healthy_after_s: float = 60.0,
        max_restarts: int | None = None,
        max_quick_failures: int = 10,
    ) -> None:
        self.command = list(command)
        self.spawn = spawn
        self.first_delay_s, self.max_delay_s, self.healthy_after_s = first_delay_s, max_delay_s, healthy_after_s
        self.max_restarts = max_restarts
        self.max_quick_failures = max_quick_failures
        """Exits in a row, each before ``healthy_after_s``, after which we give up and exit too (a broken install,
        a closed stdout): the platform's own restart policy, with its own back-off, takes it from there."""
        self.restarts = 0
        self.delays: list[float] = []
        """The back-off chosen before each restart, in order."""
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop restarting and pass ``signum`` on to the running child."""
        self._stopping.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    def run(self) -> int:
        """Run the child until a stop is asked for (its exit code is returned) or ``max_restarts`` is used up."""
        delay = self.first_delay_s
        quick_failures = 0
        while True:
            started = time.monotonic()
            self._child = self.spawn(self.command)
            code = self._child.wait()
            if self._stopping.is_set() or code == USAGE_ERROR:
                return code
            healthy = time.monotonic() - started >= self.healthy_after_s
            quick_failures = 0 if healthy else quick_failures + 1
            used_up = self.max_restarts is not None and self.restarts >= self.max_restarts
            if used_up or quick_failures >= self.max_quick_failures:
                log.error("worker exited with %s after %d restarts; giving up", code, self.restarts)
                return code if code and code > 0 else 1
            delay = self.first_delay_s if healthy else delay
            log.warning("worker exited with %s; restarting it in %.1fs", code, delay)
            self.delays.append(delay)
            if self._stopping.wait(delay):
                return code
            self.restarts += 1
            delay = min(self.max_delay_s, delay * 2)

    def install_signal_handlers(self) -> None:
        def forward(signum: int, _frame: FrameType | None) -> None:
            self.stop(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)


def supervise_worker_if_asked(argv: Sequence[str]) -> int | None:
    """Supervise ``aeth worker ARGS`` (the same command in a child) and return its exit code; ``None`` when
    ``argv`` is another command, asks for help, says ``--no-supervise``, or already runs under a supervisor."""
    if argv[:1] != ["worker"] or os.environ.get(CHILD_ENV) == "1":
        return None
    if any(arg in ("--no-supervise", "--help", "-h") for arg in argv):
        return None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s aeth-supervisor: %(message)s")
    os.environ[CHILD_ENV] = "1"
    supervisor = Supervisor([sys.executable, "-m", "aetherius.cli.main", *argv])
    supervisor.install_signal_handlers()
    return supervisor.run()
