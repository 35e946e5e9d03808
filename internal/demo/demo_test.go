package demo

import "testing"

func TestTencentPlatform(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		code int
		ok   bool
	}{
		{"apns", 1, true},
		{"huawei", 3, true},
		{"honor", 8, true},
		{"unknown", 0, false},    // the online pushes, not a vendor channel
		{"jg_android", 0, false}, // JPush's own channel only
		{"", 0, false},
	} {
		if code, ok := tencentPlatform(tc.name); code != tc.code || ok != tc.ok {
			t.Errorf("tencentPlatform(%q) = %d, %v; want %d, %v", tc.name, code, ok, tc.code, tc.ok)
		}
	}
}
