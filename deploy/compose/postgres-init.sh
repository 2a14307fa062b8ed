#!/bin/sh
# First start of the database server only (docker-entrypoint-initdb.d): the gateway's own role and
# database for organisations, keys, grants and the audit log, apart from Airflow's metadata.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$WENYUAN_DB_PASSWORD" <<'SQL'
CREATE ROLE wenyuan LOGIN PASSWORD :'password';
CREATE DATABASE wenyuan OWNER wenyuan;
SQL
