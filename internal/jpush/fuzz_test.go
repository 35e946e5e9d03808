package jpush

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// addFiles seeds f with testdata files besides the committed corpus in
// testdata/fuzz/<target>.
func addFiles(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecodeReceived(f *testing.F) {
	addFiles(f, "received.json", "received_detail.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeReceived(body)
		if err != nil {
			return
		}
		for _, r := range got {
			if r.MsgID == "" || r.Channels == nil {
				t.Fatalf("entry %+v without an ID or channel map", r)
			}
			for ch := range r.Channels {
				if ch == "" {
					t.Fatalf("empty channel name in %+v", r)
				}
			}
		}
	})
}

func FuzzDecodeMessages(f *testing.F) {
	addFiles(f, "messages_detail.json", "messages_detail_variants.json", "messages_legacy.json", "group_messages_detail.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeMessages(body, "msg_id", "group_msgid")
		if err != nil {
			return
		}
		for _, m := range got {
			if m.MsgID == "" {
				t.Fatal("message without an ID")
			}
			// Sorted and unique: the collector relies on it for distinct series.
			if !slices.IsSortedFunc(m.Types, func(a, b TypeFunnel) int { return cmp.Compare(a.Type, b.Type) }) {
				t.Fatalf("types not sorted: %s", dump(m.Types))
			}
			for i, tf := range m.Types {
				if tf.Type == "" || (i > 0 && m.Types[i-1].Type == tf.Type) {
					t.Fatalf("empty or duplicate type in %s", dump(m.Types))
				}
				for j, ch := range tf.Channels {
					if ch.Platform == "" || ch.Channel == "" {
						t.Fatalf("empty platform or channel in %s", dump(tf))
					}
					if j > 0 {
						prev := tf.Channels[j-1]
						if c := cmp.Or(cmp.Compare(prev.Platform, ch.Platform), cmp.Compare(prev.Channel, ch.Channel)); c >= 0 {
							t.Fatalf("channels not sorted and unique: %s", dump(tf.Channels))
						}
					}
				}
			}
		}
	})
}

func FuzzDecodeUsers(f *testing.F) {
	addFiles(f, "users.json", "group_users.json", "users_variants.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeUsers(body)
		if err != nil {
			return
		}
		for _, d := range got {
			if d.Day == "" || d.Platforms == nil {
				t.Fatalf("day %+v without a date or platform map", d)
			}
			if _, ok := d.Platforms[""]; ok {
				t.Fatalf("empty platform name on %s", d.Day)
			}
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	addFiles(f, "status.json", "status_variants.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeStatus(body)
		if err == nil && got == nil {
			t.Fatal("nil map without an error")
		}
	})
}
