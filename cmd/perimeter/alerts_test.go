package main

import (
	"math"
	"testing"
)

// TestAmount: a limit's used and max values in alert titles read as
// people write them, whatever the float sums left behind.
func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0.00037799999999999997, "0.000378"},
		{0.1 + 0.2, "0.3"},
		{12.3456789, "12.3457"},
		{0.5, "0.5"},
		{100, "100"},
		{123456789, "123456789"},
		{0, "0"},
		{-2.5, "-2.5"},
		{1e20, "100000000000000000000"},
		{math.Inf(1), "+Inf"},
	} {
		if got := amount(tc.v); got != tc.want {
			t.Errorf("amount(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
