"""Variant 1: the handler sends the email before it answers (slow for the caller)."""
from locust import task

from _common import LabUser, random_user_id


class BlockingAwaitUser(LabUser):
    """Awaits the send: slow for this user, harmless for everyone else."""

    @task
    def send_welcome_email(self):
        self.client.post(f"/blocking/users/{random_user_id()}/welcome-email?mode=await",
                         name="/blocking/users/[id]/welcome-email?mode=await")  # fmt: skip


class BlockingSyncUser(LabUser):
    """Sends synchronously inside an async handler: the whole app waits (the anti-pattern)."""

    @task
    def send_welcome_email(self):
        self.client.post(f"/blocking/users/{random_user_id()}/welcome-email?mode=sync",
                         name="/blocking/users/[id]/welcome-email?mode=sync")  # fmt: skip
