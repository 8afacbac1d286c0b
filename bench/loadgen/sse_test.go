package loadgen

import "testing"

func TestSSEScanner(t *testing.T) {
	cases := []struct {
		name   string
		pieces []string
		want   int
	}{
		{"one event", []string{"data: a\n\n"}, 1},
		{"two events", []string{"data: a\n\ndata: b\n\n"}, 2},
		{"crlf", []string{"data: a\r\n\r\ndata: b\r\n\r\n"}, 2},
		{"multi-line event", []string{"event: x\ndata: a\ndata: b\n\n"}, 1},
		{"split everywhere", []string{"da", "ta: a", "\n", "\n", "data: b\r", "\n\r", "\n"}, 2},
		{"leading blank lines", []string{"\n\n\ndata: a\n\n"}, 1},
		{"unterminated", []string{"data: a\n"}, 0},
		{"comment counts as a line", []string{": ping\n\n"}, 1},
		{"extra blank lines", []string{"data: a\n\n\n\ndata: b\n\n"}, 2},
	}
	for _, c := range cases {
		var s sseScanner
		n := 0
		for _, p := range c.pieces {
			n += s.feed([]byte(p))
		}
		if n != c.want {
			t.Errorf("%s: %d events, want %d", c.name, n, c.want)
		}
	}
}
