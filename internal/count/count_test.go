package count

import (
	"encoding/json"
	"testing"
)

func TestJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw     string
		want    int64
		ok, ref bool
	}{
		{`0`, 0, true, false},
		{`62`, 62, true, false},
		{`"62"`, 62, true, false},
		{`" 62 "`, 62, true, false},
		{`9007199254740992`, 1 << 53, true, false},
		{`9007199254740993`, 0, false, true},
		{`-62`, 0, false, true},
		{`"-62"`, 0, false, true},
		{`"-0"`, 0, false, true},
		{`-0`, 0, false, true},
		{`"1e23"`, 0, false, true},
		{`1e3`, 0, false, true},
		{`1.0`, 0, false, true},
		{`"0x10"`, 0, false, true},
		{`"NaN"`, 0, false, true},
		{`true`, 0, false, true},
		{`{}`, 0, false, true},
		{`""`, 0, false, true},
		{`null`, 0, false, false},
		{``, 0, false, false},
	}
	for _, c := range cases {
		n, ok, refused := JSON(json.RawMessage(c.raw))
		if n != c.want || ok != c.ok || refused != c.ref {
			t.Errorf("JSON(%s) = %d, %v, %v; want %d, %v, %v", c.raw, n, ok, refused, c.want, c.ok, c.ref)
		}
	}
}
