"""Variant 3: the app puts a job on the queue, answers 202, and a worker sends the email."""
from locust import task

from _common import LabUser, random_user_id


class QueueUser(LabUser):
    @task
    def send_welcome_email(self):
        self.client.post(f"/queue/users/{random_user_id()}/welcome-email",
                         name="/queue/users/[id]/welcome-email")  # fmt: skip
