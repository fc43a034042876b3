"""Cake shop API: a realistic FastAPI service used to benchmark layercake."""
