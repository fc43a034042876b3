from flask import Flask
import markdown

app = Flask(__name__)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
def index() -> str:
    return markdown.markdown("# Cakes\n\nLemon drizzle, *fresh* today.")
