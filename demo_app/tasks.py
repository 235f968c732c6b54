"""The job itself, and the job records the worker keeps from Huey's signals."""
import time

from huey import signals

from demo_app.mailer import PermanentMailError, deliver_welcome_email
from demo_app.queue import broker, huey, settings
from demo_app.users import ensure_seeded, get_user


class UserGone(Exception):
    """The user was deleted between the request and the job."""


@huey.on_startup()
def prepare_user_store():
    ensure_seeded(settings.users_db)


@huey.task(
    retries=settings.job_attempts - 1,  # Huey counts retries, BullMQ counts attempts
    retry_delay=settings.retry_delay,
    retry_backoff=settings.retry_backoff,
    priority=settings.default_priority,
    context=True,
)
def send_welcome_email(user_id: int, task=None) -> None:
    user = get_user(settings.users_db, user_id)
    try:
        if user is None:
            raise UserGone(f"user {user_id} no longer exists")
        deliver_welcome_email(user, task.id, settings)
    except (UserGone, PermanentMailError):
        task.retries = 0  # a retry cannot fix these: fail now, keep the attempts
        raise


def attempt_number(task) -> int:
    return settings.job_attempts - task.retries


@huey.signal(signals.SIGNAL_EXECUTING)
def job_running(signal, task):
    broker.record(task.id, state="running", attempts=attempt_number(task), started_at=time.time())


@huey.signal(signals.SIGNAL_RETRYING)
def job_retrying(signal, task):
    broker.record(task.id, state="retrying")


@huey.signal(signals.SIGNAL_COMPLETE)
def job_succeeded(signal, task):
    broker.finish(task.id, "succeeded")


@huey.signal(signals.SIGNAL_ERROR)
def job_failed(signal, task, error):
    if task.retries:  # Huey retries it: SIGNAL_RETRYING follows
        broker.record(task.id, error=str(error))
    else:
        broker.finish(task.id, "failed", error=str(error))


@huey.signal(signals.SIGNAL_CANCELED, signals.SIGNAL_EXPIRED, signals.SIGNAL_REVOKED)
def job_dropped(signal, task):
    broker.finish(task.id, "failed", error=signal)
