#!/usr/bin/env bash
# The fault campaign (end2end/process/fault_campaign.rs): trials that SIGKILL cairn serve, a
# node or the S3 server at a random moment of a backup, restore, prune + gc, resize or
# provisioning, each followed by the invariant checks. Prints every trial, the violations
# (goal: 0) and the seed to re-run one. `make test` runs the short form (one trial of each).
#   CAIRN_FAULT_TRIALS=50 (default here)   CAIRN_FAULT_SEED=1 (the first trial's seed)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap.sh >/dev/null
export CAIRN_FAULT_TRIALS="${CAIRN_FAULT_TRIALS:-50}" CAIRN_REQUIRE_S3=1
cargo test --features ssr --test fault_campaign -- --nocapture
