package expo

import "unsafe"

// Write reads family i of one block after another: two dependent loads per
// block (its header, then its lines), at addresses no hardware prefetcher
// can guess, so that a scrape of a million series spent more time waiting
// for memory than copying (2.4× a plain copy of the same bytes;
// BENCHMARKS.md (a)). prefetchAhead asks for both some blocks before they
// are needed, one stage per distance, so that the misses of several blocks
// overlap: the far stage asks for a block's first cache lines (the Block,
// its header and, in a small block, all its lines), the near stage, which
// reads the header the far one fetched, for the family's lines beyond them.
// A hint only: a line fetched twice or not at all costs time, not
// correctness.
func prefetchAhead(blocks []*Block, j, i int) {
	if k := j + 2*lookAhead; k < len(blocks) {
		prefetch(unsafe.Pointer(blocks[k]), headLines)
	}
	if k := j + lookAhead; k < len(blocks) && blockHead+int(blocks[k].size) > headLines*cacheLine {
		b := blocks[k]
		data := b.data()
		h := blockHead + headerSize(int(b.families))
		start := h + int(le32(data, i))
		end := min(h+int(le32(data, i+1)), start+prefetchBytes)
		start = max(start, headLines*cacheLine) // about what the far stage fetched
		if start < end {
			base := uintptr(unsafe.Pointer(b))
			lines := (base+uintptr(end)-1)/cacheLine - (base+uintptr(start))/cacheLine + 1
			prefetch(unsafe.Add(unsafe.Pointer(b), start), int(lines))
		}
	}
}

const (
	// lookAhead is the distance in blocks between the stages.
	lookAhead = 16
	// headLines is how many cache lines of a block the far stage asks for.
	headLines = 3
	// prefetchBytes is how much of a family's lines the near stage asks
	// for: the hardware's own prefetcher follows a longer run of lines.
	prefetchBytes = 512
	cacheLine     = 64
)
