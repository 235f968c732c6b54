"""Exercise 03, a solution."""
import time


class TooBusy(Exception):
    """The service said 503 to every try."""


def enqueue_politely(client, user_id: int, max_tries: int = 5, sleep=time.sleep) -> str:
    for attempt in range(1, max_tries + 1):
        response = client.post(f"/queue/users/{user_id}/welcome-email")
        if response.status_code == 202:
            return response.headers["Location"]
        if response.status_code != 503:
            response.raise_for_status()  # 4xx: our request is wrong, waiting will not fix it
            raise RuntimeError(f"unexpected answer {response.status_code}")
        if attempt < max_tries:
            sleep(float(response.headers.get("Retry-After", "1")))
    raise TooBusy(f"still 503 after {max_tries} tries")
