"""The queue, shared by the web app (which enqueues) and the worker (which runs jobs).

Start a worker with:

    huey_consumer demo_app.queue.huey
"""
from huey import Huey, SqliteHuey
from huey.storage import PriorityRedisStorage

from demo_app.broker import open_broker
from demo_app.settings import Settings, get_settings


def create_huey(settings: Settings) -> Huey:
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        # The priority flavour of Huey's Redis storage: higher numbers run first.
        return Huey(settings.queue_name, storage_class=PriorityRedisStorage, url=url, results=False)
    if url.startswith("sqlite:///"):
        return SqliteHuey(settings.queue_name, filename=url.removeprefix("sqlite:///"), results=False)
    raise ValueError(f"BROKER_URL must start with redis:// or sqlite:///, got {url!r}")


settings = get_settings()
huey = create_huey(settings)
broker = open_broker(huey, settings)

# Importing the tasks registers them with Huey, in the web app and in the worker alike.
from demo_app import tasks  # noqa: E402,F401
