package otel

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// queue is the span processor between the tracer and the exporter: a
// bounded channel that drops (and counts) what does not fit, and one
// goroutine that batches and exports. The SDK's BatchSpanProcessor drops
// silently; operators need the count.
type queue struct {
	exp     sdktrace.SpanExporter
	spans   chan sdktrace.ReadOnlySpan
	batch   int
	timeout time.Duration

	flush chan chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	enqueued, exported, dropped, failedSpans, failures atomic.Uint64
	lastErr                                            atomic.Value // string
}

func newQueue(exp sdktrace.SpanExporter, size, batch int, timeout time.Duration) *queue {
	q := &queue{exp: exp, spans: make(chan sdktrace.ReadOnlySpan, size), batch: batch, timeout: timeout,
		flush: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *queue) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s, or drops and counts it when the queue is full.
func (q *queue) OnEnd(s sdktrace.ReadOnlySpan) {
	select {
	case q.spans <- s:
		q.enqueued.Add(1)
	default:
		q.dropped.Add(1)
	}
}

func (q *queue) run() {
	defer close(q.done)
	buf := make([]sdktrace.ReadOnlySpan, 0, q.batch)
	t := time.NewTimer(q.timeout)
	defer t.Stop()
	send := func() {
		if len(buf) == 0 {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // an export in progress ends with the queue
			select {
			case <-q.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := q.exp.ExportSpans(ctx, buf)
		cancel()
		if err != nil {
			q.failures.Add(1)
			q.failedSpans.Add(uint64(len(buf)))
			q.lastErr.Store(err.Error())
		} else {
			q.exported.Add(uint64(len(buf)))
		}
		clear(buf)
		buf = buf[:0]
	}
	drain := func() {
		for {
			select {
			case s := <-q.spans:
				buf = append(buf, s)
				if len(buf) == q.batch {
					send()
				}
			default:
				send()
				return
			}
		}
	}
	for {
		select {
		case s := <-q.spans:
			buf = append(buf, s)
			if len(buf) >= q.batch {
				send()
				t.Reset(q.timeout)
			}
		case <-t.C:
			send()
			t.Reset(q.timeout)
		case ack := <-q.flush:
			drain()
			close(ack)
		case <-q.stop:
			return
		}
	}
}

// ForceFlush exports what is queued and returns when done or ctx ends.
func (q *queue) ForceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case q.flush <- ack:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown flushes within ctx, then stops the goroutine and the exporter;
// what could not be exported by then is counted as dropped.
func (q *queue) Shutdown(ctx context.Context) error {
	err := q.ForceFlush(ctx)
	q.once.Do(func() { close(q.stop) })
	<-q.done
	for {
		select {
		case <-q.spans:
			q.dropped.Add(1)
			continue
		default:
		}
		break
	}
	if e := q.exp.Shutdown(ctx); err == nil {
		err = e
	}
	return err
}
