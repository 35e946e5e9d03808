package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imstats/imstats_exporter/internal/demo"
)

// exitCode runs cmd to its end and returns its exit status and output.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// demoDirs lists the demo directories left in dir.
func demoDirs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "imstats-demo-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConfigCheckStateDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "state"), "a file, not a directory\n")
	cfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfg, strings.Replace(minimalConfig, "state_directory: state", "state_directory: "+filepath.Join(dir, "state"), 1))
	code, out := exitCode(t, exec.Command(binary, "--config.check", "--config.file="+cfg))
	if want := "state_directory: " + filepath.Join(dir, "state") + " is not a directory"; code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 with %q", code, out, want)
	}
}

func TestDemoListens(t *testing.T) {
	t.Parallel()

	t.Run("on loopback by default; a busy port ends it before it says where it serves or writes anything", func(t *testing.T) {
		// Held here, unless something else already holds it: either way
		// the demo cannot bind its default address.
		if l, err := net.Listen("tcp", demo.ListenAddress); err == nil {
			defer l.Close()
		}
		tmp := t.TempDir()
		cmd := exec.Command(binary, "--demo")
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		code, out := exitCode(t, cmd)
		if code != 1 || !strings.Contains(out, "listen tcp "+demo.ListenAddress) || strings.Contains(out, "demo: metrics at") {
			t.Errorf("exit %d, output:\n%s\nwant exit 1, the bind error on %s and no URL", code, out, demo.ListenAddress)
		}
		if left := demoDirs(t, tmp); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("its URL answers when printed, and nothing is left after it ends", func(t *testing.T) {
		tmp := t.TempDir()
		addr := freeAddr(t)
		cmd := exec.Command(binary, "--demo", "--web.listen-address="+addr)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill() }()
		lines := bufio.NewScanner(stderr)
		for lines.Scan() && !strings.Contains(lines.Text(), "demo: metrics at http://"+addr+"/metrics") {
		}
		// Bound by then: the connection is accepted even if the server
		// is not serving yet.
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("the printed address does not answer: %v", err)
		}
		c.Close()
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		if len(demoDirs(t, tmp)) != 1 {
			t.Fatalf("running, the demo has %v", demoDirs(t, tmp))
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exit: %v", err)
		}
		if left := demoDirs(t, tmp); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// TestIdleConnections opens more idle connections than the exporter has
// open files (its limit lowered to 256 for the test, as the shipped unit's
// 8192 was by 9000 connections): a scrape still gets in, taking the place
// of the longest idle one.
func TestIdleConnections(t *testing.T) {
	t.Parallel()
	const nofile, idle = 256, 400
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfg, minimalConfig)
	e := &exporter{t: t, addr: freeAddr(t), logs: &syncBuffer{}}
	e.cmd = exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), binary,
		"--web.listen-address="+e.addr, "--config.file="+cfg, "--web.max-connections=128")
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	e.waitFor(func() bool { code, _ := get(e.addr, "/-/healthy"); return code == http.StatusOK }, "the exporter to answer /-/healthy")

	// Kept-alive connections, idle after one request each.
	var wg sync.WaitGroup
	conns := make(chan net.Conn, idle)
	for range idle {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
			if err != nil {
				return
			}
			conns <- c
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprint(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(conns)
	defer func() {
		for c := range conns {
			c.Close()
		}
	}()

	code, body := get(e.addr, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "imstats_exporter_http_open_connections") {
		t.Fatalf("scrape past %d idle connections: %d, %d bytes; logs:\n%s", idle, code, len(body), e.logs.String())
	}
	if v, _ := sample(body, `imstats_exporter_http_connections_closed_total{reason="idle_evicted"}`); v == 0 {
		t.Error("no idle connection was closed")
	}
	if strings.Contains(e.logs.String(), "too many open files") {
		t.Error("the exporter ran out of open files")
	}
}

// get fetches a path with a client whose timeout bounds a failing test.
func get(addr, path string) (int, string) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}
