#!/usr/bin/env bash
# Build step of xapi-server (the pom runs it at process-resources): installs noVNC from npm, at the
# version package-lock.json here pins, under target/ (never in the sources), and copies its ES modules
# (core/, vendor/) and licence into the server's static files at /console/novnc/.
# Without npm the server still builds and runs; the console's VM screen then says noVNC is missing.
#   usage: copy-novnc.sh <module target directory>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$1"
work="$target/novnc-npm"
dest="$target/classes/META-INF/resources/console/novnc"
if ! command -v npm >/dev/null 2>&1; then
  echo "copy-novnc: WARNING npm is not installed: the console's VM screen will be unavailable" \
    "(apt-get install npm, then rebuild)" >&2
  exit 0
fi
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$work/"
if ! (cd "$work" && npm ls --all >/dev/null 2>&1); then
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
fi
pkg="$work/node_modules/@novnc/novnc"
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$pkg/core" "$pkg/vendor" "$pkg/LICENSE.txt" "$pkg/package.json" "$dest/"
