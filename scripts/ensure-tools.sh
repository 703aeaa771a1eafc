#!/usr/bin/env bash
# Installs what building and testing kubecraft needs, skipping what is already there:
# the wasm32 target, trunk, wasm-bindgen-cli at the version Cargo.lock fixes, wasm-opt
# (npm binaryen), playwright-core, and Debian's chromium + chromium-driver.
# Usage: scripts/ensure-tools.sh [web|browser|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

TRUNK_VERSION=0.21.14

log() { printf '[ensure-tools] %s\n' "$*" >&2; }

wasm_bindgen_version() {
  # The version Cargo.lock fixes; the CLI must match it exactly.
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_trunk() {
  if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
    log "installing trunk $TRUNK_VERSION (takes ~10 minutes on 2 cores)"
    cargo install --locked "trunk@$TRUNK_VERSION"
  fi
}

ensure_wasm_bindgen() {
  local want
  want="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    log "installing wasm-bindgen-cli $want"
    # Not --locked: its lock file pins a crate version the registry here does not serve.
    cargo install --force "wasm-bindgen-cli@$want"
  fi
}

ensure_node_modules() {
  if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ]; then
    log "installing npm packages (binaryen, playwright-core)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing chromium and chromium-driver"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
}

case "$what" in
  web) ensure_wasm_target; ensure_wasm_bindgen; ensure_node_modules; ensure_trunk ;;
  browser) ensure_chromium ;;
  all) ensure_wasm_target; ensure_chromium; ensure_wasm_bindgen; ensure_node_modules; ensure_trunk ;;
  *) echo "usage: $0 [web|browser|all]" >&2; exit 2 ;;
esac
