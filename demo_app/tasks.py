"""The job itself, and the job records the worker keeps from Huey's signals."""
import time

from huey import signals
from huey.utils import normalize_time

from demo_app.heartbeat import Heartbeat
from demo_app.mailer import PermanentMailError, deliver_welcome_email
from demo_app.queue import broker, huey, settings
from demo_app.users import ensure_seeded, get_user

running: set[str] = set()  # ids of the jobs this worker process is running now


def stamp_running_jobs() -> None:
    if running:
        broker.heartbeat(list(running))


job_heartbeat = Heartbeat(stamp_running_jobs, settings.job_heartbeat_seconds)


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
    if settings.idempotent_sending and broker.already_sent(task.id):
        return  # a job delivered twice (see acks.py): the email went out the first time
    user = get_user(settings.users_db, user_id)
    try:
        if user is None:
            raise UserGone(f"user {user_id} no longer exists")
        deliver_welcome_email(user, task.id, settings)
    except (UserGone, PermanentMailError):
        task.retries = 0  # a retry cannot fix these: fail now, keep the attempts
        raise
    if settings.idempotent_sending:
        broker.mark_sent(task.id)  # a crash just before this line still sends twice


def attempt_number(task) -> int:
    return settings.job_attempts - task.retries


# --8<-- [start:signals]
@huey.signal(signals.SIGNAL_EXECUTING)
def job_running(signal, task):
    broker.record(task.id, state="running", attempts=attempt_number(task), started_at=time.time())
    running.add(task.id)
    job_heartbeat.start()


@huey.post_execute()
def job_ended(task, task_value, exc):
    running.discard(task.id)


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
# --8<-- [end:signals]


@huey.signal(signals.SIGNAL_CANCELED, signals.SIGNAL_EXPIRED, signals.SIGNAL_REVOKED)
def job_dropped(signal, task):
    broker.finish(task.id, "failed", error=signal)


@huey.signal(signals.SIGNAL_INTERRUPTED)
def job_interrupted(signal, task):
    # SIGTERM stops the worker mid-task. Plain Huey would lose the job (it is
    # at-most-once), so we put it back, as Huey's docs and its author advise
    # (github.com/coleifer/huey/issues/743). SIGKILL or a crash runs no code
    # at all: only acks late (a lease) survives those.
    running.discard(task.id)
    if settings.acks_late:
        return  # still leased: the lease runs out and puts it back
    # Back on the schedule, RETRY_DELAY from now, not straight onto the queue:
    # this consumer's idle threads are still waiting on the queue, and would
    # take the job with them when the process exits a moment later.
    task.eta = normalize_time(delay=settings.retry_delay, utc=huey.utc)
    huey.add_schedule(task)
    broker.record(task.id, state="queued")


def jobs_back_in_queue(messages: list[bytes]) -> None:
    """Acks late: a dead worker's leases ran out and its jobs are queued again, attempts kept."""
    for message in messages:
        broker.record(huey.deserialize_task(message).id, state="queued", requeued_at=time.time())


if settings.acks_late:
    huey.storage.on_lease_expired = jobs_back_in_queue
    huey.on_shutdown()(huey.storage.release)  # a graceful stop hands back the last lease
