#!/usr/bin/env bash
# The product page's flow, as a user's script would run it with curl against a started
# server: create a backup, get it until available, create a cluster from it, get the cluster
# until available, create a job, list jobs, list history. Any step that fails stops the run.
set -euo pipefail
cd "$(dirname "$0")"
source ./serve.sh

TOKEN=$(access_token)
api() { # METHOD PATH [JSON]
  local args=(-fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
  [ $# -ge 3 ] && args+=(-d "$3")
  curl "${args[@]}" "$CAIRN_URL$2"
}
until_status() { # WHAT PATH KEY STATUS
  for _ in $(seq 600); do
    status=$(api GET "$2" | jq -r ".$3.status")
    [ "$status" = "$4" ] && return 0
    [ "$status" = defunct ] && { echo "$1 became defunct" >&2; return 1; }
    sleep 0.2
  done
  echo "$1 is still $status" >&2; return 1
}
step() { printf '  %s\n' "$*"; }

ORG=$(api GET /resources/v1/organizations | jq -r '.organizations[0].id')
PROJECT=$(api GET "/resources/v1/organizations/$ORG/projects" | jq -r '.projects[0].id')
MESDB="/mesdb/v1/organizations/$ORG/projects/$PROJECT"
NETWORK=$(api GET "/infra/v1/organizations/$ORG/projects/$PROJECT/networks" \
  | jq -r '[.networks[] | select(.region == "local-1")][0].id')

step "a source cluster to back up"
SOURCE=$(api POST "$MESDB/clusters" "$(jq -nc --arg n "$NETWORK" '{description: "orders", networkId: $n,
  topology: "single-node", instanceType: "F1", diskSizeGb: 8, diskType: "local-ssd",
  serverVersion: "24.10", projectionLevel: "off"}')" | jq -r .id)
until_status "cluster $SOURCE" "$MESDB/clusters/$SOURCE" cluster available

step "create backup"
BACKUP=$(api POST "$MESDB/backups" "$(jq -nc --arg c "$SOURCE" \
  '{sourceClusterId: $c, description: "on demand backup"}')" | jq -r .id)
step "get it until available"
until_status "backup $BACKUP" "$MESDB/backups/$BACKUP" backup available
[ "$(api GET "$MESDB/backups/$BACKUP" | jq -r .backup.linkedResource)" = "" ]

step "create a cluster from it"
RESTORED=$(api POST "$MESDB/clusters" "$(jq -nc --arg n "$NETWORK" --arg b "$BACKUP" '{description: "restore",
  sourceBackupId: $b, instanceType: "F1", diskSizeGb: 10, diskType: "local-ssd", networkId: $n,
  projectionLevel: "off", serverVersion: "24.10", topology: "single-node"}')" | jq -r .id)
step "get the cluster until available"
until_status "cluster $RESTORED" "$MESDB/clusters/$RESTORED" cluster available
[ "$(api GET "$MESDB/clusters/$RESTORED" | jq -r .cluster.sourceBackupId)" = "$BACKUP" ]

ORCHESTRATE="/orchestrate/v1/organizations/$ORG/projects/$PROJECT"
step "create a job"
JOB=$(api POST "$ORCHESTRATE/jobs" "$(jq -nc --arg c "$SOURCE" '{type: "ScheduledBackup",
  description: "My Hourly Backup", schedule: "0 */1 * * *",
  data: {clusterId: $c, description: "{cluster} Hourly Backup {datetime:RFC3339}", maxBackupCount: 2}}')" \
  | jq -r .id)
step "list jobs"
[ "$(api GET "$ORCHESTRATE/jobs" | jq -r --arg j "$JOB" '[.jobs[] | select(.id == $j)] | length')" = 1 ]
step "run it now and list its history"
HISTORY=$(api POST "$ORCHESTRATE/jobs/$JOB/run" | jq -r .historyId)
for _ in $(seq 600); do
  status=$(api GET "$ORCHESTRATE/history?jobId=$JOB" | jq -r --arg h "$HISTORY" '.items[] | select(.id == $h) | .status')
  [ "$status" = succeeded ] && break
  sleep 0.2
done
[ "$status" = succeeded ] || { echo "run $HISTORY is $status" >&2; exit 1; }

step "without a token: 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$CAIRN_URL$MESDB/backups")" = 401 ]

step "a viewer made with the CLI reads but may not back up: 403"
printf '%s\n' 'viewer password 1' \
  | "$CAIRN_BIN" user create --email viewer@example.com --role viewer --password-stdin 2>/dev/null
VIEWER_REFRESH=$("$CAIRN_BIN" token create --email viewer@example.com 2>/dev/null)
VIEWER=$(curl -fsS -d grant_type=refresh_token -d client_id=api-tests \
  --data-urlencode "refresh_token=$VIEWER_REFRESH" "$CAIRN_URL/oauth/token" | jq -r .access_token)
[ "$(curl -fsS -H "Authorization: Bearer $VIEWER" "$CAIRN_URL$MESDB/backups" | jq '.backups | length')" -ge 1 ]
code=$(curl -s -o "$DATA_DIR/forbidden.json" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
  -H 'Content-Type: application/json' -d "{\"sourceClusterId\": \"$SOURCE\", \"description\": \"x\"}" \
  "$CAIRN_URL$MESDB/backups")
[ "$code" = 403 ] || { echo "a viewer's backup got $code" >&2; exit 1; }
jq -e '.detail | contains("needs operator")' "$DATA_DIR/forbidden.json" >/dev/null

step "cairn migrate on a fresh database"
CAIRN_DATA_DIR="$DATA_DIR/migrated" "$CAIRN_BIN" migrate | grep -q "has this version's schema"
echo "api script: the seed flow passed"
