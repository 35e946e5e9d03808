package tencentim

import (
	"compress/zlib"
	"errors"
	"testing"
	"time"
)

// The TLSSigAPIv2 test vector the project was specified with.
const (
	vecKey     = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
	vecSig     = "4lUxqF/B+QS/FhzU388MWw47s2GIKgpTCF1WmWL/l5Y="
	vecUserSig = "eAEApwBY-3siVExTLnZlciI6IjIuMCIsIlRMUy5pZGVudGlmaWVyIjoiYWRtaW4iLCJUTFMuc2RrYXBwaWQiOjE0MDAwMDAwMDAsIlRMUy5leHBpcmUiOjg2NDAwLCJUTFMudGltZSI6MTcwMDAwMDAwMCwiVExTLnNpZyI6IjRsVXhxRi9CK1FTL0ZoelUzODhNV3c0N3MyR0lLZ3BUQ0YxV21XTC9sNVk9In0KAQAA--*tti93"
)

func TestUserSigVector(t *testing.T) {
	t.Parallel()
	if got := hmacSig(vecKey, 1400000000, "admin", 1700000000, 86400); got != vecSig {
		t.Fatalf("TLS.sig = %q, want %q", got, vecSig)
	}
	got, err := GenUserSig(1400000000, vecKey, "admin", 86400*time.Second, time.Unix(1700000000, 0), zlib.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	if got != vecUserSig {
		t.Fatalf("UserSig = %q, want %q", got, vecUserSig)
	}
}

func TestVerifyUserSig(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	good, err := GenUserSig(1400000000, vecKey, "admin", time.Hour, now, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		sig        string
		sdkappid   uint64
		identifier string
		key        string
		at         time.Time
		want       error
	}{
		{"valid", good, 1400000000, "admin", vecKey, now.Add(time.Minute), nil},
		{"vector", vecUserSig, 1400000000, "admin", vecKey, now, nil},
		{"expired", good, 1400000000, "admin", vecKey, now.Add(time.Hour), ErrUserSigExpired},
		{"wrong key", good, 1400000000, "admin", "other", now, ErrUserSigBad},
		{"wrong app", good, 1400000001, "admin", vecKey, now, ErrUserSigMismatch},
		{"wrong identifier", good, 1400000000, "root", vecKey, now, ErrUserSigMismatch},
		{"garbage", "!!!", 1400000000, "admin", vecKey, now, ErrUserSigMalformed},
		{"not zlib", "aGVsbG8_", 1400000000, "admin", vecKey, now, ErrUserSigMalformed},
	} {
		if err := VerifyUserSig(tc.sig, tc.sdkappid, tc.identifier, tc.key, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
