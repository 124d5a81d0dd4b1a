#!/usr/bin/env bash
# Builds the release server and the browser bundle, then prints the bundle's size.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap.sh
cargo leptos build --release
scripts/bundle-size.sh
