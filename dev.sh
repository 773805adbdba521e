#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh start [--once]   set up what is missing, start the stack and run the main job
#   ./dev.sh test             set up what is missing and run the whole test suite
#   ./dev.sh stop             stop what set-up started
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cmd="${1:-}"; shift || true
case "$cmd" in
  start) bash scripts/setup.sh; exec node bin/analytics.js start "$@" ;;
  test)  bash scripts/setup.sh; exec npm test ;;
  setup) exec bash scripts/setup.sh ;;
  stop)  exec bash scripts/stop.sh ;;
  *) echo "usage: ./dev.sh start [--once] | test | setup | stop" >&2; exit 2 ;;
esac
