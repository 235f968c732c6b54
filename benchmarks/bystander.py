"""A bystander: asks GET /health at a fixed rate while the other users load the app.

Locust is closed-loop: a user that waits sends nothing, so a stalled app looks
calm. The bystander keeps its own schedule, and when the event loop is blocked
its cheap request waits too — the stall shows up as bystander latency.
"""
from locust import constant_throughput, task

from _common import LabUser

BYSTANDERS = 10  # ten users asking once a second each: ten requests a second in all,
# and a stalled request holds up only its own user, so the other nine keep sampling.


class HealthBystander(LabUser):
    fixed_count = BYSTANDERS  # the same bystanders, however many users load the app
    wait_time = constant_throughput(1)

    @task
    def check_health(self):
        self.client.get("/health", name="/health (bystander)")
