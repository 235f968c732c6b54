"""Exercise 07 (lesson 07): percentiles by hand, and what a closed loop leaves out.

1. `percentile(samples, q)` with the nearest-rank method: sort the samples; the q-th
   percentile is the sample at rank ceil(q / 100 * n) (ranks start at 1). Raise
   ValueError for no samples or a q outside 0 < q <= 100.
2. `with_omitted_samples(latencies_ms, interval_ms)`: a client meant to send one request
   every `interval_ms` waited for each answer before sending the next, so during a slow
   answer it sent nothing. Add back the requests it should have sent meanwhile: for each
   latency L, also count L - interval, L - 2 * interval, ... while they stay above 0.
   Return the original latencies plus the added ones (any order).
"""
import math  # noqa: F401  (you will need it)


def percentile(samples: list[float], q: float) -> float:
    raise NotImplementedError("exercise 07: nearest-rank percentile")


def with_omitted_samples(latencies_ms: list[float], interval_ms: float) -> list[float]:
    raise NotImplementedError("exercise 07: add back what a fixed-rate client would have seen")
