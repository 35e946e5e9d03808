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
	writeFile(t, cfgPath, "state_directory: state\n")

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
