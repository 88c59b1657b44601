#!/bin/sh
# Creates the application's database role on a new PostgreSQL container (docker-compose.yml).
# Its privileges are granted by the server itself when it migrates as the owner.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE auditlog_app LOGIN PASSWORD :'app_password';
SQL
