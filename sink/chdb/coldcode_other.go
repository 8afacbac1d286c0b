//go:build !linux

package chdb

// dropColdCode is Linux-only (MADV_DONTNEED on the library's mappings).
func dropColdCode(string) int64 { return 0 }
