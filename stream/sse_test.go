package stream

import (
	"bytes"
	"testing"
)

func TestEventEnd(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", -1},
		{"data: x", -1},
		{"data: x\n", -1},
		{"data: x\n\n", 9},
		{"data: x\n\ndata: y\n\n", 9},
		{"data: x\r\n\r\n", 11},
		{"data: x\r\rdata: y", 9},
		{"event: a\ndata: x\n\n", 18},
		{"event: a\r\ndata: x\r\n\r\nrest", 21},
		{"data: x\r\n\n", 10},
		{"\n", 1},
		{"\r\n", 2},
		{": comment\n\n", 11},
		{"data: x\r", -1},
		{"data: x\r\n\r", 10},
	}
	for _, tt := range tests {
		if got := EventEnd([]byte(tt.in)); got != tt.want {
			t.Errorf("EventEnd(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFields(t *testing.T) {
	ev := []byte("event: message_start\r\n: keep-alive\ndata: {\"a\":1}\nid:7\nretry\n\n")
	f := NewFields(ev)
	var got []string
	for {
		fld, ok := f.Next()
		if !ok {
			break
		}
		got = append(got, string(fld.Name)+"="+string(fld.Value))
	}
	want := []string{"event=message_start", "=keep-alive", `data={"a":1}`, "id=7", "retry="}
	if len(got) != len(want) {
		t.Fatalf("fields = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestNameAndData(t *testing.T) {
	tests := []struct {
		ev, name, data string
	}{
		{"data: [DONE]\n\n", "", "[DONE]"},
		{"event: ping\ndata: {}\n\n", "ping", "{}"},
		{"data: a\ndata: b\ndata:c\n\n", "", "a\nb\nc"},
		{"event: x\n\n", "x", ""},
		{"data:  two spaces\n\n", "", " two spaces"},
	}
	for _, tt := range tests {
		if got := string(Name([]byte(tt.ev))); got != tt.name {
			t.Errorf("Name(%q) = %q, want %q", tt.ev, got, tt.name)
		}
		if got := string(Data(nil, []byte(tt.ev))); got != tt.data {
			t.Errorf("Data(%q) = %q, want %q", tt.ev, got, tt.data)
		}
	}
}

func TestDataSingleLineAliases(t *testing.T) {
	ev := []byte("data: {\"x\":1}\n\n")
	d := Data(nil, ev)
	if &d[0] != &ev[6] {
		t.Fatal("single-line data should alias the event, not copy it")
	}
}

func FuzzEventEnd(f *testing.F) {
	for _, s := range []string{"data: x\n\n", "a\r\n\r\nb", "\r\r", "event: e\ndata: d\n\ndata: [DONE]\n\n", ":\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := EventEnd(b)
		if n < -1 || n > len(b) || n == 0 {
			t.Fatalf("EventEnd = %d for %d bytes", n, len(b))
		}
		if n > 0 {
			ev := b[:n]
			if last := ev[n-1]; last != '\n' && last != '\r' {
				t.Fatalf("event %q does not end with a line end", ev)
			}
			// An event never contains an earlier complete event.
			if m := EventEnd(ev[:n-1]); m > 0 && m < n-1 && !bytes.ContainsAny(ev[m:n-1], "\r\n") {
				t.Fatalf("inconsistent boundaries %d and %d in %q", m, n, ev)
			}
		}
		f := NewFields(b)
		for {
			fld, ok := f.Next()
			if !ok {
				break
			}
			if bytes.ContainsAny(fld.Name, "\r\n:") || bytes.ContainsAny(fld.Value, "\r\n") {
				t.Fatalf("field %q=%q crosses a line", fld.Name, fld.Value)
			}
		}
		_ = Data(nil, b)
	})
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{"text/event-stream": true, "Text/Event-Stream; charset=utf-8": true,
		"text/event": false, "application/json": false, "": false} {
		if got := IsEventStream([]byte(ct)); got != want {
			t.Errorf("%q: %v", ct, got)
		}
	}
}
