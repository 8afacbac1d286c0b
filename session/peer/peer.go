// Package peer carries session lookups between the instances of one
// deployment over HTTP: Client is a session.Peers that asks every peer at
// once and takes the first that knows the session; Handler answers the
// peers' questions from this instance's session.Table.
//
// A lookup is one POST of a session.Probe (fingerprints, never texts,
// about 300 bytes) to http://ADDRESS/session/lookup with the shared token
// as a bearer token; the answer is 200 with a session.PeerAnswer, or 204
// when the peer does not know the session. Lookups are bounded: a Client
// waits at most Config.Timeout for all peers, and a peer that failed or
// timed out is skipped for Config.DownFor, so that a dead or slow peer
// costs one timeout per DownFor, not one per request. Failures never fail
// a request: the table starts a new session, as an isolated instance
// would, and Stats counts what happened.
//
// The listener is its own port (session.peers.listen), never the proxy's:
// agents that reach the proxy cannot ask for sessions, and the token
// guards the port from everything else. An instance that finds its own
// address among its peers recognises itself by a per-process id and stops
// asking it.
package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cylestio/perimeter/session"
)

// Path is where Handler answers.
const Path = "/session/lookup"

// Defaults of Config.
const (
	DefaultTimeout = 25 * time.Millisecond
	DefaultDownFor = 5 * time.Second
)

// maxPeers bounds the peers one Client asks.
const maxPeers = 64

// MinTokenLength is the shortest token Client and Handler accept.
const MinTokenLength = 16

// instanceHeader carries the asking process's id, so that a process that
// lists itself among its peers learns so from its own answer.
const instanceHeader = "X-Perimeter-Instance"

// statusSelf answers a lookup that came from this very process.
const statusSelf = http.StatusLoopDetected

// self is this process's id.
var self = func() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// ProcessID is a random id of this process, the default instance id of
// Client and Handler.
func ProcessID() string { return self }

// Config configures a Client.
type Config struct {
	// Addresses are the peers' lookup listeners, host:port (or URLs
	// http://host:port). This instance's own address may be among them.
	Addresses []string
	// Token is the shared secret every instance of the deployment is
	// configured with (at least MinTokenLength characters).
	Token string
	// Timeout bounds one lookup, all peers together. 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// DownFor is how long a peer that failed or timed out is not asked.
	// 0 means DefaultDownFor.
	DownFor time.Duration
	// Instance identifies this instance to the peers, so that it stops
	// asking itself; it must be what this instance's Handler was given.
	// Empty means ProcessID().
	Instance string
}

// Client asks the configured peers; it implements session.Peers and is
// safe for concurrent use.
type Client struct {
	peers   []*remote
	token   string
	self    string
	timeout time.Duration
	downFor time.Duration
	http    *http.Client
	stats   counters
}

type remote struct {
	addr      string
	url       string
	downUntil atomic.Int64 // unix nanoseconds
	self      atomic.Bool
	errors    atomic.Uint64
}

type counters struct {
	lookups, found, notFound, timeouts, errors, skipped, allDown atomic.Uint64
	nanos                                                        atomic.Uint64 // time spent in lookups
	inflight                                                     atomic.Int64
}

// NewClient checks cfg and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.Addresses) == 0 {
		return nil, errors.New("session peers: no peer addresses (set session.peers.addresses)")
	}
	if len(cfg.Addresses) > maxPeers {
		return nil, fmt.Errorf("session peers: %d addresses, at most %d (route by a header hash instead, see docs/sessions.md)", len(cfg.Addresses), maxPeers)
	}
	if len(cfg.Token) < MinTokenLength {
		return nil, fmt.Errorf("session peers: the token must have at least %d characters (set session.peers.token, the same on every instance)", MinTokenLength)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DownFor <= 0 {
		cfg.DownFor = DefaultDownFor
	}
	if cfg.Instance == "" {
		cfg.Instance = self
	}
	c := &Client{token: "Bearer " + cfg.Token, self: cfg.Instance, timeout: cfg.Timeout, downFor: cfg.DownFor}
	for _, a := range cfg.Addresses {
		host, err := HostPort(a)
		if err != nil {
			return nil, err
		}
		c.peers = append(c.peers, &remote{addr: host, url: "http://" + host + Path})
	}
	c.http = &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	return c, nil
}

// HostPort returns the host:port of a peer address given as host:port or
// as an http:// URL without a path.
func HostPort(addr string) (string, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "http://"), "/")
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" || strings.ContainsAny(s, "/?#@") {
		return "", fmt.Errorf("session peers: address %q: want host:port, for example 10.0.0.2:4101", addr)
	}
	return s, nil
}

// Asking reports whether a Lookup is in progress: the caller (this
// instance's capture) waits on the peers.
func (c *Client) Asking() bool { return c != nil && c.stats.inflight.Load() > 0 }

// Close releases idle connections.
func (c *Client) Close() {
	if c != nil {
		c.http.CloseIdleConnections()
	}
}

type reply struct {
	from int // index in the asked list
	ok   bool
	ans  session.PeerAnswer
}

// Lookup asks every peer that is up at once and fills a from the first
// that knows the session. It returns within the Timeout.
func (c *Client) Lookup(p *session.Probe, a *session.PeerAnswer) bool {
	began := time.Now()
	c.stats.lookups.Add(1)
	c.stats.inflight.Add(1)
	defer func() {
		c.stats.nanos.Add(uint64(time.Since(began)))
		c.stats.inflight.Add(-1)
	}()
	body, _ := p.AppendBinary(make([]byte, 0, session.MaxProbeSize))
	now := began.UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	replies := make(chan reply, len(c.peers))
	var asked [maxPeers]*remote
	n := 0
	for _, r := range c.peers {
		if r.self.Load() {
			continue
		}
		if r.downUntil.Load() > now {
			c.stats.skipped.Add(1)
			continue
		}
		i := n
		asked[i] = r
		n++
		go func() {
			rep := c.ask(ctx, r, body)
			rep.from = i
			replies <- rep
		}()
	}
	if n == 0 {
		c.stats.allDown.Add(1)
		return false
	}
	for i := 0; i < n; i++ {
		select {
		case rep := <-replies:
			asked[rep.from] = nil
			if rep.ok {
				*a = rep.ans
				c.stats.found.Add(1)
				return true
			}
		case <-ctx.Done():
			// The peers that did not answer in time are slow: skip them
			// for a while.
			c.stats.timeouts.Add(1)
			until := time.Now().Add(c.downFor).UnixNano()
			for _, r := range asked[:n] {
				if r != nil {
					r.downUntil.Store(until)
				}
			}
			return false
		}
	}
	c.stats.notFound.Add(1)
	return false
}

// ask posts the probe to one peer.
func (c *Client) ask(ctx context.Context, r *remote, body []byte) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return c.failed(r)
	}
	req.Header.Set("Authorization", c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(instanceHeader, c.self)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return reply{} // another peer answered first, or Lookup timed out
		}
		return c.failed(r)
	}
	defer resp.Body.Close()
	var buf [session.MaxAnswerSize + 1]byte
	n, err := io.ReadFull(io.LimitReader(resp.Body, int64(len(buf))), buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		if ctx.Err() != nil {
			// Another peer answered first while this one's answer was
			// still arriving: not a failure of this peer.
			return reply{}
		}
		return c.failed(r)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var rep reply
		if rep.ans.UnmarshalBinary(buf[:n]) != nil {
			return c.failed(r)
		}
		rep.ok = true
		return rep
	case http.StatusNoContent:
		return reply{}
	case statusSelf:
		r.self.Store(true)
		return reply{}
	}
	return c.failed(r) // 401 (tokens differ), 400 (versions differ), 503
}

// failed marks r down for DownFor.
func (c *Client) failed(r *remote) reply {
	r.errors.Add(1)
	c.stats.errors.Add(1)
	r.downUntil.Store(time.Now().Add(c.downFor).UnixNano())
	return reply{}
}

// Stats is a snapshot of a Client's counters; the JSON names are those
// /metrics publishes under "session_peers".
type Stats struct {
	// Peers is the number of configured peers, Self of them this process
	// itself, Down of them skipped at the moment after a failure.
	Peers int `json:"peers"`
	Self  int `json:"self"`
	Down  int `json:"down"`
	// Lookups counts lookups; Found those a peer answered, NotFound those
	// every asked peer said it did not know, Timeouts those that ran out
	// of time, AllDown those with no peer to ask.
	Lookups  uint64 `json:"lookups"`
	Found    uint64 `json:"found"`
	NotFound uint64 `json:"not_found"`
	Timeouts uint64 `json:"timeouts"`
	AllDown  uint64 `json:"all_down"`
	// Errors counts failed questions to one peer (refused connection, bad
	// status: another token or version); Skipped the questions not asked
	// because the peer was down.
	Errors  uint64 `json:"errors"`
	Skipped uint64 `json:"skipped"`
	// MeanMicros is the mean time of a lookup, in microseconds.
	MeanMicros float64 `json:"mean_lookup_us"`
}

// Stats returns a snapshot.
func (c *Client) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	now := time.Now().UnixNano()
	st := Stats{
		Peers:    len(c.peers),
		Lookups:  c.stats.lookups.Load(),
		Found:    c.stats.found.Load(),
		NotFound: c.stats.notFound.Load(),
		Timeouts: c.stats.timeouts.Load(),
		AllDown:  c.stats.allDown.Load(),
		Errors:   c.stats.errors.Load(),
		Skipped:  c.stats.skipped.Load(),
	}
	for _, r := range c.peers {
		switch {
		case r.self.Load():
			st.Self++
		case r.downUntil.Load() > now:
			st.Down++
		}
	}
	if st.Lookups > 0 {
		st.MeanMicros = float64(c.stats.nanos.Load()) / float64(st.Lookups) / 1e3
	}
	return st
}

// Handler answers peers' lookups from tab. Requests without the token get
// 401; anything but a POST of a probe to Path gets 404, 405 or 400; a
// lookup from instance (this instance itself, empty meaning ProcessID())
// gets 508, which tells the Client to stop asking itself.
func Handler(tab *session.Table, token, instance string) http.Handler {
	return handler(tab, token, instance, nil)
}

func handler(tab *session.Table, token, instance string, before *atomic.Pointer[func()]) http.Handler {
	if instance == "" {
		instance = self
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != Path {
			http.NotFound(w, req)
			return
		}
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "session lookups are POSTed", http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "session lookup: missing or wrong token (session.peers.token must be the same on every instance)", http.StatusUnauthorized)
			return
		}
		if req.Header.Get(instanceHeader) == instance {
			w.WriteHeader(statusSelf)
			return
		}
		var buf [session.MaxProbeSize + 1]byte
		n, err := io.ReadFull(io.LimitReader(req.Body, int64(len(buf))), buf[:])
		if (err != nil && !errors.Is(err, io.ErrUnexpectedEOF)) || n > session.MaxProbeSize {
			http.Error(w, "session lookup: unreadable probe", http.StatusBadRequest)
			return
		}
		var p session.Probe
		if err := p.UnmarshalBinary(buf[:n]); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if before != nil {
			if f := before.Load(); f != nil {
				(*f)()
			}
		}
		var a session.PeerAnswer
		if !tab.Answer(&p, &a) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		out, _ := a.AppendBinary(make([]byte, 0, session.MaxAnswerSize))
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(out)
	})
}

// Server is a running lookup listener.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	done   chan struct{}
	once   sync.Once
	before atomic.Pointer[func()]
}

// BeforeAnswer makes the Server call f before it answers each lookup: the
// proxy's hook that brings the session table up to date with the calls it
// has answered but not yet captured.
func (s *Server) BeforeAnswer(f func()) { s.before.Store(&f) }

// Listen serves Handler(tab, token, instance) on addr (host:port).
func Listen(addr string, tab *session.Table, token, instance string) (*Server, error) {
	if len(token) < MinTokenLength {
		return nil, fmt.Errorf("session peers: the token must have at least %d characters (set session.peers.token, the same on every instance)", MinTokenLength)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("session peers: listen on %s: %w (is session.peers.listen free?)", addr, err)
	}
	s := &Server{ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           handler(tab, token, instance, &s.before),
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the Server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the Server and waits for its goroutine.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
		<-s.done
	})
	return err
}
