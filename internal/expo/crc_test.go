package expo

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRCCombineMatchesHashCRC32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 200_000)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	for _, cut := range []int{0, 1, 7, 8, 1000, 65536, 199_999, 200_000} {
		a, b := data[:cut], data[cut:]
		got := crcCombine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data); got != want {
			t.Errorf("cut at %d: combined %08x, want %08x", cut, got, want)
		}
	}
	// Many parts, combined one after the other, as a gzip body is.
	var crc uint32
	for start := 0; start < len(data); {
		end := min(start+1+r.IntN(5000), len(data))
		crc = crcCombine(crc, crc32.ChecksumIEEE(data[start:end]), int64(end-start))
		start = end
	}
	if want := crc32.ChecksumIEEE(data); crc != want {
		t.Fatalf("combined over many parts %08x, want %08x", crc, want)
	}
}
