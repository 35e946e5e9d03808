//go:build amd64 || arm64

package expo

import "unsafe"

// prefetch asks the processor to bring the 64-byte cache lines from p on
// into its caches, without waiting for them. It is a hint: p may be any
// address.
//
//go:noescape
func prefetch(p unsafe.Pointer, lines int)
