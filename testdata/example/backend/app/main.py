"""HTTP API: a health probe and a small read-only item catalogue."""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="layercake example api")


class Item(BaseModel):
    id: int
    name: str
    price_cents: int


ITEMS = [
    Item(id=1, name="sponge", price_cents=350),
    Item(id=2, name="frosting", price_cents=120),
    Item(id=3, name="candles", price_cents=80),
]


@app.get("/api/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/items")
def list_items(max_price_cents: int | None = None) -> list[Item]:
    if max_price_cents is None:
        return ITEMS
    return [item for item in ITEMS if item.price_cents <= max_price_cents]


@app.get("/api/items/{item_id}")
def get_item(item_id: int) -> Item:
    for item in ITEMS:
        if item.id == item_id:
            return item
    raise HTTPException(status_code=404, detail="item not found")
