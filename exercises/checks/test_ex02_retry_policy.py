"""Check for exercise 02: a real Huey task, failing every time, retried with BullMQ's gaps."""
import logging

import pytest
from huey import MemoryHuey

pytestmark = pytest.mark.exercise
FAR_FUTURE_YEARS = 100


@pytest.fixture
def ex(exercise):
    return exercise("ex02_retry_policy")


def run_until_it_gives_up(options: dict) -> tuple[int, list[float]]:
    """Run a task that always fails; return how often it ran and the gaps Huey scheduled."""
    huey = MemoryHuey("ex02", results=False)
    runs = []

    @huey.task(**options)
    def send_welcome_email():
        runs.append(1)
        raise RuntimeError("mail provider said 451 try again later")

    send_welcome_email()
    task, gaps = huey.dequeue(), []
    while task is not None and len(runs) < 10:
        started = huey._get_timestamp()
        huey.execute(task, timestamp=task.eta or started)  # as if the retry were due now
        due = huey.read_schedule(started.replace(year=started.year + FAR_FUTURE_YEARS))  # the retry, if any
        if not due:
            break
        (task,) = due
        gaps.append(round((task.eta - started).total_seconds(), 1))
    return len(runs), gaps


def test_three_attempts_are_two_retries(ex):
    assert ex.huey_retry_options(3, 2.0, 2.0) == {"retries": 2, "retry_delay": 2.0, "retry_backoff": 2.0}


def test_bullmq_gaps(ex):
    assert ex.bullmq_gaps(3, 2.0) == [2.0, 4.0]
    assert ex.bullmq_gaps(1, 2.0) == []


def test_four_attempts_in_huey_wait_like_bullmq(ex, caplog):
    caplog.set_level(logging.CRITICAL, logger="huey")  # the failing task logs a traceback per run
    runs, gaps = run_until_it_gives_up(ex.huey_retry_options(4, 2.0, 2.0))
    assert runs == 4, f"4 attempts expected, the task ran {runs} times"
    assert gaps == [2.0, 4.0, 8.0] == ex.bullmq_gaps(4, 2.0)
