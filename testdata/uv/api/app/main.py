from fastapi import FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    shop_name: str = "cake shop"


settings = Settings()
app = FastAPI(title=settings.shop_name)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders")
def orders() -> list[dict[str, str]]:
    return [{"id": "1", "cake": "lemon drizzle"}]
