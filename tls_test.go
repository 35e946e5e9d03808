package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// selfSigned writes a self-signed ECDSA certificate for 127.0.0.1 and its key
// into dir, and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imstats_exporter test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSAndBasicAuth starts the exporter with a --web.config.file asking for
// TLS and basic auth: only HTTPS with the right credentials gets metrics.
func TestTLSAndBasicAuth(t *testing.T) {
	t.Parallel()
	const user, password = "prometheus", "scrape-password-6c1f0a"
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n", certFile, keyFile, user, hash))
	cfgPath := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfgPath, minimalConfig)

	addr := freeAddr(t)
	e := &exporter{t: t, addr: addr, logs: &syncBuffer{}}
	e.cmd = exec.Command(binary, "--web.listen-address="+addr, "--web.config.file="+webConfig, "--config.file="+cfgPath)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(url string, auth func(*http.Request)) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		auth(req)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		return resp.StatusCode, string(body), err
	}
	right := func(r *http.Request) { r.SetBasicAuth(user, password) }
	e.waitFor(func() bool {
		code, _, err := get("https://"+addr+"/-/healthy", right)
		return err == nil && code == http.StatusOK
	}, "the exporter to answer over HTTPS")

	for _, tc := range []struct {
		name   string
		scheme string
		auth   func(*http.Request)
		code   int
		metric bool // the body has the exporter's metrics
	}{
		{name: "HTTPS with the right credentials", scheme: "https", auth: right, code: http.StatusOK, metric: true},
		{name: "wrong password", scheme: "https", auth: func(r *http.Request) { r.SetBasicAuth(user, password+"x") }, code: http.StatusUnauthorized},
		{name: "unknown user", scheme: "https", auth: func(r *http.Request) { r.SetBasicAuth("admin", password) }, code: http.StatusUnauthorized},
		{name: "no credentials", scheme: "https", auth: func(*http.Request) {}, code: http.StatusUnauthorized},
		// Go's TLS server answers a plain HTTP request with a 400 of its own.
		{name: "plain HTTP", scheme: "http", auth: right, code: http.StatusBadRequest},
	} {
		code, body, err := get(tc.scheme+"://"+addr+"/metrics", tc.auth)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.code)
		}
		if got := strings.Contains(body, "imstats_exporter_build_info"); got != tc.metric {
			t.Errorf("%s: metrics in the body: %v, want %v", tc.name, got, tc.metric)
		}
	}
	if strings.Contains(e.logs.String(), password) || strings.Contains(e.logs.String(), string(hash)) {
		t.Error("the logs show the password or its hash")
	}
}

// TestWriteEndpointsGuarded: write endpoints are off by default; when on,
// with basic auth and a write token, the scrape credential reads but
// cannot write, and an oversized body is refused.
func TestWriteEndpointsGuarded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfgPath, minimalConfig)

	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		e := start(t, "--config.file="+cfgPath)
		code, body := e.do(http.MethodPost, "/-/reload", "")
		if code != http.StatusForbidden || !strings.Contains(body, "Lifecycle API is not enabled.") {
			t.Errorf("POST /-/reload: %d %q, want 403", code, body)
		}
		if code, _ := e.get("/metrics"); code != http.StatusOK {
			t.Errorf("GET /metrics: %d", code)
		}
	})

	t.Run("on, behind basic auth and a token", func(t *testing.T) {
		t.Parallel()
		const user, password, token = "prometheus", "scrape-password-81d2", "write-token-0c94be77"
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		webConfig := filepath.Join(dir, "web.yml")
		writeFile(t, webConfig, fmt.Sprintf("basic_auth_users:\n  %s: %s\n", user, hash))
		tokenFile := filepath.Join(dir, "write.token")
		writeFile(t, tokenFile, token+"\n")

		addr := freeAddr(t)
		e := &exporter{t: t, addr: addr, logs: &syncBuffer{}}
		e.cmd = exec.Command(binary, "--web.listen-address="+addr, "--web.config.file="+webConfig, "--config.file="+cfgPath,
			"--web.enable-lifecycle", "--web.enable-tracking-api", "--web.write-token-file="+tokenFile, "--log.level=debug")
		e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
		if err := e.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.stop)

		client := &http.Client{Timeout: 30 * time.Second}
		do := func(method, path string, body io.Reader, basic bool, tok string) (int, error) {
			req, err := http.NewRequest(method, "http://"+addr+path, body)
			if err != nil {
				t.Fatal(err)
			}
			if basic {
				req.SetBasicAuth(user, password)
			}
			if tok != "" {
				req.Header.Set("X-Write-Token", tok)
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode, err
		}
		e.waitFor(func() bool { code, err := do("GET", "/-/healthy", nil, true, ""); return err == nil && code == 200 }, "the exporter to answer")

		const api = "/api/v1/tencent_im/1400000000/tasks"
		for _, tc := range []struct {
			name, method, path string
			basic              bool
			token              string
			code               int
		}{
			{"the scrape credential scrapes", "GET", "/metrics", true, "", 200},
			{"the scrape credential reads the API", "GET", api, true, "", 404}, // no such app: the API answered
			{"the scrape credential cannot reload", "POST", "/-/reload", true, "", 401},
			{"the scrape credential cannot register", "POST", api, true, "", 401},
			{"a wrong token cannot reload", "POST", "/-/reload", true, "x" + token, 403},
			{"the token without the password cannot reload", "POST", "/-/reload", false, token, 401},
			{"password and token reload", "POST", "/-/reload", true, token, 200},
		} {
			code, err := do(tc.method, tc.path, strings.NewReader(""), tc.basic, tc.token)
			if err != nil || code != tc.code {
				t.Errorf("%s: %d %v, want %d", tc.name, code, err, tc.code)
			}
		}
		// A 2 MiB body is refused (413) without being read: the exporter
		// answers and closes, so the client may see its write cut short.
		code, err := do("POST", api, strings.NewReader(strings.Repeat(" ", 2<<20)), true, token)
		if err == nil && code != http.StatusRequestEntityTooLarge {
			t.Errorf("a 2 MiB body: %d, want 413", code)
		}
		if strings.Contains(e.logs.String(), token) {
			t.Error("the logs show the write token")
		}
	})
}
