#!/usr/bin/env bash
# Benchmarks print figures; they never fail on a number (the machines are shared and noisy).
#   make bench                      everything
#   scripts/bench.sh scheduler      the scheduler's simulated week only
#   scripts/bench.sh snapshot       the snapshot repository against restic only
#   scripts/bench.sh console        the backups page's first page rendered with 100 and with
#                                   10 000 backups (and the ratio), and the browser bundle's size
#   scripts/bench.sh load           200 API clients for 60 s while backups and restores run
#   scripts/bench.sh live           server CPU with 10 tabs on a cluster page: polling vs /live
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
which=${1:-all}

if [ "$which" = all ] || [ "$which" = scheduler ]; then
  cargo bench -p cairn-core --features testkit --bench scheduler_week
fi

if [ "$which" = all ] || [ "$which" = console ]; then
  cargo bench --features ssr --bench backups_page
  scripts/build.sh | grep '^bundle:'
fi

if [ "$which" = all ] || [ "$which" = load ]; then
  # wrk from Debian: the load tool the figures are compared with.
  if ! command -v wrk >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk
  fi
  cargo bench --features ssr --bench load
fi

if [ "$which" = all ] || [ "$which" = live ]; then
  scripts/build.sh >/dev/null
  CAIRN_BIN="$CARGO_TARGET_DIR/release/cairn" end2end/api/measure_live.sh
fi

if [ "$which" = all ] || [ "$which" = snapshot ]; then
  # restic from Debian (the tool users compare with) and GNU time for peak memory.
  missing=()
  command -v restic >/dev/null || missing+=(restic)
  [ -x /usr/bin/time ] || missing+=(time)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  scripts/bootstrap.sh >/dev/null
  scripts/build.sh >/dev/null   # the release cairn binary, as users run it
  CAIRN_BIN="$CARGO_TARGET_DIR/release/cairn" cargo bench -p cairn-snapshot --bench vs_restic
fi
