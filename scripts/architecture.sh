#!/usr/bin/env bash
# Regenerates the layer picture in docs/ARCHITECTURE.md from the imports (dependency-cruiser).
# With --check (CI, scripts/test-all.sh), fails instead when the committed picture is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/architecture.mjs "$@"
