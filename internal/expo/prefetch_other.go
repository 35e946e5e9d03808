//go:build !amd64 && !arm64

package expo

import "unsafe"

// prefetch does nothing where the exporter has no prefetch instruction.
func prefetch(unsafe.Pointer, int) {}
