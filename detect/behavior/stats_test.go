package behavior

import (
	"math"
	"testing"
)

func TestPythonFormatting(t *testing.T) {
	for _, c := range []struct {
		x    float64
		n    int
		want float64
	}{
		{0.125 * 100, 0, 12}, // half to even
		{0.5, 0, 0},
		{1.5, 0, 2},
		{2.5, 0, 2},
		{2.675, 2, 2.67}, // 2.675 is 2.67499… in binary
		{0.845, 2, 0.84}, // likewise below the tie
		{1.005, 2, 1},
		{83.33333, 0, 83},
		{-0.5, 0, 0},
		{math.NaN(), 2, 0},
	} {
		if got := pyRound(c.x, c.n); got != c.want {
			t.Errorf("pyRound(%v, %d) = %v, want %v", c.x, c.n, got, c.want)
		}
	}
	if got := pyInt(1.0 / 6 * 100); got != 16 {
		t.Errorf("pyInt(16.67) = %d, want 16 (truncation)", got)
	}
	if got := pyInt(-2.7); got != -2 {
		t.Errorf("pyInt(-2.7) = %d, want -2", got)
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStatistics(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	if got := median(xs); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
	if xs[0] != 4 {
		t.Error("median sorted its input")
	}
	if got := median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("odd median = %v, want 3", got)
	}
	sorted := []float64{1, 2, 3, 4}
	for p, want := range map[float64]float64{0: 1, 25: 1.75, 50: 2.5, 75: 3.25, 100: 4} { // numpy linear
		if got := percentile(sorted, p); math.Abs(got-want) > 1e-12 {
			t.Errorf("percentile(%v) = %v, want %v", p, got, want)
		}
	}
	// statistics.stdev([1, 3]) = sqrt(2); CV = sqrt(2)/2.
	if got := cv([]float64{1, 3}); math.Abs(got-math.Sqrt2/2) > 1e-12 {
		t.Errorf("cv = %v", got)
	}
	if got := sampleStdev([]float64{7}); got != 0 {
		t.Errorf("stdev of one value = %v", got)
	}
}
