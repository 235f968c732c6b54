"""Variant 2: answer at once and send from this process later. No retry; lost if the process dies."""
import asyncio
import logging
from uuid import uuid4

from fastapi import APIRouter

from demo_app.deps import SettingsDep, UserDep
from demo_app.mailer import deliver_welcome_email_async

router = APIRouter(prefix="/fire-and-forget")
log = logging.getLogger(__name__)

# asyncio keeps only weak references to tasks: hold them until they finish.
in_flight: set[asyncio.Task] = set()


@router.post("/users/{user_id}/welcome-email", status_code=202)
async def send_welcome_email_later(user: UserDep, settings: SettingsDep):
    job_id = str(uuid4())
    send = asyncio.create_task(deliver_welcome_email_async(user, job_id, settings))
    in_flight.add(send)
    send.add_done_callback(forget)
    return {"job_id": job_id, "status": "accepted"}


def forget(send: asyncio.Task) -> None:
    in_flight.discard(send)
    if not send.cancelled() and send.exception() is not None:
        log.error("welcome email lost, nobody will retry it: %s", send.exception())
