package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink/files"
)

const (
	replayKey = "sk-live-abcdefghijklmnopqrstuvwxyz012345"   // sent as Authorization
	promptKey = "sk-pasted-abcdefghijklmnopqrstuvwxyz012345" // pasted in a prompt
)

// TestRecordThenReplay runs the real binary twice: a proxy in front of a
// mock with the file interceptors on records its traffic (the client's key
// never reaches a file, a key pasted in a prompt is redacted in the
// message log; http.exchange reaches the http_recorder only), then
// "perimeter replay" sends the recordings through a fresh mock: every call
// reaches it again, and the replayed calls produce events.
func TestRecordThenReplay(t *testing.T) {
	mock, base := mockWith(t, mockllm.Config{Chunks: 3})
	dir := t.TempDir()
	recDir := filepath.Join(dir, "recordings")
	port := freePort(t)
	cfgPath := filepath.Join(dir, "record.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`server: {host: 127.0.0.1, port: %d}
llm: {base_url: %q, type: openai}
storage: {engine: none, spill: {dir: %q}}
interceptors:
  - type: http_recorder
    config: {output_dir: %q, max_events_per_file: 3}
  - type: event_recorder
    config: {output_dir: %q}
  - type: message_logger
    config: {directory: %q, buffer_size: 100}
`, port, base, filepath.Join(dir, "spill"), recDir, filepath.Join(dir, "events"), filepath.Join(dir, "messages"))), 0o600)

	p := launch(t, dir, nil, "run", "--config", cfgPath)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitHTTP(t, url+"/health", 10*time.Second)

	calls := []struct{ body, session string }{
		{`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello"}]}`, ""},
		{`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream please"}]}`, "ext-7"},
		{`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"my key is ` + promptKey + `"}]}`, "ext-7"},
		{`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"again"}]}`, ""},
	}
	for _, c := range calls {
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+replayKey)
		if c.session != "" {
			req.Header.Set("X-Cylestio-Session-Id", c.session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b.String())
		}
	}
	if n := mock.RequestCount(); n != len(calls) {
		t.Fatalf("mock saw %d calls, want %d", n, len(calls))
	}
	// Shutdown drains the pipeline into the files.
	p.stop(t, 20*time.Second)

	// 4 exchanges = 8 records, 3 per file.
	rec, err := files.ReadRecordings(recDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 3 || len(rec.Pairs) != len(calls) || rec.Skipped != 0 {
		t.Fatalf("files %v pairs %d skipped %d", rec.Files, len(rec.Pairs), rec.Skipped)
	}
	for i, p := range rec.Pairs {
		if p.Answer == nil || p.Answer.Status != 200 || p.Request.Provider != "openai" || p.Request.SessionID == nil {
			t.Fatalf("pair %d: %+v %+v", i, p.Request, p.Answer)
		}
	}
	if b, _ := rec.Pairs[1].Answer.Body.Bytes(); !strings.HasSuffix(string(b), "data: [DONE]\n\n") || *rec.Pairs[1].Request.SessionID != "ext-7" {
		t.Fatalf("stream recorded as %q", b)
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || path == cfgPath {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(replayKey)) {
			t.Errorf("the key reached %s", path)
		}
		if bytes.Contains(b, []byte(httprec.EventName)) {
			t.Errorf("%s reached %s", httprec.EventName, path)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", path, info.Mode().Perm())
		}
		return nil
	})
	if b, err := os.ReadFile(filepath.Join(dir, "messages", "message_log.jsonl")); err != nil || bytes.Count(b, []byte("\n")) != 2*len(calls) || bytes.Contains(b, []byte(promptKey)) {
		t.Fatalf("message log (%v) lacks entries despite buffer_size 100, or holds the pasted key:\n%s", err, b)
	}

	// Replay through a fresh mock; the replay's event_recorder shows the
	// events, and the http_recorder of the config is left out.
	mock2, base2, err := mockllm.Start(mockllm.Config{Chunks: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer mock2.Close()
	replayCfg := filepath.Join(dir, "replay.yaml")
	os.WriteFile(replayCfg, []byte(fmt.Sprintf(`llm: {base_url: %q, type: openai, api_key: sk-replay-key-0000000000000000000000}
storage: {engine: none, spill: {dir: %q}}
interceptors:
  - type: http_recorder
    config: {output_dir: %q}
  - type: event_recorder
    config: {output_dir: %q}
`, base2, filepath.Join(dir, "spill2"), filepath.Join(dir, "rerecorded"), filepath.Join(dir, "replayed"))), 0o600)
	out, errOut, code := runCLI(t, nil, "replay", recDir, "--config", replayCfg, "--delay", "0.01")
	if code != 0 {
		t.Fatalf("replay exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("replay output:\n%s\nstderr:\n%s", out, errOut)
	if n := mock2.RequestCount(); n != len(calls) {
		t.Fatalf("replay: the mock saw %d calls, want %d", n, len(calls))
	}
	for _, r := range mock2.Requests() {
		if v, _ := r.Header("Authorization"); v != "Bearer sk-replay-key-0000000000000000000000" {
			t.Fatalf("replayed call authorised with %q", v)
		}
	}
	m := regexp.MustCompile(`sent (\d+), succeeded (\d+), failed (\d+), events produced (\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] != "4" || m[2] != "4" || m[3] != "0" {
		t.Fatalf("summary:\n%s", out)
	}
	events, _ := strconv.Atoi(m[4])
	// Per call at least llm.call.start and llm.call.finish, plus session starts.
	if events < 2*len(calls) {
		t.Fatalf("%d events produced:\n%s", events, out)
	}
	if !strings.Contains(out, "Found 4 request/response pairs to replay") || !strings.Contains(errOut, "] 4/4") {
		t.Fatalf("output:\n%s\nstderr:\n%s", out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "rerecorded")); !os.IsNotExist(err) {
		t.Fatal("the replay recorded itself")
	}
	replayed := 0
	ents, _ := os.ReadDir(filepath.Join(dir, "replayed"))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, "replayed", e.Name()))
		replayed += bytes.Count(b, []byte(`"schema_version"`))
	}
	if replayed != events {
		t.Fatalf("event_recorder holds %d events, summary says %d", replayed, events)
	}
	if _, err := os.Stat(filepath.Join(dir, "replayed", "session_ext-7.jsonl")); err != nil {
		t.Fatalf("external session not reproduced: %v", err)
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "recording_001.jsonl")
	os.WriteFile(bad, []byte("not json\n{\"type\":\"response\"}\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", filepath.Join(dir, "missing")}, "does not exist"},
		{[]string{"replay", t.TempDir()}, "no recordings in"},
		{[]string{"replay", bad}, "skipped 1 line"},
		{[]string{"replay", bad}, "no requests to replay"},
		{[]string{"replay", bad, "--delay=-1"}, "--delay"},
	} {
		_, errOut, code := runCLI(t, []string{"LLM_BASE_URL=", "LLM_TYPE="}, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %q in:\n%s", tc.args, code, tc.want, errOut)
		}
	}
	// Requests but no upstream.
	os.WriteFile(bad, []byte(`{"type":"request","method":"POST","path":"/v1/chat/completions","body":{"size":0,"content":null}}`+"\n"), 0o600)
	if _, errOut, code := runCLI(t, []string{"LLM_BASE_URL=", "LLM_TYPE="}, "replay", bad); code != 1 || !strings.Contains(errOut, "replay needs an upstream") {
		t.Errorf("no upstream: %d %s", code, errOut)
	}
}

// TestReplayWithoutConfigPrintsOnly: without --config, as its help says,
// the replayed calls' events go to the printer only: no store is opened
// and nothing is written to the current directory, whether libchdb is
// there or not.
func TestReplayWithoutConfigPrintsOnly(t *testing.T) {
	mock, base := mockWith(t, mockllm.Config{})
	rec := filepath.Join(t.TempDir(), "recording_001.jsonl")
	os.WriteFile(rec, []byte(`{"type":"request","method":"POST","path":"/v1/chat/completions","provider":"openai",`+
		`"headers":{"Content-Type":"application/json"},"body":{"size":60,"type":"json","content":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}}`+"\n"), 0o600)
	for _, lib := range []string{"/nonexistent", os.Getenv("CHDB_LIB_PATH")} {
		cwd := t.TempDir()
		cmd := exec.Command(binary, "replay", rec)
		cmd.Dir = cwd
		cmd.Env = append(os.Environ(), "LLM_BASE_URL="+base, "LLM_TYPE=openai", "CHDB_LIB_PATH="+lib)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil || !strings.Contains(out.String(), "Replay summary: sent 1, succeeded 1, failed 0") {
			t.Fatalf("CHDB_LIB_PATH=%s: %v\n%s\n%s", lib, err, out.String(), errOut.String())
		}
		if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
			t.Errorf("CHDB_LIB_PATH=%s: the replay wrote %v to the current directory", lib, ents)
		}
	}
	if n := mock.RequestCount(); n != 2 {
		t.Errorf("the mock saw %d calls, want 2", n)
	}
}
