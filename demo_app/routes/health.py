"""The cheapest route there is: the benchmarks' baseline and bystander."""
from fastapi import APIRouter, Request

router = APIRouter()


@router.get("/health")
async def health(request: Request):
    # The broker's state comes from a background probe (see main.py), never from a call here.
    return {"status": "ok", "broker": "up" if request.app.state.broker_up else "down"}
