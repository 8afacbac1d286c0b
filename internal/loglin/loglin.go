// Package loglin is the bucket arithmetic of log-linear histograms: every
// power of two is cut into 2^sub equal buckets, so a bucket's width is at
// most 1/2^sub of its values (values below 2^sub get a bucket each). Both
// functions are small enough to inline into a hot path.
package loglin

import "math/bits"

// Index is the bucket of v.
func Index(v uint64, sub uint) int {
	if v < 1<<sub {
		return int(v)
	}
	e := uint(bits.Len64(v) - 1) // >= sub
	m := (v >> (e - sub)) & (1<<sub - 1)
	return int(e-sub+1)<<sub + int(m)
}

// Upper is the largest value in bucket i.
func Upper(i int, sub uint) uint64 {
	if i < 1<<sub {
		return uint64(i)
	}
	e := uint(i>>sub) + sub - 1
	m := uint64(i & (1<<sub - 1))
	return (1<<sub+m+1)<<(e-sub) - 1
}
