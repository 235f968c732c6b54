"""Variant 3: put a job on the queue and answer at once. A worker sends the email."""
from fastapi import APIRouter, Response

from demo_app.deps import BrokerDep, UserDep
from demo_app.tasks import send_welcome_email

router = APIRouter(prefix="/queue")


@router.post("/users/{user_id}/welcome-email", status_code=202)
async def enqueue_welcome_email(user: UserDep, broker: BrokerDep, response: Response, priority: int | None = None):
    job = send_welcome_email.s(user.id, priority=priority)  # Huey runs higher priorities first
    await broker.enqueue(job)  # the job is in the broker before we answer
    response.headers["Location"] = f"/jobs/{job.id}"
    return {"job_id": job.id, "status": "queued"}
