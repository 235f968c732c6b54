"""A bystander: asks GET /health at a fixed rate while the other users load the app.

Locust is closed-loop: a user that waits sends nothing, so a stalled app looks
calm. The bystander keeps its own schedule, and when the event loop is blocked
its cheap request waits too — the stall shows up as bystander latency.
"""
from locust import constant_throughput, task

from _common import LabUser

BYSTANDER_REQUESTS_PER_SECOND = 10


class HealthBystander(LabUser):
    fixed_count = 1  # one bystander, however many users load the app
    wait_time = constant_throughput(BYSTANDER_REQUESTS_PER_SECOND)

    @task
    def check_health(self):
        self.client.get("/health", name="/health (bystander)")
