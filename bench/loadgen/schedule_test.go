package loadgen

import (
	"testing"
	"time"
)

func TestScheduleAt(t *testing.T) {
	start := time.Unix(1000, 0)
	s := Schedule{Start: start, Rate: 5000}
	if got := s.At(0); !got.Equal(start) {
		t.Errorf("At(0) = %v", got)
	}
	if got := s.Offset(1); got != 200*time.Microsecond {
		t.Errorf("interval = %v, want 200µs", got)
	}
	// No drift: the millionth request is due exactly 200 s in.
	if got := s.Offset(1_000_000); got != 200*time.Second {
		t.Errorf("Offset(1e6) = %v, want 200s", got)
	}
	s3 := Schedule{Start: start, Rate: 3}
	if got := s3.Offset(3); got != time.Second {
		t.Errorf("rate 3: Offset(3) = %v, want 1s", got)
	}
	if got := s3.Offset(1); got != 333333333 {
		t.Errorf("rate 3: Offset(1) = %v", got)
	}
}

func TestScheduleCount(t *testing.T) {
	cases := []struct {
		rate float64
		d    time.Duration
		want int64
	}{
		{1000, time.Second, 1000},
		{1000, time.Second + time.Nanosecond, 1001},
		{1000, 999 * time.Millisecond, 999},
		{3, time.Second, 3},
		{3, 1001 * time.Millisecond, 4},
		{0.5, 10 * time.Second, 5},
		{1000, 0, 0},
		{0, time.Second, 0},
	}
	for _, c := range cases {
		s := Schedule{Rate: c.rate}
		if got := s.Count(c.d); got != c.want {
			t.Errorf("Count(rate %v, %v) = %d, want %d", c.rate, c.d, got, c.want)
		}
	}
}

func TestScheduleDue(t *testing.T) {
	start := time.Unix(1000, 0)
	s := Schedule{Start: start, Rate: 1000} // one per ms
	cases := []struct {
		at    time.Duration
		limit int64
		want  int64
	}{
		{-time.Millisecond, 100, 0},
		{0, 100, 1},                        // request 0 is due at Start
		{999 * time.Microsecond, 100, 1},   // request 1 not yet
		{time.Millisecond, 100, 2},         // request 1 due exactly now
		{10*time.Millisecond + 1, 100, 11}, // 0..10
		{time.Hour, 100, 100},              // capped
	}
	for _, c := range cases {
		if got := s.Due(start.Add(c.at), c.limit); got != c.want {
			t.Errorf("Due(+%v) = %d, want %d", c.at, got, c.want)
		}
	}
	// Due is consistent with At for every request.
	for i := int64(0); i < 5000; i++ {
		if s.Due(s.At(i), 1<<40) != i+1 {
			t.Fatalf("Due(At(%d)) = %d", i, s.Due(s.At(i), 1<<40))
		}
	}
}
