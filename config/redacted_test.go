package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRedactedLoadsBack loads /config's output as a configuration (the
// secret files still in place) and compares it with what produced it.
func TestRedactedLoadsBack(t *testing.T) {
	t.Parallel()
	// A relative name: Load makes the paths absolute, so the output loads
	// from any directory.
	orig, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := orig.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "Redacted", string(out))
	back, err := Parse(out, t.TempDir())
	if err != nil {
		t.Fatalf("Redacted output does not load: %v\n%s", err, out)
	}

	// An inline secret reads <secret>; one from a file is read again.
	inline := []*Secret{&back.TencentIM[1].SecretKey, &back.TencentIM[1].CallbackToken, &back.JPush[1].MasterSecret, &back.JPushGroups[1].GroupSecret}
	want := []Secret{orig.TencentIM[1].SecretKey, orig.TencentIM[1].CallbackToken, orig.JPush[1].MasterSecret, orig.JPushGroups[1].GroupSecret}
	for i, s := range inline {
		if string(*s) != "<secret>" {
			t.Errorf("inline secret %d loads back as %q, want <secret>", i, string(*s))
		}
		*s = want[i]
	}
	if string(back.TencentIM[0].SecretKey) != string(orig.TencentIM[0].SecretKey) || string(back.TencentIM[0].CallbackToken) != string(orig.TencentIM[0].CallbackToken) {
		t.Error("the secret files were not read again")
	}
	again, err := back.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("Redacted of the loaded output differs:\n%s\nwant:\n%s", again, out)
	}
	orig.durationText, back.durationText = nil, nil
	if !reflect.DeepEqual(back, orig) {
		t.Errorf("loaded back:\n%+v\nwant:\n%+v", *back, *orig)
	}
}

// TestRedactedDurations checks that durations print as written, and the
// defaults as 7d and 24h, not model.Duration's 1w and 1d.
func TestRedactedDurations(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(`
tencent_im:
  - sdkappid: 1
    secret_key: s
    push: {windows: [1d, 168h]}
tracking: {settled_refresh_interval: 1d, file_check_interval: 60s}
limits: {backoff_max: 1440m}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- 1d\n", "- 168h\n",
		"settled_refresh_interval: 1d\n", "file_check_interval: 60s\n", "backoff_max: 1440m\n",
		"max_age: 7d\n", "usersig_expire: 24h\n", "unavailable_retry_interval: 6h\n",
		"request_timeout: 30s\n", "scrape_timeout_margin: 500ms\n", "tencent_operations: 10m\n",
		"secret_key: <secret>\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Redacted() lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"1w", "secret_key_file"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("Redacted() has %q:\n%s", bad, out)
		}
	}
}

// TestRedactedSecretFileOnly checks that a secret given as a file shows
// only as its *_file key.
func TestRedactedSecretFileOnly(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "secret_key"); n != 2 {
		t.Errorf("secret_key appears %d times, want 2 (one file, one inline):\n%s", n, out)
	}
	for _, pair := range [][2]string{
		{"secret_key_file: " + testdataDir(t) + "/tim.key\n", "    secret_key: <secret>\n    region: singapore"},
		{"master_secret_file: " + testdataDir(t) + "/jpush.secret\n", "master_secret: <secret>\n    endpoint: https://report.example.com"},
		{"callback_token_file: " + testdataDir(t) + "/callback.token\n", "callback_token: <secret>\n    callback_token_file"},
	} {
		if !strings.Contains(string(out), pair[0]) || strings.Contains(string(out), pair[1]) {
			t.Errorf("want %q and not %q:\n%s", pair[0], pair[1], out)
		}
	}
}
