// Package demo runs the exporter against the built-in simulator: it starts
// fake Tencent IM and JPush APIs on loopback, writes a configuration that
// points at them, and keeps pushing new messages so every metric family
// moves without a vendor account.
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
)

// Demo is a running simulator with its configuration file.
type Demo struct {
	// ConfigFile is the demo configuration, pointing at the simulator.
	ConfigFile string
	// Tencent is the simulated Tencent IM API.
	Tencent *simulator.Tencent

	dir    string
	server *http.Server
	stop   context.CancelFunc
	done   chan struct{}
}

// The demo apps. The secrets are not secret: they only open the simulator.
const (
	demoSecretKey = "demo-tencent-im-secret-key-0000000000000000000000000000000000000"
	demoSeed      = 20261121
)

var demoSDKAppIDs = []uint64{1400000001, 1400000002}

var configTemplate = template.Must(template.New("config").Parse(`# Demo configuration written by imstats_exporter --demo.
# Every endpoint is the built-in simulator on loopback.
tencent_im:
{{- range .SDKAppIDs }}
  - sdkappid: {{ . }}
    identifier: admin
    secret_key_file: tim.key
    endpoint: {{ $.TencentURL }}
    push:
      windows: [1h, 24h]
      task_ids_file: tencent_tasks_{{ . }}.txt
{{- end }}
refresh_intervals:
  tencent_operations: 1m
  tencent_push: 30s
tracking:
  file_check_interval: 2s
state_directory: state
`))

// pushEvery is how often the demo sends a new push per app.
const pushEvery = 2 * time.Minute

// Start starts the simulator on 127.0.0.1 and writes the demo configuration
// into a temporary directory. Close stops it and removes the directory.
func Start(ctx context.Context, logger log.Logger) (*Demo, error) {
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

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return nil, err
	}
	d.server = &http.Server{Handler: d.Tencent, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "demo simulator stopped", "err", err)
		}
	}()
	if err := d.writeConfig("http://" + ln.Addr().String()); err != nil {
		d.Close()
		return nil, err
	}
	level.Info(logger).Log("msg", "demo simulator listening", "tencent_im", "http://"+ln.Addr().String(), "config", d.ConfigFile)
	ctx, d.stop = context.WithCancel(ctx)
	d.done = make(chan struct{})
	go d.pushLoop(ctx, logger)
	return d, nil
}

// pushLoop sends a push per app now and every pushEvery, and appends each
// TaskId to the app's watched file, as a team's push pipeline would.
func (d *Demo) pushLoop(ctx context.Context, logger log.Logger) {
	defer close(d.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, id := range demoSDKAppIDs {
			if err := d.pushTencent(id); err != nil {
				level.Warn(logger).Log("msg", "demo push failed", "sdkappid", id, "err", err)
			}
		}
		t.Reset(pushEvery)
	}
}

func (d *Demo) pushTencent(sdkappid uint64) error {
	// A lifetime of a day makes the funnel grow for hours, as a real
	// offline push does.
	taskID, err := d.Tencent.Push(sdkappid, 24*time.Hour)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, fmt.Sprintf("tencent_tasks_%d.txt", sdkappid)), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, taskID)
	return errors.Join(err, f.Close())
}

func (d *Demo) writeConfig(tencentURL string) error {
	if err := os.WriteFile(filepath.Join(d.dir, "tim.key"), []byte(demoSecretKey+"\n"), 0o600); err != nil {
		return err
	}
	var b strings.Builder
	if err := configTemplate.Execute(&b, map[string]any{"SDKAppIDs": demoSDKAppIDs, "TencentURL": tencentURL}); err != nil {
		return err
	}
	return os.WriteFile(d.ConfigFile, []byte(b.String()), 0o600)
}

// Close stops the simulator and removes the demo directory.
func (d *Demo) Close() {
	if d.stop != nil {
		d.stop()
		<-d.done
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
