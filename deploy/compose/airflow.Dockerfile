# syntax=docker/dockerfile:1
# Airflow's services (api-server, scheduler, dag-processor, triggerer) with the project installed,
# because the DAGs' tasks import services/ and indexing/. Build context: the repository root.
# Airflow and Python match AIRFLOW_VERSION and PYTHON_VERSION in deploy/versions.env.
FROM apache/airflow:3.3.2-python3.11

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

USER airflow
WORKDIR /opt/wenyuan

# The same hash-checked dependency set as the gateway and the tests (it pins apache-airflow==3.3.2,
# so the image's Airflow stays as it is; the image's providers and Postgres driver stay installed).
COPY --chown=airflow:0 requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY --chown=airflow:0 pyproject.toml README.md ./
COPY --chown=airflow:0 schemas ./schemas
COPY --chown=airflow:0 indexing ./indexing
COPY --chown=airflow:0 services ./services
RUN pip install --no-deps . \
    && mkdir -p /opt/airflow/auth

WORKDIR /opt/airflow
