package catalog

import "testing"

// TestValidatorForCanonicalForms checks that each vendor's IDs have one
// accepted form: a msg_id that the vendor would answer as another one (a
// leading zero), that names no message (0) or that is no uint64 is refused.
func TestValidatorForCanonicalForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind, id string
		ok       bool
	}{
		{KindJPushMessages, "1613113584", true},
		{KindJPushMessages, "1", true},
		{KindJPushMessages, "18446744073709551615", true},
		{KindJPushMessages, "0", false},
		{KindJPushMessages, "0001613113584", false},
		{KindJPushMessages, "18446744073709551616", false},
		{KindJPushMessages, "99999999999999999999", false},
		{KindJPushMessages, "+1613113584", false},
		{KindJPushMessages, "1.6e9", false},
		{KindJPushGroupMessages, "bsp54sn8bpn8hc3etq40", true},
		{KindJPushGroupMessages, "bsp54sn8-bpn8", false},
		{KindTencentPush, "1400123456_144115212910570789_4155518400_15723514", true},
		{KindTencentPush, "xxx-yyy-zzz", true},
		{KindTencentPush, "a b", false},
	}
	for _, c := range cases {
		err := ValidatorFor(c.kind)(c.id)
		if (err == nil) != c.ok {
			t.Errorf("%s %q: err = %v, want ok %v", c.kind, c.id, err, c.ok)
		}
	}
}
