#!/usr/bin/env bash
# npm run cluster: installs what is missing (npm packages, the Temporal server, schema tool and UI
# built from their Go modules, PostgreSQL), then runs the whole stack on a real Temporal cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install/setup.sh
bash scripts/install/install-temporal-cluster.sh
exec node --import tsx scripts/dev/cluster.ts
