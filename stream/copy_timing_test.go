package stream

import (
	"io"
	"testing"
)

type nopTap struct{ n int }

func (t *nopTap) Event(ev []byte) { t.n += len(ev) }

// BenchmarkCopy measures one 20-event OpenAI-like stream read in 20 reads.
func BenchmarkCopy(b *testing.B) {
	var tap nopTap
	benchCopy(b, &tap)
}

// BenchmarkCopyNoTap is BenchmarkCopy without a tap: bytes moved, not
// looked at.
func BenchmarkCopyNoTap(b *testing.B) {
	benchCopy(b, nil)
}

func benchCopy(b *testing.B, tap Tap) {
	ev := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hello"},"finish_reason":null}]}` + "\n\n")
	src := &chunkReader{}
	parts := make([][]byte, 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(ev) * 20))
	for b.Loop() {
		for i := range parts {
			parts[i] = ev
		}
		src.chunks = parts[:]
		c := AcquireCopier()
		c.Copy(io.Discard, src, tap)
		ReleaseCopier(c)
	}
}
