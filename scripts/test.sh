#!/usr/bin/env bash
# Runs every check and test: formatting, lints (server and browser builds), unit and
# integration tests (SQLite and a throwaway PostgreSQL), then the Playwright journeys in
# Chromium against the release build. Ends with one line: "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/bootstrap.sh

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")
# Its own folder: as root the server runs as 'postgres', which cannot enter $log_dir (mode 0700).
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-pg.XXXXXX")
cleanup() { scripts/test-postgres.sh stop "$pg_dir"; rm -rf "$log_dir"; }
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }

# Build artifacts nobody has used for a week are stale versions: the shared target folder
# would otherwise only grow.
find "$CARGO_TARGET_DIR" -path '*/deps/*' -type f -atime +7 -delete 2>/dev/null || true
# Test executables from other checkouts or older code (each clone path hashes anew) are big and
# never run again; cargo relinks any it still needs.
find "$CARGO_TARGET_DIR"/debug/deps -maxdepth 1 -type f -perm -u+x -size +50M -mmin +180 -delete 2>/dev/null || true

step "cargo fmt --check"
cargo fmt --all --check

step "no import circle inside a crate"
python3 scripts/module-circles.py

step "clippy: server build (ssr) and every crate, warnings denied"
# testkit too, so the benchmarks (which need it) are linted and kept compiling.
cargo clippy --workspace --all-targets --features cairn/ssr,cairn-core/testkit -- -D warnings
step "clippy: browser build (hydrate, wasm32), warnings denied"
cargo clippy -p cairn -p cairn-model --lib --target wasm32-unknown-unknown \
  --no-default-features --features cairn/hydrate -- -D warnings

step "unit and integration tests (SQLite and PostgreSQL)"
CAIRN_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$pg_dir")
export CAIRN_TEST_POSTGRES_URL CAIRN_REQUIRE_POSTGRES=1
# The snapshot repository's S3 tests start s3s-fs (installed by bootstrap) themselves.
export CAIRN_REQUIRE_S3=1
# The e-mail integration's test mails an aiosmtpd (PyPI, in the venv bootstrap made).
export CAIRN_TEST_PYTHON="$CAIRN_CACHE/api-venv/bin/python" CAIRN_REQUIRE_SMTP=1
# A hung test must fail the run, not eat CI's 90 minutes.
timeout 1800 cargo test --workspace --features cairn/ssr 2>&1 | tee "$log_dir/cargo-test.log"

step "release build of the console"
scripts/build.sh

step "Playwright journeys in Chromium (JavaScript on, and off for read-only pages)"
export CAIRN_BIN="$CARGO_TARGET_DIR/release/cairn" CAIRN_SITE_ROOT="$PWD/target/site"
(cd end2end && npx playwright test) 2>&1 | tee "$log_dir/playwright.log"

step "REST API: the seed flow with curl, then fuzzing from the OpenAPI document (no 5xx)"
api_passed=0
end2end/api/seed_flow.sh && api_passed=$((api_passed + 1))
SCHEMATHESIS="$CAIRN_CACHE/api-venv/bin/st" end2end/api/fuzz.sh && api_passed=$((api_passed + 1))
api_failed=$((2 - api_passed))

# One closing line over both runners, for people and for CI's reader.
passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log_dir/cargo-test.log")
failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log_dir/cargo-test.log")
pw_passed=$(awk '$2 == "passed" && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' "$log_dir/playwright.log")
pw_failed=$(awk '$2 == "failed" && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' "$log_dir/playwright.log")
echo
echo "$((passed + pw_passed + api_passed)) passed, $((failed + pw_failed + api_failed)) failed"
[ "$api_failed" -eq 0 ]
