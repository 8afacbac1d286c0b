package files

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

func fixedNow() time.Time { return time.Date(2026, 1, 2, 11, 30, 0, 0, time.UTC) }

func TestEventRecorderJSONLGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	r, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, IncludeMetadata: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	evs := conversation()
	odd := &sink.Event{ID: id(9), Time: t0, Name: sink.SessionStart, SessionID: "../a b/c:d", AgentID: "x"}
	none := &sink.Event{ID: id(10), Time: t0, Name: sink.SecurityFinding, Level: sink.LevelInfo}
	// Two batches: the metadata line is written once, when the file is new.
	if err := Except(r, httprec.EventName).WriteBatch(context.Background(), evs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := Except(r, httprec.EventName).WriteBatch(context.Background(), append(evs[3:], odd, none)); err != nil {
		t.Fatal(err)
	}
	session := filepath.Join(dir, "session_3f2a9c1e-0000-4000-8000-00000000abcd.jsonl")
	goldenFile(t, "event_recorder_session.jsonl", session)
	// An id that lost characters keeps what is left and a hash of it all.
	for _, name := range []string{"session_abcd.b713b0c609c7fde3.jsonl", "session_unknown.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("%d files, want 3", len(ents))
	}
	for _, l := range lines(t, session)[1:] {
		var env map[string]any
		if err := json.Unmarshal([]byte(l), &env); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if env["name"] == httprec.EventName {
			t.Fatal("http.exchange reached the event recorder")
		}
	}
	modes(t, dir)
}

func TestEventRecorderJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	r, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, FileFormat: "JSON", PrettyPrint: true, IncludeMetadata: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	evs := conversation()[:6]
	r.WriteBatch(context.Background(), evs[:1])
	r.WriteBatch(context.Background(), evs[1:3])
	goldenFile(t, "event_recorder_session.json", filepath.Join(dir, "session_3f2a9c1e-0000-4000-8000-00000000abcd.json"))
	modes(t, dir)

	// Without include_metadata the original lost the event (KeyError); we
	// write the events alone.
	dir = t.TempDir()
	r, _ = NewEventRecorder(EventRecorderOptions{OutputDir: dir, FileFormat: "json"})
	if err := r.WriteBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(dir, "session_3f2a9c1e-0000-4000-8000-00000000abcd.json"))
	if err := json.Unmarshal(b, &doc); err != nil || doc["metadata"] != nil || strings.Count(string(doc["events"]), `"schema_version"`) != 6 {
		t.Fatalf("%v %s", err, b)
	}

	if _, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, FileFormat: "csv"}); err == nil {
		t.Fatal("csv accepted")
	}
}

func TestAppendEnvelope(t *testing.T) {
	ev := &sink.Event{Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), Name: "llm.call.start", TraceID: "t", SpanID: "s", AgentID: "a"}
	got := string(AppendEnvelope(nil, ev))
	want := `{"schema_version":"1.0","timestamp":"2026-01-01T10:00:00+00:00","trace_id":"t","span_id":"s","name":"llm.call.start","level":"INFO","agent_id":"a","session_id":null,"attributes":{}}`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	if !json.Valid(AppendEnvelope(nil, &sink.Event{Name: "x\"\n\u2028\xff"})) {
		t.Fatal("not JSON")
	}
}

// Except and Only decide what a writer sees; names and Close are the
// wrapped writer's.
func TestFilters(t *testing.T) {
	var got []string
	w := &spy{fn: func(b []*sink.Event) {
		for _, e := range b {
			got = append(got, e.Name)
		}
	}}
	evs := conversation()
	ctx := context.Background()
	Except(w, httprec.EventName).WriteBatch(ctx, evs)
	if strings.Contains(strings.Join(got, " "), httprec.EventName) || len(got) != len(evs)-1 {
		t.Fatalf("Except: %v", got)
	}
	got = nil
	Only(w, httprec.EventName).WriteBatch(ctx, evs)
	if strings.Join(got, " ") != httprec.EventName {
		t.Fatalf("Only: %v", got)
	}
	got = nil
	w.calls = 0
	Except(w, httprec.EventName).WriteBatch(ctx, evs[6:])
	if w.calls != 0 {
		t.Fatal("an empty batch was passed on")
	}
	if Except(w, "x").Name() != "spy" {
		t.Fatal("name")
	}

	// Detection never sees exchanges; they follow what it returns.
	process := func(b []*sink.Event) []*sink.Event {
		for _, e := range b {
			if e.Name == httprec.EventName {
				t.Fatal("detection saw an exchange")
			}
		}
		return append(b, &sink.Event{Name: sink.SecurityFinding})
	}
	out := SkipProcess(process, httprec.EventName)(evs)
	if len(out) != len(evs)+1 || out[len(out)-1].Name != httprec.EventName || out[len(out)-2].Name != sink.SecurityFinding {
		t.Fatalf("SkipProcess: %d events", len(out))
	}
	if out := SkipProcess(process, httprec.EventName)(evs[:2]); len(out) != 3 {
		t.Fatalf("SkipProcess without exchanges: %d", len(out))
	}
}

type spy struct {
	fn    func([]*sink.Event)
	calls int
}

func (s *spy) Name() string { return "spy" }
func (s *spy) Close() error { return nil }
func (s *spy) WriteBatch(_ context.Context, b []*sink.Event) error {
	s.calls++
	s.fn(b)
	return nil
}

// An upstream's pretty-printed answer, copied raw into the attributes,
// still makes one line per event in a jsonl file.
func TestEventRecorderJSONLOneLinePerEvent(t *testing.T) {
	dir := t.TempDir()
	r, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, IncludeMetadata: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	pretty := "{\n  \"llm.response.content\": [\n    {\r\n      \"type\": \"text\",\n\t\"text\": \"two\\nlines\"\n    }\n  ],\n  \"n\": 1\n}"
	evs := []*sink.Event{
		{ID: id(1), Time: t0, Name: sink.LLMCallFinish, SessionID: "s", Attributes: json.RawMessage(pretty)},
		{ID: id(2), Time: t0, Name: sink.LLMCallFinish, SessionID: "s", Attributes: json.RawMessage("{\"a\":\n")}, // not JSON
		{ID: id(3), Time: t0, Name: sink.LLMCallStart, SessionID: "s", Attributes: json.RawMessage(`{"b":"c"}`)},
	}
	if err := r.WriteBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, r.SessionFile("s"))
	if len(ls) != 1+len(evs) {
		t.Fatalf("%d lines for %d events and the metadata:\n%s", len(ls), len(evs), strings.Join(ls, "\n"))
	}
	var env struct {
		Attributes map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(ls[1]), &env); err != nil {
		t.Fatalf("%v: %s", err, ls[1])
	}
	var want map[string]any
	_ = json.Unmarshal([]byte(pretty), &want)
	if got, _ := json.Marshal(env.Attributes); string(got) != string(mustMarshal(t, want)) {
		t.Fatalf("attributes changed: %s", got)
	}
	if !strings.Contains(ls[1], `"text":"two\nlines"`) {
		t.Fatalf("not compacted: %s", ls[1])
	}
	if ls[3] != string(AppendEnvelope(nil, evs[2])) {
		t.Fatalf("a compact event was rewritten: %s", ls[3])
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSafeSessionName(t *testing.T) {
	long := strings.Repeat("x", 2000)
	plain128 := strings.Repeat("a", 128)
	for _, c := range []struct{ id, want string }{
		{"3f2a9c1e-0000-4000-8000-00000000abcd", "3f2a9c1e-0000-4000-8000-00000000abcd"},
		{"Session_1", "Session_1"},
		{"", "unknown"},
		{"unknown", "unknown"},
		{plain128, plain128},
		{"a/b", "ab.c14cddc033f64b9d"},
		{"../a b/c:d", "abcd.b713b0c609c7fde3"},
		{"日本", ".cf2abf0c5be326cb"},
	} {
		if got := SafeSessionName(c.id); got != c.want {
			t.Errorf("SafeSessionName(%.40q) = %q, want %q", c.id, got, c.want)
		}
	}
	// Distinct ids, distinct names, all short enough for any file system.
	ids := []string{"ab", "a/b", "a:b", "日本", "中国", "", "x", long, long[1:] + "y", plain128 + "a", plain128 + "b", "\xff", "\xfe"}
	seen := map[string]string{}
	for _, id := range ids {
		n := SafeSessionName(id)
		if len(n) > 128+17 || strings.ContainsAny(n, "/\\\x00") {
			t.Errorf("%.40q: name %q", id, n)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("%.40q and %.40q share %q", id, other, n)
		}
		seen[n] = id
	}
}

// A 2,000-character session id is written like any other; it used to stop
// the writer for good ("file name too long").
func TestEventRecorderLongSessionID(t *testing.T) {
	for _, format := range []string{"jsonl", "json"} {
		dir := t.TempDir()
		r, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, FileFormat: format, IncludeMetadata: true, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("s", 2000)
		evs := []*sink.Event{
			{ID: id(1), Time: t0, Name: sink.SessionStart, SessionID: long},
			{ID: id(2), Time: t0, Name: sink.SessionStart, SessionID: "next"},
		}
		if err := r.WriteBatch(context.Background(), evs); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		b, err := os.ReadFile(r.SessionFile(long))
		if err != nil || !strings.Contains(string(b), `"session_id":"`+long+`"`) {
			t.Fatalf("%s: %v %.200s", format, err, b)
		}
		if _, err := os.Stat(filepath.Join(dir, "session_next."+format)); err != nil {
			t.Fatal(err)
		}
	}
}

// blockedRecorder returns an event recorder in a new directory where a
// directory stands in the way of session "blocked"'s file.
func blockedRecorder(t *testing.T, format string) (*EventRecorder, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := NewEventRecorder(EventRecorderOptions{OutputDir: dir, FileFormat: format})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(r.SessionFile("blocked"), 0o700); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

// A session whose file can never be written does not hold up the others:
// its events are rejected (the pipeline counts and logs them), the rest
// are written, and a retry neither writes nor rejects anything twice.
func TestEventRecorderRejectsUnwritableSession(t *testing.T) {
	for _, format := range []string{"jsonl", "json"} {
		r, _ := blockedRecorder(t, format)
		if err := os.WriteFile(r.SessionFile("foreign"), []byte("not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		evs := []*sink.Event{
			{ID: id(1), Time: t0, Name: sink.SessionStart, SessionID: "blocked"},
			{ID: id(2), Time: t0, Name: sink.SessionStart, SessionID: "ok"},
			{ID: id(3), Time: t0, Name: sink.LLMCallStart, SessionID: "blocked"},
			{ID: id(4), Time: t0, Name: sink.SessionStart, SessionID: "foreign"},
		}
		err := r.WriteBatch(context.Background(), evs)
		var rej *sink.RejectedError
		wantRejected := 3
		if format == "jsonl" {
			wantRejected = 2 // a jsonl file is appended to, whatever it holds
		}
		if !errors.As(err, &rej) || rej.Events != wantRejected || !errors.Is(err, syscall.EISDIR) {
			t.Fatalf("%s: %v, want %d events rejected", format, err, wantRejected)
		}
		if !strings.Contains(err.Error(), r.SessionFile("blocked")) || !strings.Contains(err.Error(), "move it") {
			t.Fatalf("%s: the error does not say where and what to do: %v", format, err)
		}
		if format == "json" && !strings.Contains(err.Error(), r.SessionFile("foreign")) {
			t.Fatalf("json: %v", err)
		}
		b, err := os.ReadFile(r.SessionFile("ok"))
		if err != nil || strings.Count(string(b), `"schema_version"`) != 1 {
			t.Fatalf("%s: %v %s", format, err, b)
		}
	}
}

// With another session failing for a while, the pipeline retries the
// batch: what was written is not written again, and what was rejected is
// not counted again.
func TestEventRecorderRetryAfterRejection(t *testing.T) {
	r, dir := blockedRecorder(t, "")
	// A dangling symlink into a missing directory fails now and works once
	// the directory exists: a failure a retry mends.
	later := filepath.Join(dir, "later")
	if err := os.Symlink(filepath.Join(later, "f"), r.SessionFile("transient")); err != nil {
		t.Fatal(err)
	}
	evs := []*sink.Event{
		{ID: id(1), Time: t0, Name: sink.SessionStart, SessionID: "blocked"},
		{ID: id(2), Time: t0, Name: sink.SessionStart, SessionID: "ok"},
		{ID: id(3), Time: t0, Name: sink.SessionStart, SessionID: "transient"},
	}
	err := r.WriteBatch(context.Background(), evs)
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || rej.Events != 1 || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("first attempt: %v", err)
	}
	if err := os.Mkdir(later, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteBatch(context.Background(), evs); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for _, sid := range []string{"ok", "transient"} {
		if n := len(lines(t, r.SessionFile(sid))); n != 1 {
			t.Fatalf("%s: %d lines, want 1", sid, n)
		}
	}
}

// Through the pipeline: a session whose file is blocked costs its own
// events (counted as rejected), not the writer: it stays healthy, spills
// nothing, and later sessions are written.
func TestEventRecorderInPipelineSurvivesBlockedSession(t *testing.T) {
	r, _ := blockedRecorder(t, "")
	p, err := sink.NewPipeline(sink.Options{MaxRows: 2, MaxDelay: 5 * time.Millisecond, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		SpillDir: t.TempDir(), SpillMaxBytes: 1 << 20}, r)
	if err != nil {
		t.Fatal(err)
	}
	sessions := []string{"blocked", strings.Repeat("L", 2000), "blocked", "after-1", "after-2"}
	for i, sid := range sessions {
		p.Publish(&sink.Event{ID: id(byte(i + 1)), Time: t0, Name: sink.SessionStart, SessionID: sid})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := p.Metrics().Writers[0]
	if !m.Healthy || m.SpilledBytes != 0 || m.Events != 3 || m.DropReasons["rejected"] != 2 {
		t.Fatalf("writer metrics %+v", m)
	}
	for _, sid := range sessions[1:] {
		if sid == "blocked" {
			continue
		}
		if n := len(lines(t, r.SessionFile(sid))); n != 1 {
			t.Fatalf("%.20s: %d lines", sid, n)
		}
	}
}
