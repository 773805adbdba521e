#!/usr/bin/env bash
# `prisma generate` only needs the schema engine's path to exist (it does not run it); the
# engine itself would be downloaded, which fails offline. Point it at a placeholder when absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${PRISMA_SCHEMA_ENGINE_BINARY:-}" ]; then
  mkdir -p .local
  : >.local/no-schema-engine
  export PRISMA_SCHEMA_ENGINE_BINARY="$PWD/.local/no-schema-engine"
fi
exec npx prisma generate
