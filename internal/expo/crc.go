package expo

// The CRC-32 of a concatenation, from the CRC-32s of its parts and the
// length of the second: zlib's crc32_combine (crc32.c, zlib 1.2.12 and
// later), which Go's hash/crc32 does not provide. It lets a gzip body be
// assembled from segments compressed at different times, each with its own
// checksum, without reading the uncompressed bytes again.

// crcPoly is the reversed IEEE polynomial, as hash/crc32.IEEE.
const crcPoly = 0xedb88320

// x2nTable[k] is x^(2^k) modulo the polynomial, for k < 32.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for n := 1; n < 32; n++ {
		p = multModP(p, p)
		t[n] = p
	}
	return t
}()

// multModP returns a(x) multiplied by b(x) modulo the polynomial, both in
// the reflected bit order CRC-32 uses.
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
}

// crcShift returns x^(8·n) modulo the polynomial: the operator that moves a
// CRC past n zero bytes.
func crcShift(n int64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		n >>= 1
	}
	return p
}

// crcCombine returns the CRC-32 (IEEE) of A followed by B, given crcA,
// crcB and B's length.
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	return multModP(crcShift(lenB), crcA) ^ crcB
}
