from fastapi import FastAPI, Form

app = FastAPI()


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/echo")
def echo(text: str = Form(...)) -> dict:
    return {"text": text}
