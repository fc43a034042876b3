"""The ASGI application: `uvicorn app.main:app`."""

from fastapi import FastAPI, Query

from app.config import get_settings
from app.pricing import quote_cents
from app.routers import cakes, health

app = FastAPI(
    title="Cake shop API",
    version=get_settings().app_version,
)
app.include_router(health.router)
app.include_router(cakes.router)


@app.get("/api/quote")
async def quote(layers: int = Query(ge=1, le=12)) -> dict[str, int]:
    return {"layers": layers, "price_cents": await quote_cents(layers)}
