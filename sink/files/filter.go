package files

import (
	"context"

	"github.com/cylestio/perimeter/sink"
)

// filtered is a Writer that passes on only the events keep accepts.
type filtered struct {
	sink.Writer
	keep func(name string) bool
}

// Except wraps w so that it never sees events with one of the given names
// (typically httprec.EventName, which only HTTPRecorder wants). Name and Close
// are w's own, so spill directories and logs are unchanged.
func Except(w sink.Writer, names ...string) sink.Writer {
	return &filtered{Writer: w, keep: func(n string) bool { return !contains(names, n) }}
}

// Only wraps w so that it sees only events with one of the given names.
func Only(w sink.Writer, names ...string) sink.Writer {
	return &filtered{Writer: w, keep: func(n string) bool { return contains(names, n) }}
}

func contains(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// WriteBatch hands w the kept events, without copying when all are kept;
// a batch with none is not passed on.
func (f *filtered) WriteBatch(ctx context.Context, batch []*sink.Event) error {
	var out []*sink.Event
	copied := false
	for i, ev := range batch {
		switch {
		case f.keep(ev.Name):
			if copied {
				out = append(out, ev)
			}
		case !copied:
			out = append(make([]*sink.Event, 0, len(batch)-1), batch[:i]...)
			copied = true
		}
	}
	if !copied {
		out = batch
	}
	if len(out) == 0 {
		return nil
	}
	return f.Writer.WriteBatch(ctx, out)
}

// Unwrap returns the wrapped writer.
func (f *filtered) Unwrap() sink.Writer { return f.Writer }

// SkipProcess wraps a pipeline Process function (detection) so that
// events with one of the given names bypass it: they are appended, in
// their order, after what process returns.
func SkipProcess(process func([]*sink.Event) []*sink.Event, names ...string) func([]*sink.Event) []*sink.Event {
	return func(batch []*sink.Event) []*sink.Event {
		var rest, skipped []*sink.Event
		split := false
		for i, ev := range batch {
			switch {
			case contains(names, ev.Name):
				if !split {
					rest = append(make([]*sink.Event, 0, len(batch)), batch[:i]...)
					split = true
				}
				skipped = append(skipped, ev)
			case split:
				rest = append(rest, ev)
			}
		}
		if !split {
			return process(batch)
		}
		if len(rest) > 0 {
			rest = process(rest)
		}
		return append(rest, skipped...)
	}
}
