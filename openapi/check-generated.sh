#!/usr/bin/env sh
# Fails (exit 1) when the committed SDK types differ from what openapi/openapi.yaml generates.
set -eu
cd "$(dirname "$0")/.."

pnpm --silent run generate >/dev/null

if ! git diff --exit-code --stat -- 'packages/node/src/schema*' ||
  [ -n "$(git ls-files --others --exclude-standard -- 'packages/node/src/schema*')" ]; then
  echo "check-generated: packages/node/src/schema.d.ts is out of date with openapi/openapi.yaml." >&2
  echo "check-generated: run 'pnpm generate' and commit the result." >&2
  exit 1
fi
echo "check-generated: SDK types match openapi/openapi.yaml."
