"""A tiny FastAPI backend used as layercake's example service."""
