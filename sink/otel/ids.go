package otel

import (
	"context"
	crand "crypto/rand"

	"go.opentelemetry.io/otel/trace"
)

// The SDK's tracer draws ids from its IDGenerator; the ids of our spans are
// already chosen (by edge, for the events), so the generator hands back the
// ones the caller put in the context.

type idsKey struct{}

type wantIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

func withIDs(ctx context.Context, t trace.TraceID, s trace.SpanID) context.Context {
	return context.WithValue(ctx, idsKey{}, wantIDs{t, s})
}

type presetIDs struct{}

func (presetIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	w, _ := ctx.Value(idsKey{}).(wantIDs)
	if !w.trace.IsValid() {
		_, _ = crand.Read(w.trace[:])
	}
	if !w.span.IsValid() {
		w.span = randomSpan()
	}
	return w.trace, w.span
}

func (presetIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if w, ok := ctx.Value(idsKey{}).(wantIDs); ok && w.span.IsValid() {
		return w.span
	}
	return randomSpan()
}

func randomSpan() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		_, _ = crand.Read(s[:])
	}
	return s
}
