"""Variant 2: the app answers 202 at once and sends from its own process afterwards."""
from locust import task

from _common import LabUser, random_user_id


class FireAndForgetUser(LabUser):
    @task
    def send_welcome_email(self):
        self.client.post(f"/fire-and-forget/users/{random_user_id()}/welcome-email",
                         name="/fire-and-forget/users/[id]/welcome-email")  # fmt: skip
