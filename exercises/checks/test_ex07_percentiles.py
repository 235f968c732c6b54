"""Check for exercise 07: nearest-rank percentiles and the coordinated-omission correction."""
import statistics

import pytest

pytestmark = pytest.mark.exercise


@pytest.fixture
def ex(exercise):
    return exercise("ex07_percentiles")


def test_nearest_rank(ex):
    samples = list(range(100, 0, -1))  # 1..100, unsorted
    assert ex.percentile(samples, 50) == 50
    assert ex.percentile(samples, 99) == 99
    assert ex.percentile(samples, 100) == 100
    assert ex.percentile([7.5], 99) == 7.5
    assert ex.percentile([1, 2, 3, 4], 30) == 2  # rank ceil(1.2) = 2


def test_bad_input(ex):
    with pytest.raises(ValueError):
        ex.percentile([], 50)
    for q in (0, 101, -5):
        with pytest.raises(ValueError):
            ex.percentile([1, 2, 3], q)


def test_the_mean_hides_a_stall_that_a_high_percentile_shows(ex):
    latencies = [5.0] * 990 + [2000.0] * 10
    assert ex.percentile(latencies, 50) == 5.0
    assert ex.percentile(latencies, 99) == 5.0  # 1 % slow: p99 sits right on the edge...
    assert ex.percentile(latencies, 99.9) == 2000.0  # ...and p99.9 sees it
    assert statistics.mean(latencies) == pytest.approx(24.95)  # a latency no request had


def test_adding_back_omitted_samples(ex):
    corrected = ex.with_omitted_samples([5.0, 2000.0, 5.0], interval_ms=100.0)
    assert sorted(corrected) == sorted([5.0, 5.0] + [2000.0 - 100.0 * k for k in range(20)])


def test_after_correction_one_stall_owns_p99(ex):
    # One bystander asking every 100 ms for 100 s, with a single 2 s freeze.
    measured = [5.0] * 999 + [2000.0]
    assert ex.percentile(measured, 99) == 5.0  # the closed loop saw one slow request in a thousand
    corrected = ex.with_omitted_samples(measured, interval_ms=100.0)
    assert len(corrected) == 1019
    assert ex.percentile(corrected, 99) >= 1000.0  # the requests a real crowd would have sent waited too
