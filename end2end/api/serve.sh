# Sourced by the API tests: starts the release `cairn serve` on a fresh data directory and a
# free port with a first admin, makes an API token for it, and stops everything on exit.
# Sets CAIRN_URL, DATA_DIR, REFRESH_TOKEN; `access_token` prints a fresh access token.
set -euo pipefail

: "${CAIRN_BIN:?set CAIRN_BIN to the release cairn binary (scripts/test.sh does)}"
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cairn-api.XXXXXX")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CAIRN_URL="http://127.0.0.1:$PORT"
export CAIRN_DATA_DIR="$DATA_DIR" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" CAIRN_LOG=warn
export CAIRN_ADMIN_EMAIL=ops@example.com CAIRN_ADMIN_PASSWORD='correct horse battery'

stop_cairn() {
  local status=$?
  [ -n "${CAIRN_PID:-}" ] && kill "$CAIRN_PID" 2>/dev/null && wait "$CAIRN_PID" 2>/dev/null || true
  # Cluster nodes outlive Cairn on purpose: stop the ones this run started.
  find "$DATA_DIR" -name node.pid -exec sh -c 'kill -9 "$(cat "$1")" 2>/dev/null' _ {} \; || true
  if [ "$status" -ne 0 ] && [ -f "$DATA_DIR/serve.log" ]; then
    echo "--- serve.log ---" >&2; tail -n 50 "$DATA_DIR/serve.log" >&2
  fi
  rm -rf "$DATA_DIR"
}
trap stop_cairn EXIT

"$CAIRN_BIN" serve >"$DATA_DIR/serve.log" 2>&1 &
CAIRN_PID=$!
for _ in $(seq 300); do
  curl -fs "$CAIRN_URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$CAIRN_PID" 2>/dev/null || { echo "cairn serve exited" >&2; exit 1; }
  sleep 0.1
done
curl -fs "$CAIRN_URL/healthz" >/dev/null

REFRESH_TOKEN=$("$CAIRN_BIN" token create --email "$CAIRN_ADMIN_EMAIL" --description "API tests" 2>/dev/null)

access_token() {
  curl -fsS -d grant_type=refresh_token -d client_id=api-tests \
    --data-urlencode "refresh_token=$REFRESH_TOKEN" "$CAIRN_URL/oauth/token" | jq -r .access_token
}
