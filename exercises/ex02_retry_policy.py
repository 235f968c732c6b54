"""Exercise 02 (lesson 02): BullMQ's retry options, in Huey's words.

The seed lesson writes `attempts: 3, backoff: { type: 'exponential', delay: 2_000 }`.
BullMQ counts attempts (the first run included) and waits `delay * 2**(n - 1)` before
re-run n. Huey counts retries (re-runs only), waits `retry_delay` before the first
re-run and multiplies `retry_delay` by `retry_backoff` after each one.

1. `huey_retry_options(attempts, first_delay_s, factor)` returns the keyword arguments
   for `@huey.task(...)`: a dict with the keys "retries", "retry_delay" and "retry_backoff".
2. `bullmq_gaps(attempts, delay_s)` returns the waits, in seconds, that BullMQ's
   exponential backoff puts between the attempts (one fewer than the attempts).

The check builds a Huey task with `huey_retry_options(4, 2.0, 2.0)`, makes it fail
every time, and compares the gaps Huey schedules with `bullmq_gaps(4, 2.0)`.
"""


def huey_retry_options(attempts: int, first_delay_s: float, factor: float) -> dict:
    raise NotImplementedError("exercise 02: translate attempts and backoff to Huey's task options")


def bullmq_gaps(attempts: int, delay_s: float) -> list[float]:
    raise NotImplementedError("exercise 02: the waits of BullMQ's exponential backoff")
