"""Job status, as the worker recorded it from Huey's signals."""
import time

from fastapi import APIRouter, HTTPException

from demo_app.deps import BrokerDep, SettingsDep

router = APIRouter()
TIMESTAMPS = ("enqueued_at", "started_at", "heartbeat_at", "requeued_at", "finished_at")  # seconds since the epoch


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, broker: BrokerDep, settings: SettingsDep):
    record = await broker.job(job_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"job {job_id} not found (unknown, or its record was trimmed)")
    job = {
        "job_id": job_id,
        "state": record["state"],
        "attempts": int(record.get("attempts", 0)),
        "error": record.get("error"),
        **{field: float(record[field]) for field in TIMESTAMPS if record.get(field) is not None},
    }
    if job["state"] == "running":
        # The worker stamps its running jobs every few seconds. Silence means it
        # may have died: we say how long it has been, not that the job is fine.
        job["last_seen_s"] = round(time.time() - job.get("heartbeat_at", job["started_at"]), 3)
        job["stale"] = job["last_seen_s"] > settings.stale_after_seconds
    return job
