#!/usr/bin/env bash
# Fuzzes every operation of the served OpenAPI document with schemathesis (installed from
# PyPI by scripts/bootstrap.sh) and fails on any 5xx answer, or an answer whose status, content
# type or body the document does not describe. The path ids are real ones (the default
# organization and project, a real cluster, backup and job), so generated bodies reach the use
# cases instead of stopping at "not found".
set -euo pipefail
cd "$(dirname "$0")"
: "${SCHEMATHESIS:?set SCHEMATHESIS to the st command (scripts/test.sh does)}"
source ./serve.sh

TOKEN=$(access_token)
get() { curl -fsS -H "Authorization: Bearer $TOKEN" "$CAIRN_URL$1"; }
ORG=$(get /resources/v1/organizations | jq -r '.organizations[0].id')
PROJECT=$(get "/resources/v1/organizations/$ORG/projects" | jq -r '.projects[0].id')
NETWORK=$(get "/infra/v1/organizations/$ORG/projects/$PROJECT/networks" | jq -r '.networks[0].id')
CLUSTER=$(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg n "$NETWORK" '{description: "fuzzed", networkId: $n, topology: "single-node",
      instanceType: "F1", diskSizeGb: 8, diskType: "local-ssd", serverVersion: "24.10",
      projectionLevel: "off"}')" \
  "$CAIRN_URL/mesdb/v1/organizations/$ORG/projects/$PROJECT/clusters" | jq -r .id)

MESDB="/mesdb/v1/organizations/$ORG/projects/$PROJECT"
post() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" "$CAIRN_URL$1"; }
for _ in $(seq 300); do
  [ "$(get "$MESDB/clusters/$CLUSTER" | jq -r .cluster.status)" = available ] && break
  sleep 0.2
done
BACKUP=$(post "$MESDB/backups" "{\"sourceClusterId\": \"$CLUSTER\", \"description\": \"fuzzed\"}" | jq -r .id)
JOB=$(post "/orchestrate/v1/organizations/$ORG/projects/$PROJECT/jobs" "$(jq -nc --arg c "$CLUSTER" \
  '{type: "ScheduledBackup", description: "fuzzed", schedule: "0 3 * * *",
    data: {clusterId: $c, description: "{cluster}", maxBackupCount: 2}}')" | jq -r .id)

# An integration whose webhook nobody listens on (a closed loopback port): fuzzed calls reach
# it without sending anything anywhere. `testIntegration` is not fuzzed: it sends to whatever
# address the fuzzer last wrote, and a made-up host name costs a DNS time-out per example.
INTEGRATION=$(post "/integrate/v1/organizations/$ORG/projects/$PROJECT/integrations" \
  '{"description": "fuzzed", "source": "notifications",
    "data": {"sink": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123"}}' \
  | jq -r .id)

cat >"$DATA_DIR/schemathesis.toml" <<TOML
[parameters]
organizationId = "$ORG"
projectId = "$PROJECT"
clusterId = "$CLUSTER"
networkId = "$NETWORK"
backupId = "$BACKUP"
jobId = "$JOB"
integrationId = "$INTEGRATION"
TOML

"$SCHEMATHESIS" --config-file "$DATA_DIR/schemathesis.toml" run "$CAIRN_URL/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "${FUZZ_EXAMPLES:-40}" \
  --seed 7 \
  --exclude-operation-id testIntegration \
  --workers 1 \
  --no-color
echo "api fuzzing: no 5xx"
