"""Exercise 03 (lesson 03): a client that takes "not now" for an answer.

`POST /queue/users/{user_id}/welcome-email` answers:
- 202 with a `Location: /jobs/{job_id}` header when the job is queued;
- 503 with `Retry-After: <seconds>` when the broker is down or the backlog is full;
- 404 / 422 for a bad request (retrying cannot help).

Write `enqueue_politely(client, user_id, max_tries, sleep)`:
- post to the route with `client` (an `httpx.Client` whose base_url is the app);
- on 202, return the `Location` header;
- on 503, call `sleep(seconds)` with the `Retry-After` value and try again, at most
  `max_tries` posts in all; then raise `TooBusy`;
- on any other status, raise `httpx.HTTPStatusError` (hint: `response.raise_for_status()`).
"""
import time

import httpx  # noqa: F401  (you will need it)


class TooBusy(Exception):
    """The service said 503 to every try."""


def enqueue_politely(client, user_id: int, max_tries: int = 5, sleep=time.sleep) -> str:
    raise NotImplementedError("exercise 03: post, honour Retry-After on 503, return Location")
