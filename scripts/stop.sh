#!/usr/bin/env bash
# Stops what scripts/setup.sh started (and nothing it found already running).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.local/run"
if [ -f "$RUN/temporal.pid" ]; then
  pid=$(cat "$RUN/temporal.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "stopped the Temporal dev server (pid $pid)"
  fi
  rm -f "$RUN/temporal.pid"
fi
if [ -f "$RUN/redis.started" ]; then
  redis-cli -p "$(cat "$RUN/redis.started")" shutdown >/dev/null 2>&1 && echo "stopped Redis"
  rm -f "$RUN/redis.started"
fi
if [ -f "$RUN/postgres.started" ]; then
  pgdata=$(cat "$RUN/postgres.started")
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pgdata" -m fast -w stop >/dev/null && echo "stopped Postgres"
  else
    /usr/lib/postgresql/15/bin/pg_ctl -D "$pgdata" -m fast -w stop >/dev/null && echo "stopped Postgres"
  fi
  rm -f "$RUN/postgres.started"
fi
exit 0
