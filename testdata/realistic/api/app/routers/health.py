"""Liveness (no dependencies) and readiness (database reachable) probes."""

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from app.config import get_settings
from app.db import get_engine
from app.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health() -> Health:
    # Liveness only: a container healthcheck must not fail because the database is down.
    return Health(status="ok", version=get_settings().app_version)


@router.get("/ready")
async def ready(response: Response) -> Health:
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="database unavailable", version=get_settings().app_version)
    return Health(status="ready", version=get_settings().app_version)
