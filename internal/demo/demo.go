// Package demo runs the exporter against the built-in simulator: it starts
// fake Tencent IM and JPush APIs on loopback, writes a configuration that
// points at them, and keeps pushing new messages so every metric family
// moves without a vendor account. The simulated Tencent push service posts
// push callbacks to the exporter, so that the first demo app's tasks are
// tracked by themselves; the second app's are fed through its watched
// file, with their sent time.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/imstats/imstats_exporter/internal/simulator"
	"github.com/imstats/imstats_exporter/internal/tencentim"
)

// ListenAddress is where the demo exporter listens unless
// --web.listen-address says otherwise: loopback only, as the demo serves
// its configuration to whoever connects.
const ListenAddress = "127.0.0.1:9787"

// Demo is a running simulator with its configuration file.
type Demo struct {
	// ConfigFile is the demo configuration, pointing at the simulator.
	ConfigFile string
	// Tencent is the simulated Tencent IM API.
	Tencent *simulator.Tencent
	// JPush is the simulated JPush Report API.
	JPush *simulator.JPush

	dir           string
	server        *http.Server
	stop          context.CancelFunc
	done          chan struct{}
	callbacksDone chan struct{}
}

// The demo apps. The secrets are not secret: they only open the simulator.
const (
	demoSecretKey    = "demo-tencent-im-secret-key-0000000000000000000000000000000000000"
	demoMasterSecret = "demo-jpush-master-secret-000000"
	demoGroupSecret  = "demo-jpush-group-secret-0000000"
	demoAppKey       = "0d1e2m3o4a5p6p7k8e9y0001"
	demoGroupKey     = "0d1e2m3o4g5r6o7u8p9k0001"
	demoSeed         = 20261121
	// demoCallbackToken is the first app's webhook token: its callbacks
	// are signed.
	demoCallbackToken = "demo-tencent-im-callback-token"
	// callbackEvery is how often the simulated push service posts callbacks.
	callbackEvery = 5 * time.Second
)

var (
	demoSDKAppIDs = []uint64{1400000001, 1400000002}
	demoCanaries  = []string{"1a0018970a1b2c3d4e5", "1a0018970a1b2c3d4e6", "1a0018970a1b2c3d4e7", "1a0018970a1b2c3d4e8", "1a0018970a1b2c3d4e9"}
)

var configTemplate = template.Must(template.New("config").Parse(`# Demo configuration written by imstats_exporter --demo.
# Every endpoint is the built-in simulator on loopback.
tencent_im:
  # Its push tasks are tracked by themselves: the simulator posts Tencent's
  # push callbacks to the exporter (--web.enable-callbacks), signed with
  # this token.
  - sdkappid: {{ .CallbackApp }}
    identifier: admin
    secret_key_file: tim.key
    endpoint: {{ $.URL }}
    callback_token_file: tim-callback.token
    push:
      windows: [1h, 24h]
  # Its push tasks are fed through a watched file, one TaskId and its sent
  # time a line.
  - sdkappid: {{ .FileApp }}
    identifier: admin
    secret_key_file: tim.key
    endpoint: {{ $.URL }}
    push:
      windows: [1h, 24h]
      task_ids_file: tencent_tasks_{{ .FileApp }}.txt
jpush:
  - app_key: {{ .AppKey }}
    master_secret_file: jpush.secret
    endpoint: {{ $.URL }}
    msg_ids_file: jpush_msgs.txt
    canary_registration_ids: [{{ range $i, $c := .Canaries }}{{ if $i }}, {{ end }}"{{ $c }}"{{ end }}]
jpush_groups:
  - group_key: {{ .GroupKey }}
    group_secret_file: jpush-group.secret
    endpoint: {{ $.URL }}
    group_msg_ids_file: jpush_group_msgs.txt
refresh_intervals:
  tencent_operations: 1m
  tencent_push: 30s
  jpush_received: 30s
  jpush_messages: 30s
  jpush_users: 5m
  jpush_group_messages: 30s
  jpush_group_users: 5m
  jpush_status: 1m
tracking:
  file_check_interval: 2s
state_directory: state
`))

// pushEvery is how often the demo sends a JPush message per app. Tencent
// allows 100 all-member pushes a day per app (Tencent Chat "全员/标签推送", im_push),
// so a Tencent push goes out every tencentPushEvery ticks: every 16 minutes.
const (
	pushEvery        = 2 * time.Minute
	tencentPushEvery = 8
)

// Options adjust the demo.
type Options struct {
	// DegradeChannel, when set, makes the simulators deliver poorly through
	// this vendor channel, so that the delivery-rate alerts can be seen
	// firing: the JPush channel of that name (xiaomi, huawei, jg_android, …)
	// and, when it names one, the Tencent PushPlatform with that platform
	// label (apns, xiaomi, huawei, fcm, meizu, oppo, vivo, honor).
	DegradeChannel string
	// CallbackURL is the exporter's push callback receiver; the simulated
	// push service posts the first app's callbacks there. "" sends none.
	CallbackURL string
}

// degradedDelivery is the share of pushes a degraded channel still delivers.
const degradedDelivery = 0.1

// Start starts the simulator on 127.0.0.1 and writes the demo configuration
// into a temporary directory. Close stops it and removes the directory.
func Start(ctx context.Context, logger log.Logger, o Options) (*Demo, error) {
	dir, err := os.MkdirTemp("", "imstats-demo-")
	if err != nil {
		return nil, err
	}
	d := &Demo{dir: dir, ConfigFile: filepath.Join(dir, "exporter.yml")}
	apps := make([]simulator.TencentApp, len(demoSDKAppIDs))
	for i, id := range demoSDKAppIDs {
		apps[i] = simulator.TencentApp{SDKAppID: id, Identifier: "admin", SecretKey: demoSecretKey}
	}
	d.Tencent = simulator.NewTencent(simulator.TencentOptions{Apps: apps, Seed: demoSeed})
	d.JPush = simulator.NewJPush(simulator.JPushOptions{
		Apps:   []simulator.JPushApp{{AppKey: demoAppKey, MasterSecret: demoMasterSecret, VIP: true}},
		Groups: []simulator.JPushGroup{{GroupKey: demoGroupKey, GroupSecret: demoGroupSecret, VIP: true}},
		Seed:   demoSeed,
		// A quarter of the messages answer in JPush's pre-2021-09 shape, so
		// that the demo shows both mappings.
		LegacyShare: 0.25,
	})
	if o.DegradeChannel != "" {
		d.JPush.DegradeChannel(o.DegradeChannel, degradedDelivery)
		if code, ok := tencentPlatform(o.DegradeChannel); ok {
			d.Tencent.DegradePlatform(code, degradedDelivery)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/v4/", d.Tencent)
	mux.Handle("/v3/", d.JPush)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return nil, err
	}
	d.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "demo simulator stopped", "err", err)
		}
	}()
	if err := d.writeConfig("http://" + ln.Addr().String()); err != nil {
		d.Close()
		return nil, err
	}
	level.Info(logger).Log("msg", "demo simulator listening", "url", "http://"+ln.Addr().String(), "config", d.ConfigFile)
	ctx, d.stop = context.WithCancel(ctx)
	d.done = make(chan struct{})
	go d.pushLoop(ctx, logger)
	d.callbacksDone = make(chan struct{})
	go func() {
		defer close(d.callbacksDone)
		if o.CallbackURL == "" {
			return
		}
		targets := map[uint64]simulator.CallbackTarget{demoSDKAppIDs[0]: {URL: o.CallbackURL, Token: demoCallbackToken}}
		client := &http.Client{Timeout: 10 * time.Second}
		d.Tencent.SendCallbacks(ctx, client, targets, callbackEvery, func(err error) {
			// The exporter starts after the demo: the first posts may find
			// nobody listening.
			level.Debug(logger).Log("msg", "demo push callback failed", "err", err)
		})
	}()
	return d, nil
}

// tencentPlatform returns the offline PushPlatform code whose platform label
// is name. The codes are 1 to 8 (Tencent Chat "All/Tagged Users Push Data Statistics"); 0 is the
// online pushes' "unknown", not a vendor channel.
func tencentPlatform(name string) (int, bool) {
	for code := 1; code <= 8; code++ {
		if tencentim.PlatformName(code) == name {
			return code, true
		}
	}
	return 0, false
}

// pushLoop sends a push per app now and then regularly (Tencent every 16
// minutes, JPush every 2), and appends each ID to the app's watched file, as
// a team's push pipeline would.
func (d *Demo) pushLoop(ctx context.Context, logger log.Logger) {
	defer close(d.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if tick%tencentPushEvery == 0 {
			d.pushTencent(logger)
		}
		msgID, err := d.JPush.Push(demoAppKey)
		if err == nil {
			err = d.track("jpush_msgs.txt", msgID)
		}
		if err != nil {
			level.Warn(logger).Log("msg", "demo push failed", "app_key", demoAppKey, "err", err)
		}
		groupMsgID, err := d.JPush.GroupPush(demoGroupKey)
		if err == nil {
			err = d.track("jpush_group_msgs.txt", groupMsgID)
		}
		if err != nil {
			level.Warn(logger).Log("msg", "demo push failed", "group_key", demoGroupKey, "err", err)
		}
		t.Reset(pushEvery)
	}
}

// pushTencent sends a Tencent push per demo app, with a day's lifetime so
// that the funnel grows for hours, as a real offline push's does. The
// first app's TaskIds come back through the push callbacks; the second
// app's are appended to its watched file with the time they were sent.
func (d *Demo) pushTencent(logger log.Logger) {
	for i, id := range demoSDKAppIDs {
		taskID, err := d.Tencent.Push(id, 24*time.Hour)
		if err == nil && i > 0 {
			err = d.track(fmt.Sprintf("tencent_tasks_%d.txt", id), taskID+" "+time.Now().UTC().Format(time.RFC3339))
		}
		if err != nil {
			level.Warn(logger).Log("msg", "demo push failed", "sdkappid", id, "err", err)
		}
	}
}

// track appends a line (an ID, and maybe its sent time) to a watched ID
// file of the demo configuration.
func (d *Demo) track(file, line string) error {
	f, err := os.OpenFile(filepath.Join(d.dir, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	return errors.Join(err, f.Close())
}

func (d *Demo) writeConfig(url string) error {
	for name, secret := range map[string]string{"tim.key": demoSecretKey, "tim-callback.token": demoCallbackToken, "jpush.secret": demoMasterSecret, "jpush-group.secret": demoGroupSecret} {
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(secret+"\n"), 0o600); err != nil {
			return err
		}
	}
	var b strings.Builder
	if err := configTemplate.Execute(&b, map[string]any{
		"CallbackApp": demoSDKAppIDs[0], "FileApp": demoSDKAppIDs[1], "URL": url, "AppKey": demoAppKey, "GroupKey": demoGroupKey, "Canaries": demoCanaries,
	}); err != nil {
		return err
	}
	return os.WriteFile(d.ConfigFile, []byte(b.String()), 0o600)
}

// Close stops the simulator and removes the demo directory.
func (d *Demo) Close() {
	if d.stop != nil {
		d.stop()
		<-d.done
		<-d.callbacksDone
	}
	if d.server != nil {
		_ = d.server.Close()
	}
	_ = os.RemoveAll(d.dir)
}

// DisplayAddress turns a listen address into one a browser can open: an
// empty or unspecified host becomes localhost.
func DisplayAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
