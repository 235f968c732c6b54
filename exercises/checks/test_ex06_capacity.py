"""Check for exercise 06: Little's law and a draining backlog."""
import math

import pytest

pytestmark = pytest.mark.exercise


@pytest.fixture
def ex(exercise):
    return exercise("ex06_capacity")


@pytest.mark.parametrize(
    "jobs_per_s, seconds_per_job, target_busy, workers",
    [(5, 2.0, 1.0, 10), (5, 2.0, 0.7, 15), (0.5, 2.0, 1.0, 1), (100, 0.01, 0.5, 2), (3, 2.0, 0.6, 10)],
)
def test_workers_needed(ex, jobs_per_s, seconds_per_job, target_busy, workers):
    assert ex.workers_needed(jobs_per_s, seconds_per_job, target_busy) == workers


def test_workers_needed_defaults_to_seventy_percent_busy(ex):
    assert ex.workers_needed(5, 2.0) == 15


def test_drain_seconds(ex):
    assert ex.drain_seconds(100, 4, 2.0) == pytest.approx(50.0)  # 2 jobs/s
    assert ex.drain_seconds(100, 4, 2.0, arrivals_per_s=1.0) == pytest.approx(100.0)  # 1 job/s net
    assert ex.drain_seconds(0, 4, 2.0, arrivals_per_s=9.0) == 0.0
    assert ex.drain_seconds(100, 4, 2.0, arrivals_per_s=2.0) == math.inf  # it never shrinks
    assert ex.drain_seconds(100, 4, 2.0, arrivals_per_s=3.0) == math.inf
