package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/simulator"
)

// feedingSnippets are the "Feeding push IDs" snippets (docs/feeding.md), the
// tool each needs and the command that runs it from the repository root.
var feedingSnippets = []struct {
	file string
	tool string
	cmd  []string
}{
	{"examples/feeding/register.sh", "curl", []string{"sh", "examples/feeding/register.sh"}},
	{"examples/feeding/register.go", "go", []string{"go", "run", "examples/feeding/register.go"}},
	{"examples/feeding/register.py", "python3", []string{"python3", "examples/feeding/register.py"}},
	{"examples/feeding/Register.java", "java", []string{"java", "examples/feeding/Register.java"}},
}

// needTool fails the test in CI (CI=true), where .ci/run installs every
// tool, and skips it elsewhere, when tool is not installed.
func needTool(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run installs it", tool)
		}
		t.Skipf("%s is not installed: skipping its snippet (in CI this fails)", tool)
	}
}

// TestFeedingSnippetsInDocs checks that docs/feeding.md shows each snippet
// file verbatim, in the fenced block after its <!-- include: FILE --> line.
func TestFeedingSnippetsInDocs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("docs/feeding.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range feedingSnippets {
		want, err := os.ReadFile(s.file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile("(?s)<!-- include: " + regexp.QuoteMeta(s.file) + " -->\n```[a-z]*\n(.*?)```\n").FindStringSubmatch(doc)
		if m == nil {
			t.Errorf("docs/feeding.md has no <!-- include: %s --> followed by a fenced block", s.file)
			continue
		}
		if m[1] != string(want) {
			t.Errorf("docs/feeding.md's block of %s differs from the file: copy the file into it", s.file)
		}
	}
}

// TestFeedingSnippets runs each snippet against an exporter with the
// tracking API and a write token on, with a push answer of the simulators,
// for JPush and Tencent, and checks that the ID is then tracked with a sent
// time.
func TestFeedingSnippets(t *testing.T) {
	t.Parallel()
	const (
		key          = "e2e-secret-key-0123456789"
		appKey       = "7d431e42dfa6a6d693ac2d04"
		masterSecret = "e2e-master-secret-0123456789"
		token        = "e2e-write-token-0123456789"
	)
	tencent, tencentURL := vendor(t, key)
	jpush := simulator.NewJPush(simulator.JPushOptions{Apps: []simulator.JPushApp{{AppKey: appKey, MasterSecret: masterSecret}}, Seed: 3})
	jpushSrv := httptest.NewServer(jpush)
	t.Cleanup(jpushSrv.Close)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tim.key"), key+"\n")
	writeFile(t, filepath.Join(dir, "jpush.secret"), masterSecret+"\n")
	writeFile(t, filepath.Join(dir, "write.token"), token+"\n")
	cfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfg, fmt.Sprintf(`state_directory: %s
tencent_im:
  - sdkappid: 1400000000
    secret_key_file: %s
    endpoint: %s
    push:
      windows: [24h]
jpush:
  - app_key: %s
    master_secret_file: %s
    endpoint: %s
`, filepath.Join(dir, "state"), filepath.Join(dir, "tim.key"), tencentURL, appKey, filepath.Join(dir, "jpush.secret"), jpushSrv.URL))
	e := start(t, "--config.file="+cfg, "--web.enable-tracking-api", "--web.write-token-file="+filepath.Join(dir, "write.token"))

	// The push APIs' answers: JPush docs "REST API v3 Push" (POST /v3/push)
	// and Tencent Chat "全员/标签推送" (im_push).
	msgID, err := jpush.Push(appKey)
	if err != nil {
		t.Fatal(err)
	}
	taskID, err := tencent.Push(1400000000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	vendors := []struct {
		name, env, answer, id, list string
	}{
		{"jpush", "APP_KEY=" + appKey, `{"sendno":"0","msg_id":"` + msgID + `"}`, msgID, "/api/v1/jpush/" + appKey + "/messages"},
		{"tencent", "SDKAPPID=1400000000", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"TaskId":"` + taskID + `"}`, taskID, "/api/v1/tencent_im/1400000000/tasks"},
	}
	for _, s := range feedingSnippets {
		t.Run(filepath.Base(s.file), func(t *testing.T) {
			needTool(t, s.tool)
			for _, v := range vendors {
				cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
				cmd.Env = append(os.Environ(), "EXPORTER_URL=http://"+e.addr, "WRITE_TOKEN="+token, "PUSH_ANSWER="+v.answer, v.env)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s with a %s answer: %v\n%s", s.file, v.name, err, out)
				}
				if !strings.Contains(string(out), `{"added":1,"tracked":1}`) {
					t.Errorf("%s with a %s answer printed %s, want the API's answer {\"added\":1,\"tracked\":1}", s.file, v.name, out)
				}
				code, body := e.get(v.list)
				var list map[string][]struct{ ID, Sent, Origin string }
				if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
					t.Fatalf("GET %s: %d %s %v", v.list, code, body, err)
				}
				var ids []struct{ ID, Sent, Origin string }
				for _, l := range list {
					ids = l
				}
				if len(ids) != 1 || ids[0].ID != v.id || ids[0].Origin != "api" || ids[0].Sent == "" {
					t.Fatalf("after %s with a %s answer, GET %s = %s, want %s tracked with its sent time", s.file, v.name, v.list, body, v.id)
				}
				// Untrack it, so that the next snippet adds it again.
				req, err := http.NewRequest(http.MethodDelete, "http://"+e.addr+v.list+"/"+v.id, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Write-Token", token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("DELETE %s: %s", v.id, resp.Status)
				}
			}
		})
	}
}
