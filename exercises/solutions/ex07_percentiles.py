"""Exercise 07, a solution."""
import math


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        raise ValueError("no samples")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], got {q}")
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))  # 1-based
    return ordered[rank - 1]


def with_omitted_samples(latencies_ms: list[float], interval_ms: float) -> list[float]:
    if interval_ms <= 0:
        raise ValueError("interval_ms must be positive")
    corrected = []
    for latency in latencies_ms:
        corrected.append(latency)
        missed = latency - interval_ms
        while missed > 0:  # the requests that would have been waiting behind this one
            corrected.append(missed)
            missed -= interval_ms
    return corrected
