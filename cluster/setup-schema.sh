#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the server's version.
# Safe to run at every start (each step does nothing when already done). One script for
# `npm run cluster` (scripts/dev/temporal-cluster.ts) and the temporal-schema job of docker-compose.yml.
# Connection from temporal-sql-tool's own variables: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
export SQL_PLUGIN=postgres12
for database in temporal temporal_visibility; do
  case "$database" in
    temporal) schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  SQL_DATABASE="$database" "$tool" create-database
  SQL_DATABASE="$database" "$tool" setup-schema -v 0.0
  SQL_DATABASE="$database" "$tool" update-schema --schema-name "$schema"
done
echo "temporal schema: up to date"
