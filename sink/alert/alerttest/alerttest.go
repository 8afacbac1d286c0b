// Package alerttest is a local webhook endpoint for tests of alert
// delivery: it fails the first deliveries it is told to fail and records
// every request. It is test infrastructure: the product never imports it.
package alerttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Delivery is one request the receiver got, with the status it answered.
type Delivery struct {
	Header http.Header
	Body   []byte
	Status int
}

// Receiver is the endpoint; URL is its base URL.
type Receiver struct {
	URL  string
	mu   sync.Mutex
	fail int
	got  []Delivery
}

// Start serves until the test ends. The first fail deliveries are answered
// 503, the others 204.
func Start(t testing.TB, fail int) *Receiver {
	r := &Receiver{fail: fail}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		st := http.StatusNoContent
		if r.fail > 0 {
			r.fail--
			st = http.StatusServiceUnavailable
		}
		r.got = append(r.got, Delivery{req.Header.Clone(), b, st})
		w.WriteHeader(st)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Deliveries returns every request received so far, failed ones included.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Delivered returns the requests received so far that were answered with
// success.
func (r *Receiver) Delivered() []Delivery {
	var out []Delivery
	for _, d := range r.Deliveries() {
		if d.Status < 300 {
			out = append(out, d)
		}
	}
	return out
}
