package expo

import (
	"bufio"
	"io"
	"strconv"
	"testing"
)

// BenchmarkWriteVsCopy writes blocks and, in the same iteration, copies the
// same bytes, decoded beforehand, through the same buffer: the floor. Two
// shapes of about a million series: "daemon", 15 000 blocks as the jpush
// source keeps a message (5 families of one line, 5 of 7 to 17 lines), and
// "single", a million blocks of one line.
func BenchmarkWriteVsCopy(b *testing.B) {
	b.Run("shape=daemon", func(b *testing.B) { benchWriteVsCopy(b, daemonBlocks()) })
	b.Run("shape=single", func(b *testing.B) { benchWriteVsCopy(b, singleBlocks()) })
}

// daemonBlocks returns 15 000 blocks of a JPush message's shape.
func daemonBlocks() Group {
	var fams []*Family
	for i := range 10 {
		if i < 5 {
			fams = append(fams, NewFamily("jpush_message_s"+strconv.Itoa(i), "h", "app_key", "msg_id", "type"))
		} else {
			fams = append(fams, NewFamily("jpush_message_channel_s"+strconv.Itoa(i), "h", "app_key", "msg_id", "type", "platform", "channel"))
		}
	}
	s := NewSchema(fams...)
	g := Group{Schema: s}
	for m := range 15000 {
		id := strconv.Itoa(18_100_000_000_000_000 + m*7919)
		var samples []Sample
		for i, f := range fams {
			if i < 5 {
				samples = append(samples, f.Gauge(float64(m+i), "8f3c2a1b9d4e5f60718293a4", id, "notification"))
				continue
			}
			for c := range 7 + m%11 {
				samples = append(samples, f.Gauge(float64(m*10+c), "8f3c2a1b9d4e5f60718293a4", id, "notification", "android", "channel_"+strconv.Itoa(c)))
			}
		}
		bl, _ := s.Block(samples)
		g.Blocks = append(g.Blocks, bl)
	}
	return g
}

// singleBlocks returns a million blocks of one Tencent push task's line.
func singleBlocks() Group {
	f := NewFamily("tencent_im_push_task_target", "h", "sdkappid", "task_id")
	g := Group{Schema: NewSchema(f)}
	for i := range 1_000_000 {
		id := "1400000000_144115212910570789_" + strconv.Itoa(1_000_000_000+i) + "_17000000"
		bl, _ := g.Schema.Block([]Sample{f.Gauge(float64(i), "1400000000", id)})
		g.Blocks = append(g.Blocks, bl)
	}
	return g
}

func benchWriteVsCopy(b *testing.B, g Group) {
	var parts [][]byte
	for i, f := range g.Schema.families {
		parts = append(parts, appendHeader(nil, Text, f))
		for _, bl := range g.Blocks {
			parts = append(parts, bl.AppendPart(nil, i))
		}
	}
	groups := []Group{g}
	bw := bufio.NewWriterSize(io.Discard, 64<<10)
	var write, copying int64
	for b.Loop() {
		t0 := nanotime()
		_ = Write(bw, Text, groups)
		_ = bw.Flush()
		t1 := nanotime()
		for _, p := range parts {
			_, _ = bw.Write(p)
		}
		_ = bw.Flush()
		copying += nanotime() - t1
		write += t1 - t0
	}
	b.ReportMetric(float64(write)/float64(copying), "x-copy")
}
