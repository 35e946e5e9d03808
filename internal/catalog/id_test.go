package catalog

import (
	"fmt"
	"strings"
	"testing"
)

// TestValidateID checks the rule every kind of ID follows.
func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id      string
		wantErr string
	}{
		{id: "1613113584"},
		{id: "1400123456_144115212910570789_4155518400_15723514"},
		{id: "bsp54sn8bpn8hc3etq40"},
		{id: strings.Repeat("x", MaxIDBytes)},
		{id: "", wantErr: "empty"},
		{id: strings.Repeat("x", MaxIDBytes+1), wantErr: "longer than 128 bytes"},
		{id: "a,b", wantErr: "contains a comma"},
		{id: "a b", wantErr: "contains whitespace"},
		{id: "a\tb", wantErr: "contains whitespace"},
		{id: "a\nb", wantErr: "contains whitespace"},
		{id: "a\x00", wantErr: "contains the non-printable or non-ASCII byte 0x00"},
		{id: "a\x7f", wantErr: "contains the non-printable or non-ASCII byte 0x7f"},
		{id: "é", wantErr: "contains the non-printable or non-ASCII byte 0xc3"},
	} {
		err := ValidateID(tc.id)
		if got := fmt.Sprint(err); (err == nil) != (tc.wantErr == "") || (err != nil && got != tc.wantErr) {
			t.Errorf("ValidateID(%q) = %v, want %q", tc.id, err, tc.wantErr)
		}
	}
}
