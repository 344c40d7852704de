#!/bin/sh
# Creates the warehouse database and its owner next to Airflow's metadata DB.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE advocacy LOGIN PASSWORD '${WAREHOUSE_PASSWORD}';
CREATE DATABASE advocacy OWNER advocacy;
SQL
