package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory benchmarks run the exporter in a child process, the test
// binary started again for one benchmark, so that /proc/<pid>/status
// (VmHWM, the peak resident set) counts the exporter alone: not the
// simulators, not the scraping clients, not the other benchmarks.

// childListenPrefix starts the line in which a child tells its address.
const childListenPrefix = "CHILD-LISTEN "

// child is a running child process serving HTTP on loopback.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string

	mu  sync.Mutex
	out bytes.Buffer // its output, for the failure message
}

// startChild starts the test binary running only benchmark bench, with env
// added to its environment, and waits (at most 3 minutes) until it says
// where it listens.
func startChild(tb testing.TB, bench string, env ...string) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^"+bench+"$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, childListenPrefix); ok {
				addr <- a
			}
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
		}
	}()
	tb.Cleanup(c.stop)
	select {
	case c.addr = <-addr:
	case <-time.After(3 * time.Minute):
		tb.Fatalf("the child did not listen within 3 minutes:\n%s", c.output())
	}
	return c
}

// output returns what the child printed so far.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// status reads a size in kB from the child's /proc/<pid>/status, in bytes.
func (c *child) status(tb testing.TB, field string) int64 {
	tb.Helper()
	v, err := procStatus(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid), field)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// stop ends the child: its stdin closes, which ends its serving; it is
// killed if it has not exited 10 s later.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// procStatus reads a size in kB from a /proc status file, in bytes.
func procStatus(path, field string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s %q: %w", field, rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}

// serveChild is the child's side: it serves h on a loopback port, tells
// the parent where, and serves until its stdin closes.
func serveChild(tb testing.TB, h http.Handler, configure func(*http.Server)) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if configure != nil {
		configure(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("%s%s\n", childListenPrefix, ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}
