"""Every knob of the demo app, read from environment variables."""
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    # The broker: redis://host:port/db or sqlite:///path/to/queue.db
    broker_url: str = "redis://127.0.0.1:6379/0"
    broker_timeout: float = 0.5  # seconds before a broker call gives up
    broker_probe_interval: float = 0.5  # how often /health's probe pings the broker
    backlog_limit: int = 10_000  # queued jobs above this → 503 (backpressure)
    retry_after_seconds: int = 1  # what a 503 tells the client to wait

    # --8<-- [start:job-options]
    # The job options, translated from the BullMQ lesson.
    queue_name: str = "welcome-emails"
    job_attempts: int = 3  # attempts in total, the first one included
    retry_delay: float = 2.0  # seconds before the second attempt...
    retry_backoff: float = 2.0  # ...then multiplied by this for each next one
    keep_succeeded: int = 100  # job records kept after success
    keep_failed: int = 500  # job records kept after failure
    default_priority: int = 0  # Huey runs higher numbers first
    # --8<-- [end:job-options]

    # Delivery semantics (see lessons/05_reliability.md).
    acks_late: bool = False  # keep a job leased until its task ends (Redis only)
    lease_seconds: float = 30.0  # a dead worker's job runs again after this long
    lease_poll_seconds: float = 0.1  # acks late: how often an idle worker asks for a job
    idempotent_sending: bool = True  # remember each job's sent email; never send it twice
    sent_marker_seconds: int = 7 * 24 * 3600  # how long that memory lasts
    job_heartbeat_seconds: float = 2.0  # how often the worker stamps its running jobs' records
    stale_after_seconds: float = 10.0  # GET /jobs flags a running job not stamped for this long

    # The mail provider and the job itself.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_timeout: float = 30.0
    mail_from: str = "welcome@offload-lab.test"
    users_db: Path = Path("var/users.db")
    cpu_work_ms: int = 0  # milliseconds of card rendering in each job


@lru_cache
def get_settings() -> Settings:
    return Settings()
