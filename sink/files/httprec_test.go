package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
)

func exchangeEvent(n byte, sid, model string, x Exchange) *sink.Event {
	b, err := marshal(x)
	if err != nil {
		panic(err)
	}
	return &sink.Event{ID: id(n), Time: x.Start(), Name: httprec.EventName, SessionID: sid, Vendor: "openai", Model: model, Status: x.Status, Attributes: b}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

const sse = "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n"

// exchanges covers every body encoding and an error, with credentials in
// headers and the query (the writer redacts headers again by name).
func exchanges() []*sink.Event {
	start := t0.UnixMicro()
	return []*sink.Event{
		exchangeEvent(1, "sess-1", "gpt-4o", Exchange{
			Method: "POST", URL: "http://localhost:4000/v1/chat/completions?x=1", Path: "/v1/chat/completions", Query: "x=1",
			RequestHeaders: [][2]string{{"Host", "localhost:4000"}, {"Content-Type", "application/json"}, {"Authorization", "Bearer sk-abcdefghijklmnopqrstuvwxyz0123456789"},
				{"X-Cylestio-Session-Id", "sess-1"}, {"Cookie", "sess=cookie-secret"}, {"Cookie", "b=2"}, {"Accept", "a"}, {"Accept", "b"}},
			RequestBody:     []byte(`{"model": "gpt-4o", "messages": [{"role": "user", "content": "<hi> & é"}]}`),
			RequestBodySize: 75,
			Status:          200,
			ResponseHeaders: [][2]string{{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}, {"Content-Length", "99"}, {"Set-Cookie", "tok_abcdefghijklmnopqrstuvwxyz"}},
			ResponseBody:    gz(`{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"Hello"}}]}`),
			StartUs:         start, EndUs: start + 812400,
		}),
		exchangeEvent(2, "sess-1", "gpt-4o", Exchange{
			Method: "POST", URL: "http://localhost:4000/v1/chat/completions", Path: "/v1/chat/completions",
			RequestHeaders: [][2]string{{"Content-Type", "application/json"}, {"x-api-key", "[REDACTED]"}},
			RequestBody:    []byte(`{"model":"gpt-4o","stream":true,"messages":[]}`), Streaming: true,
			Status: 200, ResponseHeaders: [][2]string{{"Content-Type", "text/event-stream"}}, ResponseBody: []byte(sse),
			StartUs: start + 1e6, EndUs: start + 2e6,
		}),
		exchangeEvent(3, "", "", Exchange{
			Method: "GET", URL: "http://localhost:4000/v1/files/f1/content", Path: "/v1/files/f1/content",
			Status: 200, ResponseHeaders: [][2]string{{"Content-Type", "application/octet-stream"}}, ResponseBody: []byte{0xff, 0x00, 0x10},
			StartUs: start + 3e6, EndUs: start + 3e6 + 1500,
		}),
		exchangeEvent(4, "sess-2", "gpt-4o", Exchange{
			Method: "POST", URL: "http://localhost:4000/v1/chat/completions", Path: "/v1/chat/completions",
			RequestBodySize: 5 << 20, RequestTruncated: true,
			Status: 200, ResponseBody: []byte(strings.Repeat("x", 200)),
			StartUs: start + 4e6, EndUs: start + 5e6,
		}),
		exchangeEvent(5, "sess-3", "gpt-4o", Exchange{
			Method: "POST", URL: "http://localhost:4000/v1/chat/completions", Path: "/v1/chat/completions",
			RequestBody: []byte(`{"model":"gpt-4o","messages":[]}`), RequestBodySize: 32,
			Status: 502, ErrorType: "upstream_unreachable", ErrorMessage: "the proxy could not complete the call: upstream_unreachable",
			StartUs: start + 6e6, EndUs: start + 6e6 + 3000,
		}),
		{ID: id(6), Name: sink.LLMCallStart, SessionID: "sess-1"}, // not an exchange: ignored
	}
}

func newRecorder(t *testing.T, dir string, max int) *HTTPRecorder {
	t.Helper()
	r, err := NewHTTPRecorder(HTTPRecorderOptions{OutputDir: dir, MaxEventsPerFile: max, IncludeHeaders: true, IncludeTiming: true,
		MaxBodySizeMB: 0.0001, RedactSensitiveHeaders: true, Provider: "openai"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHTTPRecorderGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	r := newRecorder(t, dir, 4)
	if err := r.WriteBatch(context.Background(), exchanges()); err != nil {
		t.Fatal(err)
	}
	// 5 exchanges = 10 records, 4 per file.
	for i, want := range []int{4, 4, 2} {
		name := RecordingFileName(i + 1)
		if n := len(lines(t, filepath.Join(dir, name))); n != want {
			t.Errorf("%s: %d records, want %d", name, n, want)
		}
		goldenFile(t, "http_"+name, filepath.Join(dir, name))
	}
	noSecrets(t, dir)
	modes(t, dir)
}

// Without headers and timing the records have neither; the body limit
// marker names the configured size.
func TestHTTPRecorderOptions(t *testing.T) {
	dir := t.TempDir()
	r, _ := NewHTTPRecorder(HTTPRecorderOptions{OutputDir: dir, MaxBodySizeMB: 0.0001})
	r.WriteBatch(context.Background(), exchanges()[3:4])
	got := strings.Join(lines(t, filepath.Join(dir, "recording_001.jsonl")), "\n")
	for _, no := range []string{`"headers"`, `"start_time"`, `"duration_ms"`, `"end_time"`} {
		if strings.Contains(got, no) {
			t.Errorf("%s present:\n%s", no, got)
		}
	}
	if strings.Count(got, `"[TRUNCATED - size exceeds 0.0001MB]"`) != 2 {
		t.Errorf("no truncation markers:\n%s", got)
	}
}

// On start the recorder continues the highest-numbered file while it has
// room, else starts the next number.
func TestHTTPRecorderContinues(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "recording_002.jsonl"), []byte("{}\n{}\n{}\n{}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "recording_010.jsonl"), []byte("{}\n{}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "recording_x.jsonl"), []byte("{}\n"), 0o600)
	r := newRecorder(t, dir, 4)
	if got := filepath.Base(r.CurrentFile()); got != "recording_010.jsonl" {
		t.Fatalf("continues %s", got)
	}
	r.WriteBatch(context.Background(), exchanges()[:2]) // 4 records: 2 fill 010, 2 start 011
	if n := len(lines(t, filepath.Join(dir, "recording_010.jsonl"))); n != 4 {
		t.Fatalf("010 has %d lines", n)
	}
	if n := len(lines(t, filepath.Join(dir, "recording_011.jsonl"))); n != 2 {
		t.Fatalf("011 has %d lines", n)
	}
	// A full last file: a new recorder starts the next one.
	os.WriteFile(filepath.Join(dir, "recording_011.jsonl"), []byte("{}\n{}\n{}\n{}"), 0o600)
	if got := filepath.Base(newRecorder(t, dir, 4).CurrentFile()); got != "recording_012.jsonl" {
		t.Fatalf("after a full file: %s", got)
	}
}

// A failed write is rolled back in every file it touched, so the
// pipeline's retry of the batch records each exchange once.
func TestHTTPRecorderRetryDoesNotDuplicate(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder(t, dir, 4)
	blocker := filepath.Join(dir, "recording_002.jsonl")
	os.Mkdir(blocker, 0o700)
	evs := exchanges()[:3] // 6 records: 4 in 001, 2 in 002
	if err := r.WriteBatch(context.Background(), evs); err == nil {
		t.Fatal("write into a directory succeeded")
	}
	if n := len(lines(t, filepath.Join(dir, "recording_001.jsonl"))); n != 0 {
		t.Fatalf("001 kept %d lines of the failed batch", n)
	}
	os.Remove(blocker)
	if err := r.WriteBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRecordings(dir)
	if err != nil || len(rec.Pairs) != 3 || rec.Records != 6 {
		t.Fatalf("%v %+v", err, rec)
	}
}

// What the recorder writes, ReadRecordings reads back: bodies byte for
// byte (JSON compacted), pairs across a rotation.
func TestRecordingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder(t, dir, 3)
	evs := exchanges()
	r.WriteBatch(context.Background(), evs)
	rec, err := ReadRecordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 4 || len(rec.Pairs) != 5 || rec.Skipped != 0 {
		t.Fatalf("files %v pairs %d skipped %d", rec.Files, len(rec.Pairs), rec.Skipped)
	}
	p := rec.Pairs[0]
	body, _ := p.Request.Body.Bytes()
	if string(body) != `{"model":"gpt-4o","messages":[{"role":"user","content":"<hi> & é"}]}` || *p.Request.Query != "x=1" || p.Request.Provider != "openai" {
		t.Fatalf("request body %s query %v", body, p.Request.Query)
	}
	for _, h := range p.Request.Headers {
		if (h[0] == "authorization" || h[0] == "cookie") && h[1] != httprec.Redacted {
			t.Fatalf("header %v", h)
		}
	}
	resp, _ := p.Answer.Body.Bytes()
	if p.Answer.Type != "response" || p.Answer.Body.Type != "json" || !strings.Contains(string(resp), "Hello") {
		t.Fatalf("gzip answer not decoded: %s %s", p.Answer.Body.Type, resp)
	}
	if b, _ := rec.Pairs[1].Answer.Body.Bytes(); string(b) != sse || rec.Pairs[1].Answer.Body.Type != "text" || !rec.Pairs[1].Request.Streaming {
		t.Fatalf("stream answer %q", b)
	}
	if b, _ := rec.Pairs[2].Answer.Body.Bytes(); !bytes.Equal(b, []byte{0xff, 0x00, 0x10}) || rec.Pairs[2].Answer.Body.Type != "binary" {
		t.Fatalf("binary answer %v", b)
	}
	if b, _ := rec.Pairs[2].Request.Body.Bytes(); b != nil {
		t.Fatalf("empty body read as %q", b)
	}
	if !rec.Pairs[3].Request.Body.Truncated() || !rec.Pairs[3].Answer.Body.Truncated() {
		t.Fatal("truncated bodies not recognised")
	}
	if a := rec.Pairs[4].Answer; a.Type != "error" || a.ErrorType != "upstream_unreachable" {
		t.Fatalf("error record %+v", a)
	}
}

func TestReadRecordings(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, recs ...string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(strings.Join(recs, "\n")+"\n"), 0o600)
		return path
	}
	req := func(p string) string { return fmt.Sprintf(`{"type":"request","method":"POST","path":%q}`, p) }
	// Pairing as the original: a request takes the first response or
	// error before the next request; stray answers are skipped.
	path := write("recording_001.jsonl",
		`{"type":"response","status_code":200}`,
		req("/a"), `{"type":"response","status_code":200}`,
		req("/b"),
		req("/c"), `not json`, `{"no":"type"}`, `{"type":"error","error_type":"E"}`, `{"type":"response","status_code":201}`,
		"",
	)
	write("recording_010.jsonl", req("/d"))
	write("recording_002.jsonl", `{"type":"response","status_code":202}`)
	rec, err := ReadRecordings(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Skipped != 2 || len(rec.Pairs) != 3 {
		t.Fatalf("skipped %d pairs %d", rec.Skipped, len(rec.Pairs))
	}
	if rec.Pairs[0].Answer.Status != 200 || rec.Pairs[1].Answer != nil || rec.Pairs[2].Answer.ErrorType != "E" {
		t.Fatalf("pairs %+v %+v %+v", rec.Pairs[0].Answer, rec.Pairs[1].Answer, rec.Pairs[2].Answer)
	}
	// A directory is one sequence, files in number order: /d comes last,
	// and 002's response does not pair (it follows /c's error).
	rec, err = ReadRecordings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 3 || filepath.Base(rec.Files[2]) != "recording_010.jsonl" || len(rec.Pairs) != 4 || rec.Pairs[3].Request.Path != "/d" {
		t.Fatalf("files %v pairs %d", rec.Files, len(rec.Pairs))
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist"},
		{t.TempDir(), "no recordings in"},
		{write("notes.txt", "x"), "must end with .jsonl"},
	} {
		if _, err := ReadRecordings(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
}
