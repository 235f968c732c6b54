"""The baseline: the cheapest route, asked at the same pace as the variants."""
from locust import task

from _common import LabUser


class HealthUser(LabUser):
    @task
    def check_health(self):
        self.client.get("/health", name="/health")
