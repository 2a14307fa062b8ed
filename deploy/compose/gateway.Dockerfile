# syntax=docker/dockerfile:1
# The gateway (and the `wenyuan` CLI): python:3.11-slim with exactly requirements.lock.
# Build context: the repository root (docker compose -f deploy/compose/docker-compose.yml build).
# Python matches PYTHON_VERSION in deploy/versions.env.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin wenyuan

WORKDIR /app

# Dependencies first (their layer is reused until the lock changes); every file hash-checked.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the project itself, without touching the locked dependencies.
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY indexing ./indexing
COPY services ./services
RUN pip install --no-deps . \
    && rm -rf build *.egg-info

USER wenyuan
EXPOSE 8000
CMD ["uvicorn", "services.gateway.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
