"""Optional call to an external pricing service (httpx), used by the quote endpoint."""

import httpx

from app.config import get_settings


async def quote_cents(layers: int) -> int:
    # Without a pricing service configured, a flat local rule applies.
    url = get_settings().pricing_url
    if url is None:
        return 500 + 250 * layers
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url, params={"layers": layers})
        response.raise_for_status()
        return int(response.json()["price_cents"])
