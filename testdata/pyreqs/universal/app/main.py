import click  # noqa: F401  (pinned twice under disjoint markers in requirements.txt)
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
