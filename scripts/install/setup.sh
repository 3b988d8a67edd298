#!/usr/bin/env bash
# Installs what is missing, and nothing that is already there: npm packages (from the lock file)
# and the pinned Temporal binaries. Safe to run any number of times; fast when all is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "Installing npm packages ..." >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/install/install-temporal.sh

# The standardwebhooks package from PyPI, pinned: the tests verify signatures with it, a verifier
# nobody here wrote (test/support/verifiers.ts). Into the project's git-ignored .tools/ folder.
if [[ ! -d .tools/python/standardwebhooks ]]; then
  echo "Installing the Python Standard Webhooks verifier ..." >&2
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target .tools/python standardwebhooks==1.1.0
fi

# Debian's Chromium, for the browser test of the Temporal Web UI (playwright-core drives it;
# no browser is downloaded). Installed only where it is missing and apt-get can run.
if [[ ! -x /usr/bin/chromium ]]; then
  bash scripts/install/apt-install.sh chromium "for the browser tests; without it they fail" || true
fi
