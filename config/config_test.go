package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/imstats/imstats_exporter/internal/catalog"
	"github.com/imstats/imstats_exporter/internal/clock/clocktest"
)

func dur(s string) model.Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// testdataDir is the absolute path of testdata, the base Load gives the
// relative paths of the files there.
func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func win(s string) Window { return Window{Duration: dur(s), Text: s} }

// testSecrets are the credential values written in testdata; none may ever
// appear in output or in an error.
var testSecrets = []string{
	"tim-file-secret-7f3a9c", "tim-inline-secret-93d2e1",
	"jpush-file-secret-51be0d", "jpush-inline-secret-0a7f3b",
	"group-file-secret-c4e812", "group-inline-secret-e5c1d7",
	"typo-secret-2b9d41", "both-secret-6c0f2e", "url-secret-8e1f",
	"usersig-secret-3d7a", "many-secret-94ab21", "mixed-secret-5a1c",
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range testSecrets {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q:\n%s", what, s, text)
		}
	}
}

// TestLoadBad loads one file per rule and asserts the exact message.
func TestLoadBad(t *testing.T) {
	t.Parallel()
	const (
		regions       = "china, frankfurt, jakarta, mumbai, riyadh, seoul, silicon_valley, singapore, tokyo"
		allSources    = "tencent_operations, tencent_push, tencent_normal_push, tencent_push_loss, tencent_normal_push_loss, jpush_received, jpush_messages, jpush_users, jpush_group_messages, jpush_group_users, jpush_status"
		detailSources = "tencent_push, tencent_push_loss, jpush_received, jpush_messages, jpush_group_messages"
	)
	tests := []struct {
		file string
		want string
	}{
		// Decoding.
		{"bad_syntax.yml", "line 3: mapping values are not allowed in this context"},
		{"bad_two_documents.yml", "line 2: only one YAML document is allowed"},
		{"bad_not_mapping.yml", "line 1: want a mapping, got a list"},
		{"bad_unknown_key.yml", strings.Join([]string{
			"line 2: tencent_im[0].secret_key: one of secret_key or secret_key_file is required",
			"line 3: tencent_im[0].secrt_key: unknown key",
		}, "\n")},
		{"bad_unknown_top_key.yml", "line 1: jpush_group: unknown key"},
		{"bad_duplicate_key.yml", "line 4: tencent_im[0].sdkappid: duplicate key, first at line 2"},
		{"bad_type.yml", `line 2: tencent_im[0].sdkappid: want a non-negative integer, got the string "1400000000"`},
		{"bad_type_fraction.yml", "line 2: tracking.max_ids_per_app: want an integer, got 1.5"},
		{"bad_type_list.yml", "line 2: tencent_im: want a list, got a mapping"},
		{"bad_type_bool.yml", `line 2: sources.jpush_status: want true or false, got the string "maybe"`},
		{"bad_duration.yml", `line 2: refresh_intervals.jpush_received: want a duration such as 30s, 5m, 24h or 7d, got the string "5x"`},
		{"bad_null_entry.yml", "line 4: jpush[1]: want a mapping, got null"},
		{"bad_decode_many.yml", strings.Join([]string{
			`line 2: tencent_im[0].sdkappid: want a non-negative integer, got the string "x"`,
			"line 2: tencent_im[0].secret_key: one of secret_key or secret_key_file is required",
			"line 3: tencent_im[0].secrt_key: unknown key",
			`line 5: refresh_intervals.jpush_received: want a duration such as 30s, 5m, 24h or 7d, got the string "soon"`,
			"line 7: limits.backoff_max: must not be less than limits.backoff_initial (10s), got 1s",
			"line 8: limits.backoff_max: duplicate key, first at line 7",
		}, "\n")},

		// Applications.
		{"bad_sdkappid_missing.yml", "line 2: tencent_im[0].sdkappid: is required"},
		{"bad_sdkappid_zero.yml", "line 2: tencent_im[0].sdkappid: is required"},
		{"bad_sdkappid_duplicate.yml", "line 4: tencent_im[1].sdkappid: 1400000000 is also used by tencent_im[0]"},
		{"bad_identifier_empty.yml", "line 4: tencent_im[0].identifier: must not be empty"},
		{"bad_credential_missing.yml", "line 2: tencent_im[0].secret_key: one of secret_key or secret_key_file is required"},
		{"bad_credential_both.yml", "line 3: jpush[0].master_secret: only one of master_secret or master_secret_file may be set"},
		{"bad_callback_token_both.yml", "line 4: tencent_im[0].callback_token: only one of callback_token or callback_token_file may be set"},
		{"bad_callback_token_file_empty.yml", `line 4: tencent_im[0].callback_token_file: "{testdata}/empty.secret" is empty`},
		{"bad_secret_file_missing.yml", `line 3: jpush_groups[0].group_secret_file: cannot read "{testdata}/no-such.secret": no such file or directory`},
		{"bad_secret_file_empty.yml", `line 3: tencent_im[0].secret_key_file: "{testdata}/empty.secret" is empty`},
		{"bad_secret_file_directory.yml", `line 3: tencent_im[0].secret_key_file: cannot read "{testdata}": is a directory`},
		{"bad_region_unknown.yml", `line 4: tencent_im[0].region: unknown region "mars"; valid regions: ` + regions},
		{"bad_region_and_endpoint.yml", "line 5: tencent_im[0].endpoint: only one of region or endpoint may be set"},
		{"bad_endpoint_scheme.yml", "line 4: jpush[0].endpoint: must be an absolute http or https URL"},
		{"bad_endpoint_userinfo.yml", "line 4: tencent_im[0].endpoint: must not contain a user name or password"},
		{"bad_endpoint_query.yml", "line 4: jpush_groups[0].endpoint: must not have a query or fragment"},
		{"bad_app_key_missing.yml", "line 2: jpush[0].app_key: is required"},
		{"bad_app_key_charset.yml", "line 2: jpush[0].app_key: must not contain ':' or whitespace"},
		{"bad_app_key_duplicate.yml", `line 4: jpush[1].app_key: "7d431e42dfa6a6d693ac2d04" is also used by jpush[0]`},
		{"bad_group_key_duplicate.yml", `line 4: jpush_groups[1].group_key: "9439ee12e91bd4c895d1b0f5" is also used by jpush_groups[0]`},
		{"bad_auth_prefix.yml", "line 4: jpush_groups[0].auth_prefix: must not contain ':' or whitespace"},
		{"bad_id_empty.yml", `line 5: tencent_im[0].push.task_ids[1]: invalid ID "": empty`},
		{"bad_id_charset.yml", `line 4: jpush[0].msg_ids[0]: invalid ID "1613113584,1229760629": contains a comma`},
		{"bad_id_non_ascii.yml", `line 5: tencent_im[0].push.task_ids[0]: invalid ID "任务1": contains the non-printable or non-ASCII byte 0xe4`},
		{"bad_id_too_long.yml", `line 4: jpush_groups[0].group_msg_ids[0]: invalid ID "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…": longer than 128 bytes`},
		{"bad_id_duplicate.yml", "line 5: tencent_im[0].push.task_ids[2]: duplicate of tencent_im[0].push.task_ids[0]"},
		{"bad_window_zero.yml", "line 5: tencent_im[0].push.windows[0]: must be greater than 0"},
		{"bad_window_too_long.yml", "line 5: tencent_im[0].push.windows[1]: must be at most 30d, got 31d"},
		{"bad_window_duplicate.yml", "line 5: tencent_im[0].push.windows[1]: duplicate of tencent_im[0].push.windows[0]"},
		{"bad_canary_too_many.yml", "line 4: jpush[0].canary_registration_ids: must list at most 1000 IDs, got 1001"},
		{"bad_requests_per_minute.yml", "line 4: jpush[0].requests_per_minute: must be between 1 and 100000, got 0"},

		// Global settings.
		{"bad_timezone.yml", `line 1: timezone: unknown time zone "Mars/Olympus_Mons"`},
		{"bad_state_directory.yml", "line 1: state_directory: must not be empty"},
		{"bad_tracking_max_age.yml", "line 2: tracking.max_age: must be at most 30d, got 31d"},
		{"bad_tracking_max_ids.yml", "line 2: tracking.max_ids_per_app: must be between 1 and 100000, got 0"},
		{"bad_duration_zero.yml", "line 2: limits.request_timeout: must be greater than 0"},
		{"bad_max_response_bytes.yml", "line 2: limits.max_response_bytes: must be between 1024 and 1073741824, got 100"},
		{"bad_max_label_values.yml", "line 2: limits.max_label_values: must be between 1 and 1000, got 0"},
		{"bad_backoff.yml", "line 3: limits.backoff_max: must not be less than limits.backoff_initial (1m), got 30s"},
		{"bad_usersig_expire.yml", "line 2: limits.usersig_expire: must be at least 10m, got 5m"},

		// Sources: the keys come from the catalog.
		{"bad_refresh_interval_unknown_source.yml", "line 3: refresh_intervals.jpush_recieved: unknown source; valid sources: " + allSources},
		{"bad_sources_unknown_source.yml", "line 3: sources.tencent_pushes: unknown source; valid sources: " + allSources},
		{"bad_channel_detail_unknown_source.yml", "line 3: channel_detail.jpush_recieved: unknown source; valid sources: " + detailSources},
		{"bad_channel_detail_no_detail.yml", "line 3: channel_detail.jpush_users: has no per-channel detail to turn off; valid sources: " + detailSources},

		// Tracking.
		{"bad_register_per_minute.yml", "line 3: tracking.register_per_minute: must be between 0 and 1000000, got -1"},
		{"bad_max_ids_below_config.yml", "line 5: tencent_im[0].push.task_ids: lists 3 IDs, more than tracking.max_ids_per_app (2); IDs from the configuration are never evicted"},
		{"bad_id_msg_id_syntax.yml", `line 4: jpush[0].msg_ids[1]: invalid ID "abc": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros`},
		{"bad_id_task_syntax.yml", `line 5: tencent_im[0].push.task_ids[0]: invalid ID "task.1": a TaskId has only letters, digits, '_' and '-'`},
		{"bad_id_group_syntax.yml", `line 4: jpush_groups[0].group_msg_ids[0]: invalid ID "bsp54sn8-bpn8": a group_msgid has only letters and digits`},

		// A file with no application.
		{"bad_empty.yml", "line 1: no application: list at least one under tencent_im, jpush or jpush_groups"},

		// Type and semantic problems together, sorted by line.
		{"bad_mixed.yml", strings.Join([]string{
			"line 2: jpush[0].app_key: must not contain ':' or whitespace",
			`line 4: jpush[0].requests_per_minute: want an integer, got the string "many"`,
			"line 6: tracking.max_age: must be at most 30d, got 40d",
			"line 7: tracking.max_ids_per_app: want an integer, got 1.5",
			`line 9: limits.request_timeout: want a duration such as 30s, 5m, 24h or 7d, got the string "soon"`,
			"line 10: limits.backoff_max: must not be less than limits.backoff_initial (10s), got 1s",
		}, "\n")},

		// Every problem is reported, not just the first.
		{"bad_many.yml", strings.Join([]string{
			"line 2: tencent_im[0].sdkappid: is required",
			`line 2: tencent_im[0].region: unknown region "mars"; valid regions: ` + regions,
			"line 5: jpush[0].app_key: must not contain ':' or whitespace",
			"line 7: jpush[0].requests_per_minute: must be between 1 and 100000, got 0",
			`line 8: timezone: unknown time zone "Nowhere/Nope"`,
			"line 10: limits.backoff_max: must not be less than limits.backoff_initial (10s), got 1s",
		}, "\n")},
	}

	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			c, err := Load(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if c != nil {
				t.Error("Load returned a config with its error")
			}
			want := strings.ReplaceAll(tt.want, "{testdata}", testdataDir(t))
			if got := err.Error(); got != want {
				t.Errorf("error:\n got: %s\nwant: %s", got, want)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			if got := strings.Join(errs.Problems(), "\n"); got != want {
				t.Errorf("Problems():\n got: %s\nwant: %s", got, want)
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}

	files, err := filepath.Glob("testdata/bad_*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !tested[filepath.Base(f)] {
			t.Errorf("%s has no test case", f)
		}
	}
}

// TestParseErrors covers messages that need no file of their own.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.key"), bytes.Repeat([]byte("k"), 64<<10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"key that is not a name", "? [a]\n: b\n", "line 1: want a key name, got a list"},
		{"key that is an alias", "timezone: &z UTC\n*z : x\n", "line 2: want a key name, got an alias"},
		{"unknown anchor", "timezone: *z\n", "unknown anchor 'z' referenced"},
		{"empty file", "", "line 1: " + msgNoApps},
		{"empty mapping", "{}\n", "line 1: " + msgNoApps},
		{"explicit empty document", "---\n", "line 1: " + msgNoApps},
		{"null document", "~\n", "line 1: " + msgNoApps},
		{"empty lists", "tencent_im: []\njpush: []\njpush_groups: []\n", "line 1: " + msgNoApps},
		{"a section of the wrong shape is not also missing", "jpush: {app_key: k}\n", "line 1: jpush: want a list, got a mapping"},
		{"bad entry in a section with good ones", "jpush: [{app_key: k, master_secret: s}, 3]\n", "line 1: jpush[1]: want a mapping, got 3"},
		{"ill-typed ID is replaced, indexes kept", "jpush: [{app_key: k, master_secret: s, msg_ids: [[1], \"x\"]}]\n",
			"line 1: jpush[0].msg_ids[0]: want a string, got a list\n" +
				`line 1: jpush[0].msg_ids[1]: invalid ID "x": a msg_id is a decimal integer from 1 to 18446744073709551615 without leading zeros`},
		{"alias of a bad value is reported where used", "jpush: [{app_key: k, master_secret: s, requests_per_minute: &n x}, {app_key: l, master_secret: s, requests_per_minute: *n}]\n",
			`line 1: jpush[0].requests_per_minute: want an integer, got the string "x"` + "\n" +
				`line 1: jpush[1].requests_per_minute: want an integer, got the string "x"`},
		{"endpoint with a query", "jpush: [{app_key: k, master_secret: s, endpoint: 'https://h/v3/report?x=1'}]\n", "line 1: jpush[0].endpoint: must not have a query or fragment"},
		{"syntax error in a second document", "timezone: UTC\n---\n[\n", "line 3: did not find expected node content"},
		{"long value shortened", "jpush: [{app_key: k, master_secret: s}]\ntracking: {max_ids_per_app: " + strings.Repeat("9x", 30) + "}\n",
			`line 2: tracking.max_ids_per_app: want an integer, got the string "` + strings.Repeat("9x", 20) + `…"`},
		{"secret of the wrong type is not echoed", "jpush: [{app_key: k, master_secret: [typo-secret-2b9d41]}]\n",
			"line 1: jpush[0].master_secret: want a string"},
		{"secret file too large", "jpush: [{app_key: k, master_secret_file: big.key}]\n",
			fmt.Sprintf("line 1: jpush[0].master_secret_file: %q is larger than 65536 bytes", filepath.Join(dir, "big.key"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.yaml), dir)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tt.want)
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}
}

// TestLoadGood loads a file that sets every key, most away from the default.
func TestLoadGood(t *testing.T) {
	t.Parallel()
	got, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		TencentIM: []TencentApp{
			{
				SDKAppID:      1400000001,
				Identifier:    "ops",
				SecretKey:     "tim-file-secret-7f3a9c",
				SecretKeyFile: filepath.Join(testdataDir(t), "tim.key"),
				Region:        "singapore",
				Push: TencentPush{
					Windows:     []Window{win("1h"), win("24h"), win("7d")},
					TaskIDs:     []string{"1400000001_144115212910570789_4155518400_15723514"},
					TaskIDsFile: filepath.Join(testdataDir(t), "ids/tim_tasks.txt"),
				},
				CallbackToken:     "callback-file-token-0b9d",
				CallbackTokenFile: filepath.Join(testdataDir(t), "callback.token"),
			},
			{
				SDKAppID:      1400000002,
				Identifier:    "admin",
				SecretKey:     "tim-inline-secret-93d2e1",
				Endpoint:      "http://127.0.0.1:8080/tim",
				Push:          TencentPush{Windows: []Window{}},
				CallbackToken: "callback-inline-token-4c1e",
			},
		},
		JPush: []JPushApp{
			{
				AppKey:                "7d431e42dfa6a6d693ac2d04",
				MasterSecret:          "jpush-file-secret-51be0d",
				MasterSecretFile:      filepath.Join(testdataDir(t), "jpush.secret"),
				Endpoint:              "https://report.example.com",
				MsgIDs:                []string{"1613113584", "1229760629"},
				MsgIDsFile:            "/var/lib/imstats/jpush_msgs.txt",
				CanaryRegistrationIDs: []string{"1506bfd3a7c568d4761", "02078f0f1b8"},
				RequestsPerMinute:     600,
			},
			{
				AppKey:            "29ea851419f747be7b5785a0",
				MasterSecret:      "jpush-inline-secret-0a7f3b",
				Endpoint:          "https://report.jpush.cn",
				RequestsPerMinute: 2400,
			},
		},
		JPushGroups: []JPushGroup{
			{
				GroupKey:          "9439ee12e91bd4c895d1b0f5",
				GroupSecret:       "group-file-secret-c4e812",
				GroupSecretFile:   filepath.Join(testdataDir(t), "group.secret"),
				AuthPrefix:        "grp-",
				Endpoint:          "https://report.jpush.cn",
				GroupMsgIDs:       []string{"bsp54sn8bpn8hc3etq40"},
				GroupMsgIDsFile:   filepath.Join(testdataDir(t), "ids/groups.txt"),
				RequestsPerMinute: 1200,
			},
			{
				GroupKey:          "1bd4c895d1b0f59439ee12e9",
				GroupSecret:       "group-inline-secret-e5c1d7",
				AuthPrefix:        "group-",
				Endpoint:          "https://report.jpush.cn",
				RequestsPerMinute: 2400,
			},
		},
		RefreshIntervals: RefreshIntervals{
			catalog.SourceTencentOperations:     dur("15m"),
			catalog.SourceTencentPush:           dur("2m"),
			catalog.SourceTencentNormalPush:     dur("3m"),
			catalog.SourceTencentPushLoss:       dur("5m"),
			catalog.SourceTencentNormalPushLoss: dur("5m"),
			catalog.SourceJPushReceived:         dur("90s"),
			catalog.SourceJPushMessages:         dur("3m"),
			catalog.SourceJPushUsers:            dur("1h"),
			catalog.SourceJPushGroupMessages:    dur("4m"),
			catalog.SourceJPushGroupUsers:       dur("2h"),
			catalog.SourceJPushStatus:           dur("10m"),
		},
		Sources: Sources{
			catalog.SourceTencentOperations:     false,
			catalog.SourceTencentPush:           true,
			catalog.SourceTencentNormalPush:     false,
			catalog.SourceTencentPushLoss:       true,
			catalog.SourceTencentNormalPushLoss: true,
			catalog.SourceJPushReceived:         false,
			catalog.SourceJPushMessages:         true,
			catalog.SourceJPushUsers:            false,
			catalog.SourceJPushGroupMessages:    true,
			catalog.SourceJPushGroupUsers:       false,
			catalog.SourceJPushStatus:           true,
		},
		ChannelDetails: ChannelDetails{
			catalog.SourceTencentPush:        false,
			catalog.SourceTencentPushLoss:    true,
			catalog.SourceJPushReceived:      true,
			catalog.SourceJPushMessages:      false,
			catalog.SourceJPushGroupMessages: true,
		},
		Timezone:       "UTC",
		Location:       time.UTC,
		StateDirectory: filepath.Join(testdataDir(t), "state"),
		Tracking: Tracking{
			MaxAge:                 dur("3d"),
			MaxIDsPerApp:           200,
			RegisterPerMinute:      0,
			SettledRefreshInterval: dur("1h"),
			FileCheckInterval:      dur("30s"),
		},
		Limits: Limits{
			RequestTimeout:           dur("20s"),
			MaxResponseBytes:         1048576,
			ScrapeTimeoutMargin:      dur("1s"),
			MaxScrapeWait:            dur("5s"),
			BackoffInitial:           dur("5s"),
			BackoffMax:               dur("5m"),
			UnavailableRetryInterval: dur("12h"),
			UserSigExpire:            dur("48h"),
			MaxLabelValues:           64,
		},
	}
	got.durationText = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", *got, *want)
	}
}

// TestDefaults asserts every default, written out, on a file that gives
// only what is required.
func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := Parse([]byte(`
tencent_im: [{sdkappid: 1400000000, secret_key: a}]
jpush: [{app_key: k, master_secret: b}]
jpush_groups: [{group_key: g, group_secret: c}]
`), "/etc/imstats")
	if err != nil {
		t.Fatal(err)
	}
	if got.Location == nil || got.Location.String() != "Asia/Shanghai" {
		t.Errorf("Location = %v, want Asia/Shanghai", got.Location)
	}
	got.Location = nil
	want := &Config{
		TencentIM: []TencentApp{{
			SDKAppID:   1400000000,
			Identifier: "admin",
			SecretKey:  "a",
			Region:     "china",
			Push:       TencentPush{Windows: []Window{win("1h"), win("24h")}},
		}},
		JPush: []JPushApp{{
			AppKey:            "k",
			MasterSecret:      "b",
			Endpoint:          "https://report.jpush.cn",
			RequestsPerMinute: 2400,
		}},
		JPushGroups: []JPushGroup{{
			GroupKey:          "g",
			GroupSecret:       "c",
			AuthPrefix:        "group-",
			Endpoint:          "https://report.jpush.cn",
			RequestsPerMinute: 2400,
		}},
		RefreshIntervals: RefreshIntervals{
			catalog.SourceTencentOperations:     dur("10m"),
			catalog.SourceTencentPush:           dur("1m"),
			catalog.SourceTencentNormalPush:     dur("1m"),
			catalog.SourceTencentPushLoss:       dur("5m"),
			catalog.SourceTencentNormalPushLoss: dur("5m"),
			catalog.SourceJPushReceived:         dur("1m"),
			catalog.SourceJPushMessages:         dur("2m"),
			catalog.SourceJPushUsers:            dur("30m"),
			catalog.SourceJPushGroupMessages:    dur("2m"),
			catalog.SourceJPushGroupUsers:       dur("30m"),
			catalog.SourceJPushStatus:           dur("5m"),
		},
		Sources: Sources{
			catalog.SourceTencentOperations:     true,
			catalog.SourceTencentPush:           true,
			catalog.SourceTencentNormalPush:     true,
			catalog.SourceTencentPushLoss:       true,
			catalog.SourceTencentNormalPushLoss: true,
			catalog.SourceJPushReceived:         true,
			catalog.SourceJPushMessages:         true,
			catalog.SourceJPushUsers:            true,
			catalog.SourceJPushGroupMessages:    true,
			catalog.SourceJPushGroupUsers:       true,
			catalog.SourceJPushStatus:           true,
		},
		ChannelDetails: ChannelDetails{
			catalog.SourceTencentPush:        true,
			catalog.SourceTencentPushLoss:    true,
			catalog.SourceJPushReceived:      true,
			catalog.SourceJPushMessages:      true,
			catalog.SourceJPushGroupMessages: true,
		},
		Timezone:       "Asia/Shanghai",
		StateDirectory: "/etc/imstats/data",
		Tracking: Tracking{
			MaxAge:                 dur("7d"),
			MaxIDsPerApp:           5000,
			RegisterPerMinute:      600,
			SettledRefreshInterval: dur("30m"),
			FileCheckInterval:      dur("10s"),
		},
		Limits: Limits{
			RequestTimeout:           dur("30s"),
			MaxResponseBytes:         16777216,
			ScrapeTimeoutMargin:      dur("500ms"),
			MaxScrapeWait:            dur("10s"),
			BackoffInitial:           dur("10s"),
			BackoffMax:               dur("15m"),
			UnavailableRetryInterval: dur("6h"),
			UserSigExpire:            dur("24h"),
			MaxLabelValues:           64,
		},
	}
	got.durationText = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", *got, *want)
	}

	// The default windows are copied, never shared.
	got.TencentIM[0].Push.Windows[0] = win("2h")
	if DefaultTencentPush.Windows[0] != win("1h") {
		t.Errorf("changing a loaded config changed DefaultTencentPush.Windows to %v", DefaultTencentPush.Windows)
	}
}

// TestParseValid covers inputs that are valid but unusual: empty documents,
// nulls, explicit zeros and empty lists, anchors and merge keys.
func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		check func(*Config) error
	}{
		{"null scalars keep their default", "timezone:\ntracking:\n  max_age: ~\ntencent_im:\n  - sdkappid: 1\n    secret_key: a\n    identifier:\n", func(c *Config) error {
			if c.Timezone != "Asia/Shanghai" || c.Tracking.MaxAge != dur("7d") || c.TencentIM[0].Identifier != "admin" {
				return fmt.Errorf("timezone %q, max_age %s, identifier %q", c.Timezone, c.Tracking.MaxAge, c.TencentIM[0].Identifier)
			}
			return nil
		}},
		{"zero refresh interval means the default", "jpush: [{app_key: k, master_secret: s}]\nrefresh_intervals: {jpush_received: 0, tencent_push: 0s}\n", func(c *Config) error {
			if got := c.RefreshIntervals.For(catalog.SourceJPushReceived); got != time.Minute {
				return fmt.Errorf("jpush_received = %v, want 1m", got)
			}
			if got := c.RefreshIntervals.For(catalog.SourceTencentPush); got != time.Minute {
				return fmt.Errorf("tencent_push = %v, want 1m", got)
			}
			return nil
		}},
		{"empty windows list turns windows off", "tencent_im: [{sdkappid: 1, secret_key: a, push: {windows: []}}]\n", func(c *Config) error {
			if n := len(c.TencentIM[0].Push.Windows); n != 0 {
				return fmt.Errorf("%d windows, want 0", n)
			}
			return nil
		}},
		{"anchors and merge keys", `
tencent_im:
  - &base
    sdkappid: 1
    secret_key: a
    region: tokyo
    push: {task_ids: &ids [t1, t2]}
  - <<: *base
    sdkappid: 2
jpush_groups: [{group_key: k, group_secret: b, group_msg_ids: *ids}]
`, func(c *Config) error {
			second := c.TencentIM[1]
			if second.SDKAppID != 2 || second.Region != "tokyo" || string(second.SecretKey) != "a" || len(second.Push.TaskIDs) != 2 {
				return fmt.Errorf("merged app = %+v", second)
			}
			if got := c.JPushGroups[0].GroupMsgIDs; !reflect.DeepEqual(got, []string{"t1", "t2"}) {
				return fmt.Errorf("aliased group_msg_ids = %v", got)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(tt.yaml), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.check(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestParseRefusesAliasBomb feeds a document of the right shape whose merge
// keys double at every level: the schema walk checks each anchor once (were
// it to expand them, the test would not end), and yaml.v3 refuses the
// expansion.
func TestParseRefusesAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("tencent_im:\n  - &m0 {sdkappid: 1, secret_key: s}\n")
	for i := 1; i <= 64; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: [*m%d, *m%d], sdkappid: %d}\n", i, i-1, i-1, i+1)
	}
	_, err := Parse([]byte(b.String()), "")
	if err == nil || err.Error() != "document contains excessive aliasing" {
		t.Errorf("error = %v, want yaml.v3's excessive aliasing", err)
	}
}

// TestSourceNames checks that For and Enabled read the field whose YAML key
// is the source's name, for every source.
func TestSourceNames(t *testing.T) {
	t.Parallel()
	var y strings.Builder
	y.WriteString("jpush: [{app_key: k, master_secret: s}]\nrefresh_intervals:\n")
	for i, src := range catalog.Sources {
		s := src.Name
		fmt.Fprintf(&y, "  %s: %dm\n", s, i+1)
	}
	y.WriteString("sources:\n")
	for i, src := range catalog.Sources {
		s := src.Name
		fmt.Fprintf(&y, "  %s: %t\n", s, i%2 == 0)
	}
	c, err := Parse([]byte(y.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range catalog.Sources {
		s := src.Name
		if got, want := c.RefreshIntervals.For(s), time.Duration(i+1)*time.Minute; got != want {
			t.Errorf("For(%q) = %v, want %v", s, got, want)
		}
		if got, want := c.Sources.Enabled(s), i%2 == 0; got != want {
			t.Errorf("Enabled(%q) = %v, want %v", s, got, want)
		}
	}
	if got := c.RefreshIntervals.For("nope"); got != 0 {
		t.Errorf("For(unknown) = %v, want 0", got)
	}
	if c.Sources.Enabled("nope") || Sources(nil).Enabled("nope") {
		t.Error("Enabled(unknown) = true, want false")
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		app  string
		want string
	}{
		{"{sdkappid: 1, secret_key: a}", "https://console.tim.qq.com"},
		{"{sdkappid: 1, secret_key: a, region: singapore}", "https://adminapisgp.im.qcloud.com"},
		{"{sdkappid: 1, secret_key: a, endpoint: 'http://127.0.0.1:9000/tim//'}", "http://127.0.0.1:9000/tim"},
		{"{sdkappid: 1, secret_key: a, endpoint: 'https://proxy.example.com/im/tencent/'}", "https://proxy.example.com/im/tencent"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("tencent_im: ["+tt.app+"]"), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.TencentIM[0].BaseURL(); got != tt.want {
			t.Errorf("%s: BaseURL() = %q, want %q", tt.app, got, tt.want)
		}
	}
}

func TestRelativePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"keys/tim.key", "keys/jpush.secret", "keys/group.secret"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("s3cr3t\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Parse([]byte(`
tencent_im:
  - sdkappid: 1
    secret_key_file: keys/tim.key
    push: {task_ids_file: ids/tasks.txt}
jpush:
  - app_key: k
    master_secret_file: keys/jpush.secret
    msg_ids_file: /var/lib/imstats/msgs.txt
jpush_groups:
  - group_key: g
    group_secret_file: keys/../keys/group.secret
    group_msg_ids_file: group.txt
state_directory: /var/lib/imstats
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"secret_key_file", c.TencentIM[0].SecretKeyFile, filepath.Join(dir, "keys/tim.key")},
		{"secret_key", string(c.TencentIM[0].SecretKey), "s3cr3t"},
		{"task_ids_file", c.TencentIM[0].Push.TaskIDsFile, filepath.Join(dir, "ids/tasks.txt")},
		{"master_secret_file", c.JPush[0].MasterSecretFile, filepath.Join(dir, "keys/jpush.secret")},
		{"msg_ids_file", c.JPush[0].MsgIDsFile, "/var/lib/imstats/msgs.txt"},
		{"group_secret_file", c.JPushGroups[0].GroupSecretFile, filepath.Join(dir, "keys/group.secret")},
		{"group_msg_ids_file", c.JPushGroups[0].GroupMsgIDsFile, filepath.Join(dir, "group.txt")},
		{"state_directory", c.StateDirectory, "/var/lib/imstats"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestSecretsHidden checks that no output of a loaded configuration shows a
// secret, inline or read from a file, and that the file paths are shown.
func TestSecretsHidden(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	yml, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []struct {
		name, text, want string
	}{
		{"Redacted", string(yml), "secret_key: <secret>\n"},
		{"JSON", string(js), `"SecretKey":"\u003csecret\u003e"`},
		{"%v", fmt.Sprintf("%v", c), " <secret> "},
		{"%+v", fmt.Sprintf("%+v", c), "SecretKey:<secret> "},
		{"%#v", fmt.Sprintf("%#v", c), `SecretKey:"<secret>"`},
	}
	for _, o := range outputs {
		assertNoSecret(t, o.name, o.text)
		if !strings.Contains(o.text, o.want) {
			t.Errorf("%s lacks %q:\n%s", o.name, o.want, o.text)
		}
	}
	for _, want := range []string{
		"secret_key_file: " + testdataDir(t) + "/tim.key\n",
		"master_secret_file: " + testdataDir(t) + "/jpush.secret\n",
		"group_secret_file: " + testdataDir(t) + "/group.secret\n",
		"master_secret: <secret>\n",
		"group_secret: <secret>\n",
		"usersig_expire: 48h\n",
		"max_age: 3d\n",
	} {
		if !bytes.Contains(yml, []byte(want)) {
			t.Errorf("Redacted() lacks %q:\n%s", want, yml)
		}
	}
	var empty Secret
	if empty.String() != "" {
		t.Errorf("empty Secret renders as %q, want empty", empty.String())
	}
}

// TestSafeConfigReload runs a reloader's sequence (load, plan, then Set and
// ReloadResult) through good, bad and vetoed files: only a configuration
// that loads and plans replaces the current one, and the gauges follow.
func TestSafeConfigReload(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	sc := NewSafeConfig(reg)
	clk := clocktest.NewFake(time.Unix(1700000000, 0))
	sc.clock = clk
	if sc.Get() != nil {
		t.Fatal("Get() before the first Set is not nil")
	}

	const metrics = `
# HELP imstats_exporter_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE imstats_exporter_config_last_reload_success_timestamp_seconds gauge
imstats_exporter_config_last_reload_success_timestamp_seconds %s
# HELP imstats_exporter_config_last_reload_successful Whether the last configuration reload succeeded (1) or failed (0).
# TYPE imstats_exporter_config_last_reload_successful gauge
imstats_exporter_config_last_reload_successful %d
`
	steps := []struct {
		file      string
		veto      bool // the apply step refuses the configuration
		wantErr   bool
		wantSame  bool // the config before the step is kept
		timestamp string
		success   int
	}{
		{"testdata/good.yml", false, false, false, "1.7e+09", 1},
		{"testdata/bad_timezone.yml", false, true, true, "1.7e+09", 0},
		{"testdata/no-such-file.yml", false, true, true, "1.7e+09", 0},
		{"testdata/good.yml", true, true, true, "1.7e+09", 0},
		{"testdata/good.yml", false, false, false, "1.70000024e+09", 1},
	}
	for i, st := range steps {
		before := sc.Get()
		c, err := Load(st.file)
		if err == nil && st.veto {
			err = errors.New("state directory not writable")
		}
		if err != nil {
			sc.ReloadResult(false)
		} else {
			sc.Set(c)
			sc.ReloadResult(true)
		}
		if (err != nil) != st.wantErr {
			t.Fatalf("step %d: load of %s: error = %v, want error %v", i, st.file, err, st.wantErr)
		}
		after := sc.Get()
		if after == nil || (after == before) != st.wantSame {
			t.Errorf("step %d: config kept = %v, want %v", i, after == before, st.wantSame)
		}
		want := fmt.Sprintf(metrics, st.timestamp, st.success)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
		clk.Advance(time.Minute)
	}
}

// TestSafeConfigSetAndResult checks the calls of a caller that plans and
// commits itself: a rejected reload is recorded without a swap.
func TestSafeConfigSetAndResult(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	sc := NewSafeConfig(reg)
	clk := clocktest.NewFake(time.Unix(1700000000, 0))
	sc.clock = clk
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	sc.Set(c)
	sc.ReloadResult(true)
	clk.Advance(time.Minute)
	sc.ReloadResult(false)
	if sc.Get() != c {
		t.Error("ReloadResult(false) changed the configuration")
	}
	const want = `
# HELP imstats_exporter_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.
# TYPE imstats_exporter_config_last_reload_success_timestamp_seconds gauge
imstats_exporter_config_last_reload_success_timestamp_seconds 1.7e+09
# HELP imstats_exporter_config_last_reload_successful Whether the last configuration reload succeeded (1) or failed (0).
# TYPE imstats_exporter_config_last_reload_successful gauge
imstats_exporter_config_last_reload_successful 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestExampleConfig loads the annotated exporter.yml as shipped (its secret
// files are the placeholders in examples/secrets) and checks that it
// documents the defaults it claims to.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	c, err := Load("../exporter.yml")
	if err != nil {
		t.Fatalf("exporter.yml: %v", err)
	}
	if len(c.TencentIM) != 1 || len(c.JPush) != 1 || len(c.JPushGroups) != 1 {
		t.Fatalf("exporter.yml has %d/%d/%d apps, want one of each", len(c.TencentIM), len(c.JPush), len(c.JPushGroups))
	}
	tim, jp, grp := c.TencentIM[0], c.JPush[0], c.JPushGroups[0]
	defaults := DefaultConfig
	defaults.completeSources()
	checks := []struct {
		name      string
		got, want any
	}{
		{"identifier", tim.Identifier, DefaultTencentApp.Identifier},
		{"push.windows", tim.Push.Windows, DefaultTencentPush.Windows},
		{"jpush endpoint", jp.Endpoint, DefaultJPushApp.Endpoint},
		{"jpush requests_per_minute", jp.RequestsPerMinute, DefaultJPushApp.RequestsPerMinute},
		{"auth_prefix", grp.AuthPrefix, DefaultJPushGroup.AuthPrefix},
		{"group endpoint", grp.Endpoint, DefaultJPushGroup.Endpoint},
		{"group requests_per_minute", grp.RequestsPerMinute, DefaultJPushGroup.RequestsPerMinute},
		{"refresh_intervals", c.RefreshIntervals, defaults.RefreshIntervals},
		{"sources", c.Sources, defaults.Sources},
		{"channel_detail", c.ChannelDetails, defaults.ChannelDetails},
		{"timezone", c.Timezone, DefaultConfig.Timezone},
		{"state_directory", c.StateDirectory, filepath.Join(filepath.Dir(testdataDir(t)), "..", DefaultConfig.StateDirectory)},
		{"tracking", c.Tracking, DefaultTracking},
		{"limits", c.Limits, DefaultLimits},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("exporter.yml %s = %v, want the default %v", ch.name, ch.got, ch.want)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is
// complete, and that its Redacted output loads again. The seeds are small
// (the corpus in testdata/fuzz/FuzzParse and the short bad_* files): the
// fuzzer minimizes every new input it finds, and large seeds made it spend
// its whole time shrinking instead of trying inputs.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"bad_many.yml", "bad_decode_many.yml", "bad_mixed.yml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "testdata")
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a config with its error")
			}
			return
		}
		if c.Location == nil {
			t.Fatal("accepted config has no Location")
		}
		out, err := c.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		// Paths in the output are resolved already.
		if _, err := Parse(out, ""); err != nil {
			t.Fatalf("Redacted output does not load: %v\n%s", err, out)
		}
	})
}
