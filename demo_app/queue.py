"""The queue, shared by the web app (which enqueues) and the worker (which runs jobs).

Start a worker with:

    huey_consumer demo_app.queue.huey
"""
from huey import Huey, SqliteHuey
from huey.storage import PriorityRedisStorage

from demo_app.acks import LeasedRedisStorage
from demo_app.broker import open_broker
from demo_app.settings import Settings, get_settings


def create_huey(settings: Settings) -> Huey:
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        if settings.acks_late:  # leased until the task ends: see acks.py
            storage = dict(storage_class=LeasedRedisStorage, lease_seconds=settings.lease_seconds,
                           poll_seconds=settings.lease_poll_seconds)  # fmt: skip
        else:  # the priority flavour of Huey's Redis storage: higher numbers run first
            storage = dict(storage_class=PriorityRedisStorage)
        return Huey(settings.queue_name, url=url, results=False, **storage)
    if url.startswith("sqlite:///"):
        if settings.acks_late:
            raise ValueError("ACKS_LATE=true needs a Redis broker (BROKER_URL=redis://...): "
                             "acknowledged delivery is built on Huey's Redis storage only")  # fmt: skip
        return SqliteHuey(settings.queue_name, filename=url.removeprefix("sqlite:///"), results=False)
    raise ValueError(f"BROKER_URL must start with redis:// or sqlite:///, got {url!r}")


settings = get_settings()
huey = create_huey(settings)
broker = open_broker(huey, settings)

# Importing the tasks registers them with Huey, in the web app and in the worker alike.
from demo_app import tasks  # noqa: E402,F401
