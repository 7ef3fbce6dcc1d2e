"""The worker supervisor restarts a worker that exits, with back-off, and stops it when asked."""

from __future__ import annotations

import signal
import sys
import threading
import time

from aetherius.cli.supervise import Supervisor


def test_a_child_that_keeps_exiting_is_restarted_until_the_restarts_run_out() -> None:
    supervisor = Supervisor([sys.executable, "-c", "raise SystemExit(3)"], first_delay_s=0.01, max_restarts=2)
    assert supervisor.run() == 3
    assert supervisor.restarts == 2 and supervisor.delays == [0.01, 0.02]  # the back-off doubles


def test_a_stop_is_passed_on_to_the_child_and_nothing_is_restarted() -> None:
    supervisor = Supervisor([sys.executable, "-c", "import time; time.sleep(60)"], first_delay_s=0.01)
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(supervisor.run()))
    runner.start()
    time.sleep(0.5)
    supervisor.stop(signal.SIGTERM)
    runner.join(10)
    assert result == [-signal.SIGTERM] and supervisor.restarts == 0


def test_a_child_that_ran_long_enough_restarts_after_the_first_delay_again() -> None:
    supervisor = Supervisor(
        [sys.executable, "-c", "import time; time.sleep(0.3)"],
        first_delay_s=0.01, max_delay_s=5.0, healthy_after_s=0.2, max_restarts=3,
    )  # fmt: skip
    supervisor.run()
    assert supervisor.restarts == 3 and supervisor.delays == [0.01, 0.01, 0.01]  # a healthy run resets the back-off


def test_a_usage_error_is_not_restarted() -> None:
    supervisor = Supervisor([sys.executable, "-c", "raise SystemExit(2)"], first_delay_s=0.01)
    assert supervisor.run() == 2 and supervisor.restarts == 0


def test_a_child_that_dies_at_once_every_time_is_given_up_on() -> None:
    supervisor = Supervisor([sys.executable, "-c", "raise SystemExit(5)"], first_delay_s=0.001, max_quick_failures=4)
    assert supervisor.run() == 5 and supervisor.restarts == 3
