package configs

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ByteSize is a size in bytes, written in YAML as an integer or with a unit:
// "512KB", "10MB", "1.5MB", "1GiB". Units are binary whatever their
// spelling (MB = MiB = 1024*1024), as in the original's max_file_size.
type ByteSize int64

// Binary size units.
const (
	KiB ByteSize = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

var byteUnits = map[string]ByteSize{
	"": 1, "b": 1,
	"k": KiB, "kb": KiB, "kib": KiB,
	"m": MiB, "mb": MiB, "mib": MiB,
	"g": GiB, "gb": GiB, "gib": GiB,
	"t": TiB, "tb": TiB, "tib": TiB,
}

// ParseByteSize parses "1048576", "512KB", "1.5 MB", "1GiB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := byteUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil {
		if strings.HasPrefix(t, "-") {
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		}
		return 0, fmt.Errorf("invalid size %q: use bytes (1048576) or a unit (512KB, 10MB, 1GB)", s)
	}
	return bytesChecked(f*float64(mult), s)
}

func bytesChecked(f float64, text string) (ByteSize, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64:
		return 0, fmt.Errorf("invalid size %q: out of range", text)
	case f < 0:
		return 0, fmt.Errorf("invalid size %q: must not be negative", text)
	}
	return ByteSize(f), nil
}

// String formats b with the largest unit that divides it ("10MB", "1GB",
// "1536KB", "100B"); ParseByteSize reads it back.
func (b ByteSize) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range []struct {
		size ByteSize
		name string
	}{{TiB, "TB"}, {GiB, "GB"}, {MiB, "MB"}, {KiB, "KB"}} {
		if b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// UnmarshalYAML accepts an integer number of bytes or a size string.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	return decodeUnit(n, b, "a size (bytes or \"10MB\")", bytesChecked, ParseByteSize)
}

// MarshalYAML writes b as a size string ("10MB").
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }
