"""Job status, as the worker recorded it from Huey's signals."""
from fastapi import APIRouter, HTTPException

from demo_app.deps import BrokerDep

router = APIRouter()
TIMESTAMPS = ("enqueued_at", "started_at", "finished_at")  # seconds since the epoch


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, broker: BrokerDep):
    record = await broker.job(job_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"job {job_id} not found (unknown, or its record was trimmed)")
    return {
        "job_id": job_id,
        "state": record["state"],
        "attempts": int(record.get("attempts", 0)),
        "error": record.get("error"),
        **{field: float(record[field]) for field in TIMESTAMPS if record.get(field) is not None},
    }
