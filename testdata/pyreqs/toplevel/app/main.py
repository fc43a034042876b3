"""A small catalogue API: SQLAlchemy on SQLite, orjson responses."""

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)


engine = create_engine("sqlite:///:memory:")
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add_all([Item(name="teapot"), Item(name="kettle")])
    session.commit()

app = FastAPI(default_response_class=ORJSONResponse)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/items")
def items() -> list:
    with Session(engine) as session:
        return [{"id": i.id, "name": i.name} for i in session.scalars(select(Item))]
