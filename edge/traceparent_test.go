package edge

import (
	"testing"

	"github.com/cylestio/perimeter/edge/capture"
	"github.com/valyala/fasthttp"
)

func TestValidTraceparent(t *testing.T) {
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false}, // zero trace id
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false}, // zero parent
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false}, // upper case
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false}, // other version
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", false},
		{"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"", false},
	} {
		if got := validTraceparent([]byte(c.v)); got != c.ok {
			t.Errorf("validTraceparent(%q) = %v, want %v", c.v, got, c.ok)
		}
	}
}

// FuzzTraceparent: any header value either is rejected or yields a
// rewritten header that keeps its version, trace id and flags and names a
// new, valid parent.
func FuzzTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g")
	f.Fuzz(func(t *testing.T, v string) {
		if !validTraceparent([]byte(v)) {
			return
		}
		p := &Proxy{}
		ex := &exchange{}
		ctx := newTestCtx(v)
		p.continueTrace(ctx, ex)
		got := string(ex.req.Header.Peek("Traceparent"))
		if ex.span == 0 || !validTraceparent([]byte(got)) || got[:36] != v[:36] || got[52:] != v[52:] ||
			got[36:52] != string(capture.AppendSpanID(nil, ex.span)) {
			t.Fatalf("%q rewritten as %q (span %x)", v, got, ex.span)
		}
	})
}

func newTestCtx(traceparent string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.Set("Traceparent", traceparent)
	return ctx
}
