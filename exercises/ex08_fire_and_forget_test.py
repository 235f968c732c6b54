"""Exercise 08 (lesson 08): write the test that proves fire-and-forget loses a job.

`stack` is a running `offload_lab.stack.Stack` (web app + mail provider, no worker) whose
mail provider holds every message for 3 seconds before answering. Useful pieces:

- `stack.web_url`: the web app's base URL (use `httpx.post(...)`);
- `stack.sink.in_flight`: how many messages the provider is holding right now;
- `stack.kill("web", signal.SIGKILL)`: kill the web process;
- `stack.sink.latency = 0.05`: make the provider fast again;
- `offload_lab.mailsink.read_log(stack.mail_log)`: what the provider accepted, as dicts
  with a "job_id" key;
- `wait_for` below: poll a condition.

Write `prove_fire_and_forget_loses_a_job(stack)`: post to the fire-and-forget route,
check the 202, wait until the provider holds the message, kill the web process, then
assert that the job id does not show up in the provider's log (give it a moment).
Return the job id. The check runs your function and then verifies the loss itself.
"""
import signal  # noqa: F401
import time

import httpx  # noqa: F401

from offload_lab.mailsink import read_log  # noqa: F401


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def prove_fire_and_forget_loses_a_job(stack) -> str:
    raise NotImplementedError("exercise 08: post, wait until the provider holds it, kill the web app, look")
