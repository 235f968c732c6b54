"""Exercise 05 (lesson 05): send once per job, and remember it only after sending.

With acknowledged delivery a job may run twice. `IdempotentSender` wraps a `send`
function (`send(message)`, which may raise) and a `sent` store (a set-like object with
`in` and `.add(job_id)`, shared by all workers, like the Redis keys of tasks.py).

Write `deliver(job_id, message)`:
- if `job_id` is already in `sent`, do nothing and return False;
- otherwise call `send(message)`; if it raises, let the exception out (the job will be
  retried) and remember nothing;
- after a successful send, add `job_id` to `sent` and return True.

The order matters: the check also crashes between the send and the add, and expects the
duplicate that this order cannot prevent.
"""


class IdempotentSender:
    def __init__(self, send, sent):
        self.send = send
        self.sent = sent

    def deliver(self, job_id: str, message) -> bool:
        raise NotImplementedError("exercise 05: skip if sent, send, then remember")
