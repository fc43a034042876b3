import platform

import orjson
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()


@app.get("/health")
def health() -> Response:
    body = {"status": "ok", "python": platform.python_version()}
    return Response(orjson.dumps(body), media_type="application/json")
