from fastapi import FastAPI

app = FastAPI(title="cake orders")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/queue")
def queue() -> list[str]:
    return ["lemon drizzle", "black forest"]
