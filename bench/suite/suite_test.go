package suite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/loadgen"
	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/bench/report"
	"github.com/cylestio/perimeter/bench/sysinfo"
	"github.com/cylestio/perimeter/bench/target"
)

func TestChatRequest(t *testing.T) {
	for _, stream := range []bool{false, true} {
		raw := ChatRequest("127.0.0.1:9", stream, 20, 5*time.Millisecond)
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if int64(len(body)) != req.ContentLength || len(body) < 800 || len(body) > 1300 {
			t.Errorf("stream=%v: body %d bytes, Content-Length %d; want about 1 KB", stream, len(body), req.ContentLength)
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Errorf("stream=%v: body is not JSON: %v", stream, err)
		}
		if (doc["stream"] == true) != stream || req.Host != "127.0.0.1:9" || req.URL.Path != "/v1/chat/completions" {
			t.Errorf("stream=%v: %v %s %s", stream, doc["stream"], req.Host, req.URL.Path)
		}
		if stream && (req.Header.Get("x-mock-chunks") != "20" || req.Header.Get("x-mock-chunk-delay") != "5ms") {
			t.Errorf("stream controls: %v", req.Header)
		}
		if !stream && req.Header.Get("x-mock-body-size") != "1024" {
			t.Errorf("body size control: %v", req.Header)
		}
	}
}

func TestScenarioSets(t *testing.T) {
	for name, set := range map[string][]Scenario{"full": Full(), "quick": Quick()} {
		seen := map[string]bool{}
		kinds := map[string]bool{}
		for _, s := range set {
			if seen[s.Name] {
				t.Errorf("%s: duplicate scenario %s", name, s.Name)
			}
			seen[s.Name] = true
			kinds[s.Kind] = true
			if s.Kind == report.KindStreams {
				for i := 1; i < len(s.Steps); i++ {
					if s.Steps[i] <= s.Steps[i-1] {
						t.Errorf("%s: steps must increase: %v", s.Name, s.Steps)
					}
				}
				// Streams must outlast the ramp: about 2 s per step.
				if d := s.ChunkDelay * time.Duration(s.Chunks); d < time.Duration(len(s.Steps))*4*time.Second {
					t.Errorf("%s: streams last %v, too short to hold through %d steps", s.Name, d, len(s.Steps))
				}
			}
		}
		for _, k := range []string{report.KindRate, report.KindMax, report.KindStreams} {
			if !kinds[k] {
				t.Errorf("%s: no %s scenario", name, k)
			}
		}
	}
	// The budgets of make bench (10 min) and make bench-quick (2 min), with
	// room for builds and start-up; three targets.
	if d := Estimate(Full(), 3, 5, 500*time.Millisecond, 3*time.Second); d > 8*time.Minute {
		t.Errorf("full run estimated at %v", d)
	}
	if d := Estimate(Quick(), 3, 1, 500*time.Millisecond, 2*time.Second); d > 90*time.Second {
		t.Errorf("quick run estimated at %v", d)
	}
}

func TestSelect(t *testing.T) {
	got, unknown := Select(Full(), "json-max, sse-max,nope")
	if len(got) != 2 || got[0].Name != "json-max" || got[1].Name != "sse-max" || len(unknown) != 1 || unknown[0] != "nope" {
		t.Errorf("got %v unknown %v", got, unknown)
	}
	if all, _ := Select(Full(), ""); len(all) != len(Full()) {
		t.Error("empty selection should keep all")
	}
}

// TestRunnerEndToEnd drives an in-process mock as the direct target through
// one tiny scenario of each kind: orchestration, not performance.
func TestRunnerEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := mockllm.New(mockllm.Config{MaxRecorded: -1})
	go m.Serve(ln)
	defer m.Close()
	direct := &target.Running{Spec: target.BuiltinSpecs()[0], Addr: ln.Addr().String()}
	rep := &report.Report{Targets: []report.Target{{Name: "direct", Kind: "direct"}}}
	fl := &fakeFleet{targets: []*target.Running{direct}}
	rn := &Runner{
		Fleet:  fl,
		Rounds: 2, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond,
		Pause: time.Millisecond, StreamSettle: time.Millisecond, StreamRest: time.Millisecond, Report: rep,
	}
	rn.Run(context.Background(), []Scenario{
		{Name: "rate", Kind: report.KindRate, Rate: 200, Conns: 4},
		{Name: "max", Kind: report.KindMax, Conns: 2, Stream: true, Chunks: 3},
		{Name: "streams", Kind: report.KindStreams, Stream: true, Chunks: 100, ChunkDelay: 50 * time.Millisecond, Steps: []int{2, 4}},
	})
	if fl.restarts != 1 {
		t.Errorf("%d restarts, want 1 (after the open-streams scenario)", fl.restarts)
	}
	if len(rep.Scenarios) != 3 || rep.Scenarios[0].Name != "rate" || rep.Scenarios[2].Name != "streams" {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	rate := rep.Scenarios[0].Results[0]
	if rate.OK != 40 || rate.Errors != 0 || len(rate.RoundRPS) != 2 || rate.Latency == nil || rate.SendLag == nil {
		t.Errorf("rate result %+v", rate)
	}
	if rate.CPUPer1k != nil {
		t.Error("direct has no proxy CPU")
	}
	mx := rep.Scenarios[1].Results[0]
	if mx.OK == 0 || mx.Gap == nil || mx.TTFB == nil || mx.Events != mx.OK*7 {
		t.Errorf("max result: ok %d events %d gap %v", mx.OK, mx.Events, mx.Gap)
	}
	st := rep.Scenarios[2].Results[0]
	if st.Memory == nil || st.Memory.Opened != 4 || len(st.Memory.Steps) != 2 || st.Memory.Steps[1].Open != 4 || st.FirstError != "" {
		t.Errorf("streams result %+v (%+v)", st, st.Memory)
	}
}

type fakeFleet struct {
	targets  []*target.Running
	restarts int
}

func (f *fakeFleet) Targets() []*target.Running { return f.targets }

func (f *fakeFleet) Upstream() sysinfo.Group { return sysinfo.Group{Root: os.Getpid()} }

func (f *fakeFleet) Restart(context.Context) error { f.restarts++; return nil }

func (f *fakeFleet) Check() error { return nil }

// TestScenarioRequestsAreNew: the JSON and SSE scenarios send a request
// never sent before each time (another ticket number), each a valid
// request of the same length.
func TestScenarioRequestsAreNew(t *testing.T) {
	for _, s := range Full() {
		if s.Kind == report.KindStreams {
			continue
		}
		src := s.requests("127.0.0.1:9")
		seen := map[string]bool{}
		size := -1
		for w := range 3 {
			for seq := range uint64(3) {
				raw := string(src.Request(w, seq))
				if seen[raw] {
					t.Fatalf("%s: worker %d seq %d repeats a request", s.Name, w, seq)
				}
				seen[raw] = true
				if size >= 0 && len(raw) != size {
					t.Fatalf("%s: request length %d, then %d", s.Name, size, len(raw))
				}
				size = len(raw)
				req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader([]byte(raw))))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(req.Body)
				var doc struct {
					Messages []struct{ Content string }
				}
				if int64(len(body)) != req.ContentLength || json.Unmarshal(body, &doc) != nil || len(doc.Messages) != 2 {
					t.Fatalf("%s: bad request %s", s.Name, raw)
				}
				if want := fmt.Sprintf("Ticket %012d.", seq*loadgen.MaxNumberedWorkers+uint64(w)+1); !strings.HasSuffix(doc.Messages[1].Content, want) {
					t.Fatalf("%s: user message %q does not end with %q", s.Name, doc.Messages[1].Content, want)
				}
			}
		}
	}
}
