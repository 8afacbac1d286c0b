//go:build !linux

package inspect

import "testing"

// loopCPU runs f b.N times (the CPU time is measured on Linux only).
func loopCPU(b *testing.B, f func()) {
	for b.Loop() {
		f()
	}
}
