"""Exercise 06, a solution."""
import math


def workers_needed(jobs_per_s: float, seconds_per_job: float, target_busy: float = 0.7) -> int:
    if not 0 < target_busy <= 1:
        raise ValueError("target_busy is a share of the time, above 0 and at most 1")
    busy_on_average = jobs_per_s * seconds_per_job  # Little's law: L = lambda * W
    return math.ceil(round(busy_on_average / target_busy, 9))  # round: 0.7 * 10 must not become 7.000000001


def drain_seconds(backlog: int, workers: int, seconds_per_job: float, arrivals_per_s: float = 0.0) -> float:
    if backlog <= 0:
        return 0.0
    net_per_s = workers / seconds_per_job - arrivals_per_s
    return backlog / net_per_s if net_per_s > 0 else math.inf
