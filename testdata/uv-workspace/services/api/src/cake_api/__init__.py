from cake_common import MENU
from fastapi import FastAPI

app = FastAPI(title="cake api")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/menu")
def menu() -> list[dict[str, object]]:
    return [cake.model_dump() for cake in MENU]


def main() -> None:
    import uvicorn

    uvicorn.run(app, host="0.0.0.0", port=8000)
