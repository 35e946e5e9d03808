// Command register registers the ID of one push with imstats_exporter's
// tracking API. It reads
//
//	PUSH_ANSWER   the body the push API answered: JPush POST /v3/push
//	              {"sendno":"0","msg_id":"1613113584"} (set APP_KEY), or Tencent
//	              v4/all_member_push/im_push {"ActionStatus":"OK",…,"TaskId":"…"} (set SDKAPPID)
//	EXPORTER_URL  default http://localhost:9787; WRITE_TOKEN the write token, if any
//
// In a service that sends pushes, call register with the answer's body
// right after each push.
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

func main() {
	exporter := cmp.Or(os.Getenv("EXPORTER_URL"), "http://localhost:9787")
	if err := register(exporter, os.Getenv("WRITE_TOKEN"), os.Getenv("APP_KEY"), os.Getenv("SDKAPPID"), []byte(os.Getenv("PUSH_ANSWER"))); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// register posts the ID of a JPush push answer (appKey set) or of a Tencent
// im_push answer to the exporter, retrying while it answers 429 or 503: its
// 200 means the ID is saved.
func register(exporter, token, appKey, sdkappid string, pushAnswer []byte) error {
	var answer struct {
		MsgID  json.RawMessage `json:"msg_id"` // JPush: a string of digits
		TaskID json.RawMessage `json:"TaskId"` // Tencent
	}
	if err := json.Unmarshal(pushAnswer, &answer); err != nil {
		return fmt.Errorf("push answer: %w", err)
	}
	path, key, id := "/api/v1/tencent_im/"+url.PathEscape(sdkappid)+"/tasks", "task_ids", answer.TaskID
	if appKey != "" {
		path, key, id = "/api/v1/jpush/"+url.PathEscape(appKey)+"/messages", "msg_ids", answer.MsgID
	}
	if id == nil {
		return fmt.Errorf("no ID in the push answer %s", pushAnswer)
	}
	body, err := json.Marshal(map[string]any{key: []json.RawMessage{id}, "sent_at": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, exporter+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-Write-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			fmt.Printf("%s\n", reply)
			return nil
		case (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 5:
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		default:
			return fmt.Errorf("%s: %s %s", path, resp.Status, reply)
		}
	}
}
