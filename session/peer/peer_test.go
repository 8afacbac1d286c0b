package peer

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/session"
)

const testToken = "a-peer-token-of-32-characters-ok"

// cluster is n session tables, each serving lookups on 127.0.0.1 and
// asking the others (its own address listed too, as one config for all
// instances would).
type cluster struct {
	tables  []*session.Table
	clients []*Client
	servers []*Server
}

func newCluster(t testing.TB, n int, peers bool) *cluster {
	t.Helper()
	c := &cluster{}
	var lns []net.Listener
	var addrs []string
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for i := 0; i < n; i++ {
		cfg := session.DefaultConfig()
		if peers {
			cl, err := NewClient(Config{Addresses: addrs, Token: testToken, Timeout: 5 * time.Second, Instance: fmt.Sprint("instance-", i)})
			if err != nil {
				t.Fatal(err)
			}
			c.clients = append(c.clients, cl)
			cfg.Peers = cl
		}
		tab := session.New(cfg)
		c.tables = append(c.tables, tab)
		addr := lns[i].Addr().String()
		lns[i].Close()
		srv, err := Listen(addr, tab, testToken, fmt.Sprint("instance-", i))
		if err != nil {
			t.Fatal(err)
		}
		c.servers = append(c.servers, srv)
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			s.Close()
		}
		for _, cl := range c.clients {
			cl.Close()
		}
	})
	return c
}

// chat is one conversation of the traffic: a system prompt shared by its
// agent, turns of user text and model answers, a tool call now and then.
type chat struct {
	id      int
	system  string
	history []session.Message
	turns   int
}

func text(rng *rand.Rand, n int) string {
	words := strings.Fields("flight hotel invoice refund order shipment delay weather report budget meeting contract review deploy latency index backup ticket account payment")
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

// traffic interleaves conversations of several turns, as a load balancer
// in front of the instances sees them: each element is a request and the
// reply the model gives it.
type exchange struct {
	chat  int
	conv  *session.Conversation
	reply session.Message
}

func traffic(seed uint64, chats int) []exchange {
	rng := rand.New(rand.NewPCG(seed, seed))
	var active []*chat
	var out []exchange
	started := 0
	for started < chats || len(active) > 0 {
		for started < chats && len(active) < 16 {
			started++
			c := &chat{id: started, system: fmt.Sprintf("You are agent %d. Answer briefly.", rng.IntN(4)), turns: 2 + rng.IntN(6)}
			c.history = append(c.history, msg("user", fmt.Sprintf("Task %d: %s", started, text(rng, 12))))
			active = append(active, c)
		}
		i := rng.IntN(len(active))
		c := active[i]
		conv := &session.Conversation{System: []byte(c.system), HasSystem: true, Messages: append([]session.Message(nil), c.history...)}
		var reply session.Message
		if rng.IntN(3) == 0 {
			id := fmt.Sprintf("call_%x", rng.Uint64())
			reply = session.Message{Role: []byte("assistant"), CallID: []byte(id)}
			c.history = append(c.history, reply, session.Message{Role: []byte("tool"), CallID: []byte(id), Content: []byte(`{"ok":"` + text(rng, 4) + `"}`)})
		} else {
			reply = msg("assistant", text(rng, 20))
			c.history = append(c.history, reply, msg("user", text(rng, 8)))
			c.turns--
		}
		out = append(out, exchange{chat: c.id, conv: conv, reply: reply})
		if c.turns == 0 {
			active[i] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	return out
}

func msg(role, s string) session.Message {
	return session.Message{Role: []byte(role), Content: []byte(s)}
}

// roundRobin sends request k to table k mod n and counts the sessions.
func (c *cluster) roundRobin(reqs []exchange) (sessions, conversations, wrong int) {
	owner := map[string]int{}
	seen := map[int]bool{}
	for i, x := range reqs {
		tab := c.tables[i%len(c.tables)]
		r := tab.Resolve(x.conv)
		id := string(r.ID())
		if o, ok := owner[id]; !ok {
			owner[id] = x.chat
		} else if o != x.chat {
			wrong++
		}
		seen[x.chat] = true
		tab.Reply(&r, &x.reply, nil)
	}
	return len(owner), len(seen), wrong
}

// TestRoundRobinOverHTTP measures sessions per conversation when request
// k of interleaved multi-turn traffic goes to instance k mod n: isolated
// instances fragment; instances that ask their peers over HTTP keep one
// session per conversation.
func TestRoundRobinOverHTTP(t *testing.T) {
	reqs := traffic(1, 120)
	for _, n := range []int{2, 4} {
		isolated := newCluster(t, n, false)
		s0, convs, _ := isolated.roundRobin(reqs)
		peered := newCluster(t, n, true)
		began := time.Now()
		s1, _, wrong := peered.roundRobin(reqs)
		elapsed := time.Since(began)
		var st Stats
		for _, cl := range peered.clients {
			s := cl.Stats()
			st.Lookups += s.Lookups
			st.Found += s.Found
			st.Errors += s.Errors
			st.Self += s.Self
			st.MeanMicros += s.MeanMicros / float64(n)
		}
		t.Logf("x%d, %d requests, %d conversations: isolated %d sessions; with peers %d sessions (%d requests in another conversation's), %d lookups (%d found, %d errors), mean lookup %.0f µs, %.1f µs per request",
			n, len(reqs), convs, s0, s1, wrong, st.Lookups, st.Found, st.Errors, st.MeanMicros, float64(elapsed.Microseconds())/float64(len(reqs)))
		if s0 < 2*convs {
			t.Errorf("x%d isolated: %d sessions for %d conversations; the measurement should show fragmentation", n, s0, convs)
		}
		if s1 != convs || wrong != 0 || st.Errors != 0 {
			t.Errorf("x%d with peers: %d sessions for %d conversations, %d misassigned, %d errors", n, s1, convs, wrong, st.Errors)
		}
		if st.Self != n {
			t.Errorf("x%d: %d instances recognised themselves among their peers, want %d", n, st.Self, n)
		}
	}
}

// turns returns a first request and its continuation.
func turns() (first, next *session.Conversation, reply session.Message) {
	reply = msg("assistant", "Here is the weekly report you asked for, with the budget figures.")
	first = &session.Conversation{System: []byte("sys"), HasSystem: true, Messages: []session.Message{msg("user", "weekly report please")}}
	next = &session.Conversation{System: []byte("sys"), HasSystem: true, Messages: []session.Message{msg("user", "weekly report please"), reply, msg("user", "thanks, now the budget")}}
	return
}

func TestPeerDownOrSlow(t *testing.T) {
	// A closed port: refused at once, marked down, skipped afterwards.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	// A peer that answers after 300 ms.
	slowLn, _ := net.Listen("tcp", "127.0.0.1:0")
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})}
	go slow.Serve(slowLn)
	defer slow.Close()

	for _, tc := range []struct {
		name string
		addr string
		max  time.Duration
	}{
		// Bounds far above the 50 ms timeout (a loaded machine), below
		// the slow peer's 300 ms.
		{"refused", closed, 250 * time.Millisecond},
		{"slow", slowLn.Addr().String(), 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := NewClient(Config{Addresses: []string{tc.addr}, Token: testToken, Timeout: 50 * time.Millisecond, DownFor: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			cfg := session.DefaultConfig()
			cfg.Peers = cl
			tab := session.New(cfg)
			_, next, _ := turns()
			began := time.Now()
			r := tab.Resolve(next)
			if d := time.Since(began); d > tc.max {
				t.Errorf("Resolve took %v with the peer %s, want under %v", d, tc.name, tc.max)
			}
			if !r.New || !r.Fragmented {
				t.Errorf("with the only peer %s: %+v, want a new (fragmented) session", tc.name, r)
			}
			began = time.Now()
			tab.Resolve(next)
			if d := time.Since(began); d > 25*time.Millisecond { // under the timeout: not asked
				t.Errorf("second lookup took %v: a peer that failed must be skipped", d)
			}
			st := cl.Stats()
			if st.Lookups != 2 || st.Down != 1 || st.AllDown != 1 || st.Skipped != 1 ||
				(tc.name == "slow" && (st.Timeouts != 1 || st.Errors != 0)) || (tc.name == "refused" && (st.Errors != 1 || st.Timeouts != 0)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestLosingPeerIsNotMarkedDown: when one peer answers while another's
// answer is still arriving, the second is not counted as failed nor
// skipped afterwards: it was only slower.
func TestLosingPeerIsNotMarkedDown(t *testing.T) {
	first, next, reply := turns()
	cfg := session.DefaultConfig()
	knowing := session.New(cfg)
	r := knowing.Resolve(first)
	knowing.Reply(&r, &reply, nil)
	srv, err := Listen("127.0.0.1:0", knowing, testToken, "knowing")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A peer whose answer starts at once and ends 300 ms later.
	stallLn, _ := net.Listen("tcp", "127.0.0.1:0")
	stall := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
	})}
	go stall.Serve(stallLn)
	defer stall.Close()

	cl, err := NewClient(Config{Addresses: []string{srv.Addr(), stallLn.Addr().String()}, Token: testToken,
		Timeout: 2 * time.Second, DownFor: time.Hour, Instance: "asking"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var p session.Probe
	probeOf(t, next, &p)
	for i := range 3 {
		var a session.PeerAnswer
		if !cl.Lookup(&p, &a) {
			t.Fatalf("lookup %d: the knowing peer was not heard", i)
		}
	}
	if st := cl.Stats(); st.Errors != 0 || st.Down != 0 || st.Skipped != 0 || st.Found != 3 {
		t.Fatalf("stats %+v: the slower peer must be neither failed nor skipped", st)
	}
}

func TestHandlerAuth(t *testing.T) {
	c := newCluster(t, 1, false)
	first, next, reply := turns()
	r := c.tables[0].Resolve(first)
	c.tables[0].Reply(&r, &reply, nil)
	url := "http://" + c.servers[0].Addr() + Path

	// A client with another token is refused and counts an error.
	wrong, _ := NewClient(Config{Addresses: []string{c.servers[0].Addr()}, Token: "another-token-of-32-characters!!", Timeout: time.Second, Instance: "another"})
	defer wrong.Close()
	var a session.PeerAnswer
	var p session.Probe
	probeOf(t, next, &p)
	if wrong.Lookup(&p, &a) || wrong.Stats().Errors != 1 {
		t.Errorf("a wrong token was answered: %+v", wrong.Stats())
	}
	right, _ := NewClient(Config{Addresses: []string{c.servers[0].Addr()}, Token: testToken, Timeout: time.Second, Instance: "another"})
	defer right.Close()
	if !right.Lookup(&p, &a) || string(a.ID()) != string(r.ID()) {
		t.Errorf("the right token: found %q, want %q", a.ID(), r.ID())
	}
	for _, tc := range []struct {
		method, url, auth string
		status            int
	}{
		{"POST", url, "", http.StatusUnauthorized},
		{"POST", url, "Bearer " + testToken[:20], http.StatusUnauthorized},
		{"GET", url, "Bearer " + testToken, http.StatusMethodNotAllowed},
		{"POST", "http://" + c.servers[0].Addr() + "/metrics", "Bearer " + testToken, http.StatusNotFound},
		{"POST", url, "Bearer " + testToken, http.StatusBadRequest}, // empty body
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(""))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s auth %q: %d, want %d", tc.method, tc.url, tc.auth, resp.StatusCode, tc.status)
		}
	}
}

// probeOf captures the probe a table with peers sends for conv.
func probeOf(t *testing.T, conv *session.Conversation, p *session.Probe) {
	t.Helper()
	cfg := session.DefaultConfig()
	cfg.Peers = catcher{p}
	session.New(cfg).Resolve(conv)
}

type catcher struct{ p *session.Probe }

func (c catcher) Lookup(p *session.Probe, _ *session.PeerAnswer) bool { *c.p = *p; return false }

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: testToken}, "no peer addresses"},
		{Config{Addresses: []string{"10.0.0.2:4101"}, Token: "short"}, "at least 16"},
		{Config{Addresses: []string{"10.0.0.2"}, Token: testToken}, "want host:port"},
		{Config{Addresses: []string{"http://10.0.0.2:4101/x"}, Token: testToken}, "want host:port"},
	} {
		if _, err := NewClient(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if h, err := HostPort("http://peer-2.perimeter:4101/"); err != nil || h != "peer-2.perimeter:4101" {
		t.Errorf("HostPort of a URL: %q %v", h, err)
	}
	if _, err := Listen("127.0.0.1:0", session.New(session.DefaultConfig()), "short", ""); err == nil {
		t.Error("Listen accepted a short token")
	}
}
