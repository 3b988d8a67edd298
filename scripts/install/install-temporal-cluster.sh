#!/usr/bin/env bash
# Installs what `npm run cluster` and the cluster tests need, and nothing that is already there:
#   - the Temporal server, its SQL schema tool and the Web UI server, built from their Go modules at
#     the versions in cluster/versions.env, into .temporal/cluster/bin;
#   - PostgreSQL from Debian's packages (only its binaries; the project runs an instance of its own).
# The first build takes several minutes (the server is a large Go program); the binaries are also
# kept in a cache outside the project (WEBHOOKS_CACHE_DIR, default ~/.cache/webhooks), so a fresh
# clone on the same machine copies them in seconds.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=../cluster/versions.env
source "$root/cluster/versions.env"
dest="$root/.temporal/cluster/bin"
cache="${WEBHOOKS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webhooks}/temporal-cluster/server-${TEMPORAL_SERVER_VERSION}-ui-${TEMPORAL_UI_VERSION}"

build() { # build NAME MODULE@VERSION
  local name="$1" module="$2" started
  started=$(date +%s)
  echo "Building $name from $module (the server's first build takes minutes) ..." >&2
  local gobin
  gobin="$(mktemp -d)"
  # GOTOOLCHAIN=local: the machine's Go builds these versions; nothing else is downloaded.
  GOBIN="$gobin" GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "$module"
  mkdir -p "$cache"
  install -m 0755 "$gobin"/* "$cache/$name"
  rm -rf "$gobin"
  echo "Built $name in $(( $(date +%s) - started )) s" >&2
}

if [[ ! -x "$cache/temporal-server" ]]; then build temporal-server "go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}"; fi
if [[ ! -x "$cache/temporal-sql-tool" ]]; then build temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}"; fi
if [[ ! -x "$cache/temporal-ui-server" ]]; then build temporal-ui-server "github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}"; fi
mkdir -p "$dest"
for name in temporal-server temporal-sql-tool temporal-ui-server; do
  if ! cmp -s "$cache/$name" "$dest/$name"; then install -m 0755 "$cache/$name" "$dest/$name"; fi
done

if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  bash "$root/scripts/install/apt-install.sh" postgresql "its binaries; the cluster runs an instance of its own"
fi
