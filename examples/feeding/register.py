#!/usr/bin/env python3
"""Registers the ID of one push with imstats_exporter's tracking API.

  PUSH_ANSWER   the body the push API answered: JPush POST /v3/push
                {"sendno":"0","msg_id":"1613113584"} (set APP_KEY), or Tencent
                v4/all_member_push/im_push {"ActionStatus":"OK",...,"TaskId":"..."} (set SDKAPPID)
  EXPORTER_URL  default http://localhost:9787; WRITE_TOKEN the write token, if any
"""
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def register(exporter, token, push_answer):
    """Posts the ID of a push answer, retrying 429 and 503: 200 means it is saved."""
    answer = json.loads(push_answer)
    if os.environ.get("APP_KEY"):
        path = "/api/v1/jpush/%s/messages" % urllib.parse.quote(os.environ["APP_KEY"], safe="")
        key, ident = "msg_ids", answer.get("msg_id")  # JPush: a string of digits
    else:
        path = "/api/v1/tencent_im/%s/tasks" % urllib.parse.quote(os.environ["SDKAPPID"], safe="")
        key, ident = "task_ids", answer.get("TaskId")
    if ident is None:
        raise ValueError("no ID in the push answer %s" % push_answer)
    sent_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({key: [ident], "sent_at": sent_at}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Write-Token"] = token
    for attempt in range(1, 6):
        req = urllib.request.Request(exporter + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.read().decode()
        except urllib.error.HTTPError as err:
            if err.code not in (429, 503) or attempt == 5:
                raise RuntimeError("%s: %d %s" % (path, err.code, err.read().decode())) from None
            time.sleep(max(int(err.headers.get("Retry-After") or 1), 1))


if __name__ == "__main__":
    try:
        print(register(os.environ.get("EXPORTER_URL") or "http://localhost:9787",
                       os.environ.get("WRITE_TOKEN"), os.environ["PUSH_ANSWER"]))
    except Exception as err:  # one line on stderr and a failed exit, as the other snippets
        sys.exit(str(err))
