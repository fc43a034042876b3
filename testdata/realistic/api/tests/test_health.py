"""Probes answer without a database; readiness reports the database as down."""

from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health_is_ok_without_database() -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_reports_missing_database() -> None:
    response = client.get("/api/ready")
    assert response.status_code == 503


def test_quote_uses_local_rule() -> None:
    response = client.get("/api/quote", params={"layers": 3})
    assert response.json() == {"layers": 3, "price_cents": 1250}
