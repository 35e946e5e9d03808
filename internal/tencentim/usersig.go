package tencentim

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// userSigDoc is the TLSSigAPIv2 document. The field order is the one the
// vendor's reference implementations write; the signature does not depend on
// it, but the TLSSigAPIv2 test vector of usersig_test.go does.
type userSigDoc struct {
	Ver        string `json:"TLS.ver"`
	Identifier string `json:"TLS.identifier"`
	SDKAppID   uint64 `json:"TLS.sdkappid"`
	Expire     int64  `json:"TLS.expire"`
	Time       int64  `json:"TLS.time"`
	Sig        string `json:"TLS.sig"`
}

// The UserSig alphabet is base64 with '+', '/' and '=' replaced so that the
// value survives a query string unescaped.
var (
	sigEscaper   = strings.NewReplacer("+", "*", "/", "-", "=", "_")
	sigUnescaper = strings.NewReplacer("*", "+", "-", "/", "_", "=")
)

func hmacSig(key string, sdkappid uint64, identifier string, now, expire int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "TLS.identifier:%s\nTLS.sdkappid:%d\nTLS.time:%d\nTLS.expire:%d\n", identifier, sdkappid, now, expire)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// GenUserSig returns a TLSSigAPIv2 UserSig for identifier, valid for expire
// from now. level is the zlib compression level (zlib.BestCompression in
// production; the test vector of usersig_test.go uses zlib.NoCompression).
func GenUserSig(sdkappid uint64, key, identifier string, expire time.Duration, now time.Time, level int) (string, error) {
	doc := userSigDoc{
		Ver:        "2.0",
		Identifier: identifier,
		SDKAppID:   sdkappid,
		Expire:     int64(expire / time.Second),
		Time:       now.Unix(),
	}
	doc.Sig = hmacSig(key, sdkappid, identifier, doc.Time, doc.Expire)
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		return "", err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return sigEscaper.Replace(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// Errors returned by VerifyUserSig; the vendor answers them with 70003
// (malformed or bad signature), 70001 (expired) and 70013 (identifier or
// sdkappid mismatch).
var (
	ErrUserSigMalformed = errors.New("usersig malformed")
	ErrUserSigExpired   = errors.New("usersig expired")
	ErrUserSigMismatch  = errors.New("usersig does not match sdkappid or identifier")
	ErrUserSigBad       = errors.New("usersig signature invalid")
)

// VerifyUserSig checks a UserSig the way the vendor does: decode, inflate,
// recompute the HMAC with key, compare identifier and sdkappid, and check the
// expiry against now. The simulator uses it.
func VerifyUserSig(sig string, sdkappid uint64, identifier, key string, now time.Time) error {
	raw, err := base64.StdEncoding.DecodeString(sigUnescaper.Replace(sig))
	if err != nil {
		return ErrUserSigMalformed
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return ErrUserSigMalformed
	}
	plain, err := io.ReadAll(io.LimitReader(zr, 4096))
	if err != nil {
		return ErrUserSigMalformed
	}
	var doc userSigDoc
	if err := json.Unmarshal(plain, &doc); err != nil {
		return ErrUserSigMalformed
	}
	if doc.SDKAppID != sdkappid || doc.Identifier != identifier {
		return ErrUserSigMismatch
	}
	want := hmacSig(key, doc.SDKAppID, doc.Identifier, doc.Time, doc.Expire)
	if !hmac.Equal([]byte(want), []byte(doc.Sig)) {
		return ErrUserSigBad
	}
	if now.Unix() >= doc.Time+doc.Expire {
		return ErrUserSigExpired
	}
	return nil
}
