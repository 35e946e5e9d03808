package expo

import (
	"bufio"
	"io"
	"strconv"
	"testing"
)

// BenchmarkWriteVsCopy writes blocks of the daemon's shape (a JPush message:
// 5 families of one line, 5 of 7 to 17 lines) and, in the same iteration,
// copies the same bytes, decoded beforehand, through the same buffer.
func BenchmarkWriteVsCopy(b *testing.B) {
	var fams []*Family
	for i := range 10 {
		if i < 5 {
			fams = append(fams, NewFamily("jpush_message_s"+strconv.Itoa(i), "h", "app_key", "msg_id", "type"))
		} else {
			fams = append(fams, NewFamily("jpush_message_channel_s"+strconv.Itoa(i), "h", "app_key", "msg_id", "type", "platform", "channel"))
		}
	}
	s := NewSchema(fams...)
	var blocks []*Block
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
		blocks = append(blocks, bl)
	}
	groups := []Group{{Schema: s, Blocks: blocks}}
	var parts [][]byte
	for i, f := range fams {
		parts = append(parts, appendHeader(nil, Text, f))
		for _, bl := range blocks {
			parts = append(parts, bl.AppendPart(nil, i))
		}
	}
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
