#!/usr/bin/env bash
# Runs Cairn on embedded defaults: builds what is missing, then serves the console.
# Any CAIRN_* / LEPTOS_* variable set in the environment is passed through (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/build.sh
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$PWD/target/site}"
exec "$CARGO_TARGET_DIR/release/cairn" serve
