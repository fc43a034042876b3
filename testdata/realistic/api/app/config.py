"""Settings read from the environment (and an optional .env file in development)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: str = "development"
    app_version: str = "dev"
    database_url: str = "postgresql+asyncpg://cakes:cakes@127.0.0.1:5432/cakes"
    db_connect_timeout_s: float = 2.0
    pricing_url: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
