# Hand-written baseline for the realistic `api` service (cake shop: FastAPI, SQLAlchemy, asyncpg).
# Build context: testdata/realistic/api
#   docker buildx build -f testdata/dockerfiles/realistic/api.Dockerfile \
#     --build-arg APP_VERSION=1.4.0 testdata/realistic/api

# Wheels are built on the same base as the runtime so ABI and glibc match.
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_DEFAULT_TIMEOUT=60
WORKDIR /src
# Only the requirements: a code change does not rebuild the wheels.
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --prefer-binary --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app
WORKDIR /app
COPY requirements.txt .
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels -r requirements.txt
# Only what runs in production (no tests, no .env files); code last so the layers above stay cached.
COPY alembic.ini .
COPY migrations/ migrations/
COPY app/ app/
# Build args late: a new version only changes the metadata, never the install layers.
ARG APP_VERSION=dev
ENV APP_ENV=production \
    APP_VERSION=${APP_VERSION} \
    WEB_CONCURRENCY=2
LABEL org.opencontainers.image.title=cake-shop-api \
      org.opencontainers.image.version=${APP_VERSION}
USER app
EXPOSE 8000
STOPSIGNAL SIGTERM
# The slim image has no curl: probe with the standard library (non-2xx/3xx raises, exit 1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", "--proxy-headers"]
