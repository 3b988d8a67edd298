#!/usr/bin/env bash
# apt-install.sh PACKAGE WHY: installs one of Debian's packages where apt-get can run (as root);
# elsewhere says what is missing and exits 1. Callers check first whether it is already there.
set -euo pipefail
package="$1" why="$2"
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing Debian's $package ($why) ..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
else
  echo "$package is missing ($why): apt-get install $package" >&2
  exit 1
fi
