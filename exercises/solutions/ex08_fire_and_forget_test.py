"""Exercise 08, a solution."""
import signal
import time

import httpx

from offload_lab.mailsink import read_log

SETTLE_SECONDS = 1.0  # long enough for a message that was going to arrive to arrive


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def delivered(stack) -> list[str]:
    return [record["job_id"] for record in read_log(stack.mail_log)]


def prove_fire_and_forget_loses_a_job(stack) -> str:
    response = httpx.post(stack.web_url + "/fire-and-forget/users/1/welcome-email", timeout=10)
    assert response.status_code == 202  # the client was told: accepted
    job_id = response.json()["job_id"]
    wait_for(lambda: stack.sink.in_flight == 1, what="the provider to hold the message")
    stack.kill("web", signal.SIGKILL)  # the only copy of the job was in this process
    stack.sink.latency = 0.05
    time.sleep(SETTLE_SECONDS)
    assert job_id not in delivered(stack)  # accepted, never delivered, and nobody will retry
    return job_id
