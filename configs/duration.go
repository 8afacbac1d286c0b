package configs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in YAML either as a number of seconds
// (30, 0.5 — what the original gateway used) or as a Go duration string
// ("250ms", "1m30s").
type Duration time.Duration

// Seconds returns s seconds as a Duration.
func Seconds(s float64) Duration { return Duration(s * float64(time.Second)) }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration ("30s", "250ms").
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses "30" or "0.5" (seconds) and Go durations ("250ms").
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return secondsChecked(f, s)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use seconds (30, 0.5) or a Go duration (250ms, 1m30s)", s)
	}
	return Duration(d), nil
}

func secondsChecked(f float64, text string) (Duration, error) {
	const maxSeconds = float64(math.MaxInt64) / float64(time.Second)
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxSeconds {
		return 0, fmt.Errorf("invalid duration %q: out of range", text)
	}
	return Seconds(f), nil
}

// UnmarshalYAML accepts a number of seconds or a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return decodeUnit(n, d, "a duration (seconds or \"250ms\")", secondsChecked, ParseDuration)
}

// MarshalYAML writes d as a Go duration string, which UnmarshalYAML reads back.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// jsonValue is d in seconds, as the original's /config showed timeouts.
func (d Duration) jsonValue() any {
	if d%Duration(time.Second) == 0 {
		return int64(d / Duration(time.Second))
	}
	return time.Duration(d).Seconds()
}
