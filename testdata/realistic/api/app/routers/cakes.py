"""CRUD for cakes, a CSV import and an NDJSON export."""

import csv
import io
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Cake
from app.schemas import CakeIn, CakeOut

router = APIRouter(prefix="/api/cakes", tags=["cakes"])
Session = Annotated[AsyncSession, Depends(get_session)]


@router.get("")
async def list_cakes(session: Session, limit: int = 50, offset: int = 0) -> list[CakeOut]:
    rows = await session.scalars(select(Cake).order_by(Cake.id).limit(limit).offset(offset))
    return [CakeOut.model_validate(row) for row in rows]


@router.get("/export")
async def export_cakes(session: Session) -> Response:
    # One JSON document per line; orjson keeps large exports cheap.
    rows = await session.scalars(select(Cake).order_by(Cake.id))
    body = b"".join(
        orjson.dumps(CakeOut.model_validate(row).model_dump(), option=orjson.OPT_APPEND_NEWLINE)
        for row in rows
    )
    return Response(body, media_type="application/x-ndjson")


@router.get("/{cake_id}")
async def get_cake(cake_id: int, session: Session) -> CakeOut:
    cake = await session.get(Cake, cake_id)
    if cake is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "cake not found")
    return CakeOut.model_validate(cake)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_cake(body: CakeIn, session: Session) -> CakeOut:
    cake = Cake(**body.model_dump())
    session.add(cake)
    try:
        await session.commit()
    except IntegrityError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, "a cake with that name exists") from error
    await session.refresh(cake)
    return CakeOut.model_validate(cake)


@router.post("/import", status_code=status.HTTP_201_CREATED)
async def import_cakes(file: UploadFile, session: Session) -> dict[str, int]:
    # Columns: name,layers,price_cents (python-multipart parses the upload).
    text = (await file.read()).decode("utf-8")
    rows = [CakeIn.model_validate(row) for row in csv.DictReader(io.StringIO(text))]
    session.add_all(Cake(**row.model_dump()) for row in rows)
    await session.commit()
    return {"imported": len(rows)}
