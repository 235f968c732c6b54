"""Small helpers shared by the integration tests."""
import time

from offload_lab.mailsink import read_log


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def delivered_ids(stack) -> list[str]:
    return [record["job_id"] for record in read_log(stack.mail_log)]
