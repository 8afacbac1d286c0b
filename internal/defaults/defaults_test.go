package defaults

import (
	"testing"
	"time"
)

func TestSetFillsOnlyUnsetFields(t *testing.T) {
	var zero, negative, set = 0, -3, 7
	Set(&zero, 5)
	Set(&negative, 5)
	Set(&set, 5)
	if zero != 5 || negative != 5 || set != 7 {
		t.Fatalf("zero %d, negative %d, set %d; want 5, 5, 7", zero, negative, set)
	}
	d := time.Duration(0)
	Set(&d, time.Second)
	f := 0.25
	Set(&f, 1)
	if d != time.Second || f != 0.25 {
		t.Fatalf("duration %v, float %v", d, f)
	}
}
