#!/usr/bin/env bash
# npm run dev: installs what is missing, then runs Temporal's dev server, the worker and the API.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install/setup.sh
exec node --import tsx scripts/dev/dev.ts
