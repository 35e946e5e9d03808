#!/bin/sh
# Registers the ID of one push with imstats_exporter's tracking API.
#   PUSH_ANSWER  the body the push API answered: JPush POST /v3/push
#                {"sendno":"0","msg_id":"1613113584"} (set APP_KEY), or Tencent
#                v4/all_member_push/im_push {"ActionStatus":"OK",…,"TaskId":"…"} (set SDKAPPID)
#   EXPORTER_URL default http://localhost:9787; WRITE_TOKEN the write token, if any
set -eu
exporter=${EXPORTER_URL:-http://localhost:9787}
if [ -n "${APP_KEY:-}" ]; then
  path=/api/v1/jpush/$APP_KEY/messages key=msg_ids
  id=$(printf '%s' "$PUSH_ANSWER" | sed -nE 's/.*"msg_id"[[:space:]]*:[[:space:]]*"?([0-9]+).*/\1/p')
else
  path=/api/v1/tencent_im/$SDKAPPID/tasks key=task_ids
  id=$(printf '%s' "$PUSH_ANSWER" | sed -nE 's/.*"TaskId"[[:space:]]*:[[:space:]]*"([A-Za-z0-9_-]+)".*/\1/p')
fi
if [ -z "$id" ]; then
  echo "no ID in the push answer: $PUSH_ANSWER" >&2
  exit 1
fi
# The exporter answers 200 once the ID is saved; curl retries its 429 and 503.
curl -sS --fail-with-body --retry 5 -H 'Content-Type: application/json' \
  ${WRITE_TOKEN:+-H "X-Write-Token: $WRITE_TOKEN"} \
  -d "{\"$key\":[\"$id\"],\"sent_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" \
  "$exporter$path"
