"""Exercise 06 (lesson 06): size the workers, and predict a backlog.

1. `workers_needed(jobs_per_s, seconds_per_job, target_busy=0.7)`: by Little's law,
   jobs_per_s * seconds_per_job workers are busy on average. Return the smallest whole
   number of workers that keeps each one busy at most `target_busy` of the time.
2. `drain_seconds(backlog, workers, seconds_per_job, arrivals_per_s=0.0)`: the workers
   finish workers / seconds_per_job jobs per second while new jobs keep arriving.
   Return how many seconds until the backlog is empty (0.0 for an empty backlog), or
   `math.inf` if it never empties.
"""
import math  # noqa: F401  (you will need it)


def workers_needed(jobs_per_s: float, seconds_per_job: float, target_busy: float = 0.7) -> int:
    raise NotImplementedError("exercise 06: Little's law")


def drain_seconds(backlog: int, workers: int, seconds_per_job: float, arrivals_per_s: float = 0.0) -> float:
    raise NotImplementedError("exercise 06: how long until the backlog is gone")
