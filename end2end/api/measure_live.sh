#!/usr/bin/env bash
# Prints (never asserts) the server's CPU time per minute with ten tabs open on a cluster's
# page: first as the console was (each tab fetching the page every 2 s), then as it is (each
# tab holding the /live event stream, reading the page only when told), with the idle server
# first as the baseline (supervision probes the cluster every 3 s in every case).
#   CAIRN_BIN=… end2end/api/measure_live.sh        (MEASURE_SECONDS, default 60, per phase)
set -euo pipefail
cd "$(dirname "$0")"
source ./serve.sh
SECONDS_PER_PHASE=${MEASURE_SECONDS:-60}
TABS=10

TOKEN=$(access_token)
api() { # METHOD PATH [JSON]
  local args=(-fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
  [ $# -ge 3 ] && args+=(-d "$3")
  curl "${args[@]}" "$CAIRN_URL$2"
}
ORG=$(api GET /resources/v1/organizations | jq -r '.organizations[0].id')
PROJECT=$(api GET "/resources/v1/organizations/$ORG/projects" | jq -r '.projects[0].id')
MESDB="/mesdb/v1/organizations/$ORG/projects/$PROJECT"
NETWORK=$(api GET "/infra/v1/organizations/$ORG/projects/$PROJECT/networks" \
  | jq -r '[.networks[] | select(.region == "local-1")][0].id')
CLUSTER=$(api POST "$MESDB/clusters" "$(jq -nc --arg n "$NETWORK" '{description: "orders", networkId: $n,
  topology: "single-node", instanceType: "F1", diskSizeGb: 8, diskType: "local-ssd",
  serverVersion: "24.10", projectionLevel: "off"}')" | jq -r .id)
for _ in $(seq 300); do
  [ "$(api GET "$MESDB/clusters/$CLUSTER" | jq -r .cluster.status)" = available ] && break
  sleep 0.2
done

JAR="$DATA_DIR/cookies"
curl -fsS -c "$JAR" -o /dev/null --data-urlencode "email=$CAIRN_ADMIN_EMAIL" \
  --data-urlencode "password=$CAIRN_ADMIN_PASSWORD" "$CAIRN_URL/login"
PAGE="$CAIRN_URL/clusters/$CLUSTER"
curl -fsS -b "$JAR" -o /dev/null "$PAGE"

ticks() { awk '{print $14 + $15}' "/proc/$CAIRN_PID/stat"; }
per_second=$(getconf CLK_TCK)
measure() { # LABEL: runs while the phase's clients run, prints CPU seconds per minute
  local before after
  before=$(ticks)
  sleep "$SECONDS_PER_PHASE"
  after=$(ticks)
  awk -v t=$((after - before)) -v hz="$per_second" -v s="$SECONDS_PER_PHASE" -v l="$1" \
    'BEGIN { printf "live: %-34s %6.2f s CPU per minute\n", l, t / hz * 60 / s }'
}

measure "idle (no tab open)"

pids=()
for _ in $(seq $TABS); do
  (while true; do curl -fsS -b "$JAR" -o /dev/null "$PAGE" || true; sleep 2; done) &
  pids+=($!)
done
measure "$TABS tabs polling the page every 2 s"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true

pids=()
for i in $(seq $TABS); do
  (curl -fsS -N -b "$JAR" "$CAIRN_URL/live" > "$DATA_DIR/events.$i" 2>/dev/null || true) &
  pids+=($!)
done
measure "$TABS tabs following /live"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
events=$(cat "$DATA_DIR"/events.* | grep -c '^event: change' || true)
echo "live: $events change events reached the $TABS streams in ${SECONDS_PER_PHASE} s (each would read the page once)"
