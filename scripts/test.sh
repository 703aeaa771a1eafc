#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, native tests (engine, transcript,
# web crate logic), the release web build, and browser tests in headless Chromium.
# Installs what it needs first. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh all
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "native tests"
cargo test --workspace --locked
step "web build (trunk, release)"
cargo fetch --locked
trunk build --release
step "browser tests (headless Chromium)"
node --test tests/browser/
