"""The web app. Run it with:  uvicorn demo_app.main:app"""
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from demo_app.broker import BacklogFull, BrokerUnavailable
from demo_app.mailer import PermanentMailError, TransientMailError
from demo_app.queue import broker
from demo_app.routes import blocking, fire_and_forget, health, jobs, queued
from demo_app.settings import get_settings
from demo_app.users import ensure_seeded


async def probe_broker(app: FastAPI, interval: float) -> None:
    while True:
        app.state.broker_up = await broker.ping()
        await asyncio.sleep(interval)


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    ensure_seeded(settings.users_db)
    app.state.broker_up = await broker.ping()
    probe = asyncio.create_task(probe_broker(app, settings.broker_probe_interval))
    yield
    probe.cancel()
    if fire_and_forget.in_flight:  # a graceful stop lets in-process sends finish; a crash loses them
        await asyncio.wait(fire_and_forget.in_flight, timeout=settings.smtp_timeout)


app = FastAPI(title="Offload Lab demo app", lifespan=lifespan)
for module in (blocking, fire_and_forget, queued, jobs, health):
    app.include_router(module.router)


@app.exception_handler(BrokerUnavailable)
@app.exception_handler(BacklogFull)
async def service_unavailable(request: Request, error: Exception) -> JSONResponse:
    retry_after = str(get_settings().retry_after_seconds)
    return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": retry_after})


@app.exception_handler(TransientMailError)
@app.exception_handler(PermanentMailError)
async def mail_provider_failed(request: Request, error: Exception) -> JSONResponse:
    # Only the blocking variant can get here: it is the one that sends during the request.
    return JSONResponse({"detail": str(error)}, status_code=502)
