"""Exercise 02, a solution."""


def huey_retry_options(attempts: int, first_delay_s: float, factor: float) -> dict:
    if attempts < 1:
        raise ValueError("a job gets at least one attempt")
    return {"retries": attempts - 1, "retry_delay": first_delay_s, "retry_backoff": factor}


def bullmq_gaps(attempts: int, delay_s: float) -> list[float]:
    return [delay_s * 2 ** (n - 1) for n in range(1, attempts)]
