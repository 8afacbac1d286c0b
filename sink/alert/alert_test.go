package alert

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink/alert/alerttest"
	"github.com/rs/zerolog"

	"github.com/cylestio/perimeter/sink"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, 5*time.Second, what, cond)
}

func TestWebhookSignedDedupedRetried(t *testing.T) {
	rcv := alerttest.Start(t, 2) // the first two attempts fail
	secret := []byte("alert-secret")
	n := New(Options{Destinations: []Destination{&Webhook{URL: rcv.URL + "/hook", Secret: secret}},
		Backoff: 10 * time.Millisecond, Retries: 3, DedupWindow: time.Minute})
	defer n.Close(context.Background())

	a := &Alert{Kind: KindFinding, Severity: "critical", Rule: "secret.github-pat", Agent: "agent-1", Title: "critical finding"}
	n.Notify(a)
	// Same rule and agent: deduplicated. Another agent: delivered.
	n.Notify(&Alert{Kind: KindFinding, Severity: "critical", Rule: "secret.github-pat", Agent: "agent-1", Title: "again"})
	n.Notify(&Alert{Kind: KindFinding, Severity: "critical", Rule: "secret.github-pat", Agent: "agent-2", Title: "other agent"})
	waitFor(t, "two deliveries", func() bool { s, _ := n.Delivered(); return s == 2 })

	ds := rcv.Deliveries()
	if len(ds) != 4 || ds[0].Status != 503 || ds[1].Status != 503 || ds[2].Status != 204 {
		t.Fatalf("deliveries %d: %+v", len(ds), ds)
	}
	// Every attempt of one alert carries the same delivery id and body.
	if ds[0].Header.Get(HeaderDelivery) == "" || ds[0].Header.Get(HeaderDelivery) != ds[2].Header.Get(HeaderDelivery) || string(ds[0].Body) != string(ds[2].Body) {
		t.Fatalf("retries differ: %v / %v", ds[0].Header, ds[2].Header)
	}
	for _, d := range ds {
		if err := Verify(secret, d.Header.Get(HeaderTimestamp), d.Header.Get(HeaderSignature), d.Body, time.Now(), time.Minute); err != nil {
			t.Fatalf("signature: %v", err)
		}
	}
	if err := Verify([]byte("wrong"), ds[2].Header.Get(HeaderTimestamp), ds[2].Header.Get(HeaderSignature), ds[2].Body, time.Now(), time.Minute); err == nil {
		t.Fatal("a wrong secret verified")
	}
	tampered := []byte(strings.Replace(string(ds[2].Body), "agent-1", "agent-9", 1))
	if err := Verify(secret, ds[2].Header.Get(HeaderTimestamp), ds[2].Header.Get(HeaderSignature), tampered, time.Now(), time.Minute); err == nil {
		t.Fatal("a tampered body verified")
	}
	if err := Verify(secret, ds[2].Header.Get(HeaderTimestamp), ds[2].Header.Get(HeaderSignature), ds[2].Body, time.Now().Add(time.Hour), time.Minute); err == nil {
		t.Fatal("an old delivery verified")
	}
	var got Alert
	if err := json.Unmarshal(ds[2].Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindFinding || got.Rule != "secret.github-pat" || got.Agent != "agent-1" || got.Severity != "critical" || got.ID == "" || got.Time.IsZero() {
		t.Fatalf("payload %+v", got)
	}
	st := n.Stats()
	d := st["destinations"].([]map[string]any)[0]
	if st["deduplicated"].(uint64) != 1 || d["retries"].(uint64) != 2 || d["sent"].(uint64) != 2 || d["failed"].(uint64) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeliveryFailureIsCounted(t *testing.T) {
	rcv := alerttest.Start(t, 100)
	n := New(Options{Destinations: []Destination{&Webhook{URL: rcv.URL}}, Backoff: time.Millisecond, Retries: 2})
	n.Notify(&Alert{Kind: KindErrorRate, Severity: "high", Title: "x"})
	waitFor(t, "the failure", func() bool { _, f := n.Delivered(); return f == 1 })
	n.Close(context.Background())
	d := n.Stats()["destinations"].([]map[string]any)[0]
	if len(rcv.Deliveries()) != 3 || d["retries"].(uint64) != 2 || !strings.Contains(d["last_error"].(string), "503") {
		t.Fatalf("%d attempts, stats %+v", len(rcv.Deliveries()), d)
	}
	// A 4xx is not retried.
	rcv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }))
	defer rcv2.Close()
	n2 := New(Options{Destinations: []Destination{&Webhook{URL: rcv2.URL}}, Backoff: time.Millisecond, Retries: 5})
	n2.Notify(&Alert{Kind: KindErrorRate, Title: "x"})
	waitFor(t, "the failure", func() bool { _, f := n2.Delivered(); return f == 1 })
	n2.Close(context.Background())
	if r := n2.Stats()["destinations"].([]map[string]any)[0]["retries"].(uint64); r != 0 {
		t.Fatalf("a 404 was retried %d times", r)
	}
}

func TestSlackAndRateLimit(t *testing.T) {
	rcv := alerttest.Start(t, 0)
	n := New(Options{Destinations: []Destination{&Slack{URL: rcv.URL}}, MaxPerMinute: 3, DedupWindow: -1})
	for i := range 10 {
		n.Notify(&Alert{Kind: KindLimit, Severity: "medium", Rule: "burst", Agent: "a" + string(rune('0'+i)), Title: "limited"})
	}
	n.Close(context.Background())
	ds := rcv.Deliveries()
	if len(ds) != 3 || n.Stats()["rate_limited"].(uint64) != 7 {
		t.Fatalf("%d deliveries, stats %+v", len(ds), n.Stats())
	}
	var msg map[string]string
	if err := json.Unmarshal(ds[0].Body, &msg); err != nil || !strings.Contains(msg["text"], "*Perimeter limit*") || !strings.Contains(msg["text"], "agent: `a0`") {
		t.Fatalf("slack body %s", ds[0].Body)
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	n := New(Options{Destinations: []Destination{&Webhook{URL: srv.URL}}, QueueSize: 4, DedupWindow: -1, MaxPerMinute: 1000})
	start := time.Now()
	for range 1000 {
		n.Notify(&Alert{Kind: KindFinding, Title: "x"})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Notify took %s with a hung receiver", d)
	}
	st := n.Stats()
	if st["dropped"].(uint64)+st["destinations"].([]map[string]any)[0]["queue_overflow"].(uint64) == 0 {
		t.Fatalf("nothing dropped: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.Close(ctx); err == nil {
		t.Fatal("Close returned before the hung delivery")
	}
}

func TestFindingWatch(t *testing.T) {
	rcv := alerttest.Start(t, 0)
	n := New(Options{Destinations: []Destination{&Webhook{URL: rcv.URL}}, DedupWindow: time.Minute})
	w := &FindingWatch{N: n, MinSeverity: 3, RiskThreshold: 75}
	ev := func(sev, rule string) *sink.Event {
		return &sink.Event{Name: sink.SecurityFinding, Severity: sev, Rule: rule, AgentID: "agent-1", SessionID: "s1",
			Attributes: []byte(`{"finding.confidence":1,"finding.category":"secret","finding.evidence":"ghp_…[40 chars]"}`)}
	}
	w.Process([]*sink.Event{ev("medium", "pii.email"), {Name: sink.LLMCallFinish}, ev("high", "llm01.x"), ev("high", "llm01.y")})
	w.Process([]*sink.Event{ev("critical", "secret.github-pat")})
	n.Close(context.Background())
	kinds := map[string][]string{}
	for _, d := range rcv.Deliveries() {
		var a Alert
		json.Unmarshal(d.Body, &a)
		kinds[a.Kind] = append(kinds[a.Kind], a.Rule)
	}
	// Findings of high and critical severity; the session crosses 75 with
	// the second high finding (35·log2(3) ≈ 55, then the critical one).
	if len(kinds[KindFinding]) != 3 || len(kinds[KindSessionRisk]) != 1 {
		t.Fatalf("alerts %v", kinds)
	}
}

// collect is a destination that keeps what it is sent.
type collect struct {
	mu  sync.Mutex
	got []Alert
}

func (c *collect) Name() string { return "collect" }
func (c *collect) Send(_ context.Context, a *Alert, _ []byte) error {
	c.mu.Lock()
	c.got = append(c.got, *a)
	c.mu.Unlock()
	return nil
}
func (c *collect) kinds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var k []string
	for _, a := range c.got {
		k = append(k, a.Kind+":"+a.Rule)
	}
	return k
}

func TestWatchErrorRateAndStores(t *testing.T) {
	c := &collect{}
	n := New(Options{Destinations: []Destination{c}, DedupWindow: -1})
	var mu sync.Mutex
	s := Sample{Stores: []StoreHealth{{Name: "clickhouse", Healthy: true}}}
	step := make(chan struct{})
	sample := func() Sample {
		<-step
		mu.Lock()
		defer mu.Unlock()
		out := s
		out.Stores = append([]StoreHealth(nil), s.Stores...)
		return out
	}
	set := func(f func()) { mu.Lock(); f(); mu.Unlock(); step <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.Watch(ctx, WatchOptions{Every: time.Millisecond, ErrorRate: 0.5, Window: time.Hour, MinRequests: 10, Stores: true}, sample)
		close(done)
	}()
	set(func() {})                                                         // baseline: 0 requests
	set(func() { s.Requests, s.Failed = 8, 8 })                            // too few requests
	set(func() { s.Requests, s.Failed = 20, 12 })                          // 60 % of 20: alert
	set(func() { s.Requests, s.Failed = 30, 18 })                          // still spiking: no new alert
	set(func() { s.Stores[0].Healthy, s.Stores[0].Error = false, "dial" }) // down
	set(func() {})                                                         // still down: nothing
	set(func() { s.Stores[0].Healthy = true })                             // up
	cancel()
	close(step)
	<-done
	n.Close(context.Background())
	got := strings.Join(c.kinds(), ",")
	if got != "error_rate:,store_down:clickhouse,store_recovered:clickhouse" {
		t.Fatalf("alerts %s", got)
	}
}

// clock is an Options.Now the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// An alert the rate limit drops is not recorded for deduplication: the next
// one of its key, in a later minute, is delivered.
func TestRateLimitedAlertDoesNotDeduplicateTheNext(t *testing.T) {
	c := &collect{}
	clk := &clock{t: time.Unix(1_700_000_040, 0)}                                    // the start of a minute
	n := New(Options{Destinations: []Destination{c}, MaxPerMinute: 1, Now: clk.now}) // default DedupWindow 10m
	defer n.Close(context.Background())
	alertFor := func(agent string) *Alert {
		return &Alert{Kind: KindLimit, Severity: "medium", Rule: "burst", Agent: agent, Title: "limited"}
	}
	n.Notify(alertFor("X"))
	n.Notify(alertFor("Y"))
	waitFor(t, "X delivered and Y rate-limited", func() bool {
		return len(c.kinds()) == 1 && n.rateLimited.Load() == 1
	})
	clk.add(time.Minute)
	n.Notify(alertFor("Y"))
	waitFor(t, "Y's second alert handled", func() bool {
		return len(c.kinds()) == 2 || n.deduplicated.Load() > 0
	})
	if d := n.deduplicated.Load(); d != 0 {
		t.Fatalf("Y's alert after the rate limit was deduplicated (%d) instead of delivered", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got[0].Agent != "X" || c.got[1].Agent != "Y" || c.got[1].Suppressed != 0 {
		t.Fatalf("delivered %+v", c.got)
	}
}

// A destination URL's path and query are its credential: no failed
// delivery may quote them in Stats (/metrics and /config read it) or in
// the log.
func TestDeliveryErrorsHideURLPathAndQuery(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close() // nothing listens: connection refused
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)

	const path, query = "/hook/tokenpath", "?x=secretq"
	client := &http.Client{Timeout: 50 * time.Millisecond}
	var logs testkit.SyncBuffer
	n := New(Options{
		Destinations: []Destination{
			&Webhook{URL: closed + path + query, Client: client},
			&Slack{URL: closed + path + query, Client: client},
			&Webhook{URL: slow.URL + path + query, Client: client},
			&Slack{URL: slow.URL + path + query, Client: client},
			&Webhook{URL: "http://127.0.0.1:bad" + path + query}, // unparseable: the parse error quotes the URL too
		},
		Retries: -1, Logger: zerolog.New(&logs),
	})
	n.Notify(&Alert{Kind: KindErrorRate, Severity: "high", Title: "x"})
	waitFor(t, "every delivery to fail", func() bool { _, f := n.Delivered(); return f == 5 })
	n.Close(context.Background())

	stats, err := json.Marshal(n.Stats())
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"Stats": string(stats), "log": logs.String()} {
		for _, secret := range []string{"tokenpath", "secretq"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s quotes the URL's %q:\n%s", where, secret, text)
			}
		}
	}
	want := []string{"connection refused", "connection refused", "Client.Timeout exceeded", "Client.Timeout exceeded", "invalid port"}
	for i, d := range n.Stats()["destinations"].([]map[string]any) {
		if e, _ := d["last_error"].(string); !strings.Contains(e, want[i]) {
			t.Errorf("destination %d: last_error %q, want it to say %q", i, e, want[i])
		}
	}
	if c := strings.Count(logs.String(), "alert not delivered"); c != 5 {
		t.Errorf("%d warnings logged, want 5:\n%s", c, logs.String())
	}
}

// Text from callers (an agent id is a request header) can neither mention
// a channel, nor make a link, nor leave its code span.
func TestSlackTextEscapesCallerText(t *testing.T) {
	for _, tc := range []struct {
		name      string
		a         Alert
		want      []string
		forbidden []string
	}{
		{"mention and fake link in the agent",
			Alert{Kind: KindDecision, Severity: "high", Title: "blocked", Agent: "<!channel> <https://evil.example/login|Click to re-auth>"},
			[]string{"agent: `&lt;!channel&gt; &lt;https://evil.example/login|Click to re-auth&gt;`"},
			[]string{"<!channel>", "<https://"}},
		{"mention and link in the title",
			Alert{Kind: KindFinding, Severity: "critical", Title: "critical finding x in agent <!here> & <https://evil.example|ok>"},
			[]string{"in agent &lt;!here&gt; &amp; &lt;https://evil.example|ok&gt;"},
			[]string{"<!here>", "<https://"}},
		{"backticks and a line break leave no span",
			Alert{Kind: KindLimit, Severity: "medium", Title: "limited", Rule: "r", Agent: "a` *bold* `b", Session: "s\n• rule: `forged`"},
			[]string{"agent: `aˋ *bold* ˋb`", "session: `s • rule: ˋforgedˋ`"},
			[]string{"a` ", "\n• rule: `forged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SlackText(&tc.a)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("text lacks %q:\n%s", w, got)
				}
			}
			for _, f := range tc.forbidden {
				if strings.Contains(got, f) {
					t.Errorf("text carries %q:\n%s", f, got)
				}
			}
			if n := strings.Count(got, "`"); n%2 != 0 {
				t.Errorf("%d backticks: a span is left open:\n%s", n, got)
			}
		})
	}
}
