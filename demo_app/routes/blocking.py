"""Variant 1: do the work inside the request. The caller waits for the email."""
from enum import Enum
from uuid import uuid4

from fastapi import APIRouter

from demo_app.deps import SettingsDep, UserDep
from demo_app.mailer import deliver_welcome_email, deliver_welcome_email_async

router = APIRouter(prefix="/blocking")


class Mode(str, Enum):
    AWAIT = "await"  # awaits the network: slow for this caller only
    SYNC = "sync"  # blocking call in an async handler: every request waits (the anti-pattern)


@router.post("/users/{user_id}/welcome-email")
async def send_welcome_email_now(user: UserDep, settings: SettingsDep, mode: Mode = Mode.AWAIT):
    job_id = str(uuid4())
    if mode is Mode.SYNC:
        deliver_welcome_email(user, job_id, settings)  # blocks the event loop, on purpose
    else:
        await deliver_welcome_email_async(user, job_id, settings)
    return {"job_id": job_id, "status": "sent"}
