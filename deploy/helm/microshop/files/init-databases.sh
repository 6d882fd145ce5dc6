#!/usr/bin/env bash
# init-databases.sh: run by the postgres image once, when its data volume is new. Each service
# gets its own login role and its own database, owned by that role; no other role may connect to
# it. Passwords come from <SERVICE>_DB_PASSWORD (see compose.yaml).
set -Eeo pipefail

for service in users catalog orders payments; do
  password_var="${service^^}_DB_PASSWORD"
  password="${!password_var:?$password_var is not set}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    --set name="$service" --set password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  echo "init-databases: database and role $service"
done
