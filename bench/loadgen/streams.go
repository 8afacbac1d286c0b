package loadgen

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// HoldStreams opens streaming requests in steps and keeps them open: after
// step k, Steps[k] streams have each delivered their first SSE event and
// are still running. The answers must outlast the run (many slow chunks); the
// streams are cut by closing their connections at the end.
type HoldStreams struct {
	Addr    string
	Request []byte
	Steps   []int         // cumulative open streams after each step, increasing
	Settle  time.Duration // pause after a step's streams are all open, before OnStep
	Timeout time.Duration // longest a step may take to open; default 15s
	// OnStep is called after each step with the number of open streams.
	OnStep func(open int)
}

// HoldStats counts what a HoldStreams run saw.
type HoldStats struct {
	Opened   int       // streams that delivered a first event
	Failed   int       // streams that failed to open or ended before the run did
	TTFB     Histogram // request sent → first byte, per stream
	FirstErr string
}

type holder struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *holder) add(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		return false // already closed
	}
	h.conns = append(h.conns, c)
	return true
}

func (h *holder) closeAll() {
	h.mu.Lock()
	conns := h.conns
	h.conns = nil
	h.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Run opens the steps one after the other, then closes every stream. It
// returns an error when a step cannot be completed in time; streams opened
// so far are closed either way.
func (hs HoldStreams) Run(ctx context.Context) (*HoldStats, error) {
	timeout := hs.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	st := &HoldStats{}
	h := &holder{conns: []net.Conn{}}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		opened   atomic.Int64
		finished atomic.Int64 // ended before being closed by us
		stopping atomic.Bool
	)
	fail := func(err error) {
		mu.Lock()
		st.Failed++
		if st.FirstErr == "" {
			st.FirstErr = err.Error()
		}
		mu.Unlock()
	}
	defer func() {
		stopping.Store(true)
		h.closeAll()
		wg.Wait()
		st.Opened = int(opened.Load())
	}()

	sem := make(chan struct{}, 64) // streams being opened at once
	launched := 0
	for _, target := range hs.Steps {
		deadline := time.Now().Add(timeout)
		for ; launched < target; launched++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				released := false
				release := func() {
					if !released {
						released = true
						<-sem
					}
				}
				defer release()
				d := net.Dialer{Deadline: deadline}
				nc, err := d.DialContext(ctx, "tcp", hs.Addr)
				if err != nil {
					fail(err)
					return
				}
				if !h.add(nc) {
					nc.Close()
					return
				}
				c := &Conn{addr: hs.Addr, c: nc, buf: make([]byte, 4<<10)}
				sent := time.Now()
				if _, err := nc.Write(hs.Request); err != nil {
					fail(err)
					return
				}
				var res Result
				hd, err := c.readHead(&res)
				if err == nil && res.Status != 200 {
					err = fmt.Errorf("HTTP status %d", res.Status)
				}
				if err != nil {
					if !stopping.Load() {
						fail(err)
					}
					return
				}
				mu.Lock()
				st.TTFB.Record(res.FirstByte.Sub(sent))
				mu.Unlock()
				c.onEvent = func() {
					if !released {
						opened.Add(1)
						release()
					}
				}
				nc.SetDeadline(time.Time{})
				err = c.readBody(&res, hd, nil)
				if !stopping.Load() {
					finished.Add(1)
					if err == nil {
						err = fmt.Errorf("stream ended after %d events while it was held (make it longer)", res.Events)
					}
					fail(err)
				}
			}()
		}
		for int(opened.Load())+st.failed(&mu) < target {
			if time.Now().After(deadline) {
				return st, fmt.Errorf("step to %d open streams: only %d opened within %s (%s)", target, opened.Load(), timeout, st.firstErr(&mu))
			}
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return st, ctx.Err()
			}
		}
		if n := st.failed(&mu); n > 0 {
			return st, fmt.Errorf("step to %d open streams: %d failed (%s)", target, n, st.firstErr(&mu))
		}
		select {
		case <-time.After(hs.Settle):
		case <-ctx.Done():
			return st, ctx.Err()
		}
		if hs.OnStep != nil {
			hs.OnStep(int(opened.Load()))
		}
	}
	return st, nil
}

func (st *HoldStats) failed(mu *sync.Mutex) int {
	mu.Lock()
	defer mu.Unlock()
	return st.Failed
}

func (st *HoldStats) firstErr(mu *sync.Mutex) string {
	mu.Lock()
	defer mu.Unlock()
	return st.FirstErr
}
