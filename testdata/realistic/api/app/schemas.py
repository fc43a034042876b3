"""Request and response bodies."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CakeIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    layers: int = Field(default=1, ge=1, le=12)
    price_cents: int = Field(ge=0)


class CakeOut(CakeIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class Health(BaseModel):
    status: str
    version: str
