#!/usr/bin/env bash
# Builds the app and serves it on http://127.0.0.1:8080 (PORT overrides), installing
# what the build needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh web
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
cargo fetch --locked
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
