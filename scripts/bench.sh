#!/usr/bin/env bash
# Benchmarks print figures; they never fail on a number (the machines are shared and noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo bench -p cairn-core --features testkit --bench scheduler_week
