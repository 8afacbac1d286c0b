package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cylestio/perimeter/internal/testkit"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/chdb"
)

// Personal data and secrets the content test sends through every place a
// call carries text: the system prompt, the user's message, the model's
// answer and tool-call arguments, and the tool's result.
var rawValues = map[string]string{
	"email":  "jane.doe@corp-mail.com",
	"card":   "4539 1488 0343 6467",
	"ssn":    "536-22-8147",
	"phone":  "+1 650-253-0000",
	"github": "ghp_R8x2Lm9Qv4Tz7Kp1Wc6Yb3Nd5Hf0Js2Ga8Ue",
	"aws":    "AKIAZ7Q3XK2M4P8W6Y1N",
	"iban":   "DE89 3704 0044 0532 0130 00",
}

// plainText is conversation text without any personal datum: metadata
// must not keep it either.
const plainText = "Weather in Paris"

// piiUpstream answers a streamed call with text holding a phone number and
// a card, and a tool call whose arguments hold the e-mail address; a
// buffered call with text holding the IBAN.
func piiUpstream(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(body), `"stream":true`) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-b","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Refund to IBAN %s done."},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":9,"total_tokens":49}}`, rawValues["iban"])
		return
	}
	writeSSE(w,
		`{"id":"chatcmpl-s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"I will call `+rawValues["phone"]+` and charge `+rawValues["card"]+`. "}}]}`,
		`{"id":"chatcmpl-s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_m1","type":"function","function":{"name":"send_mail","arguments":"{\"to\":\"`+rawValues["email"]+`\"}"}}]}}]}`,
		`{"id":"chatcmpl-s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"id":"chatcmpl-s","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":12,"total_tokens":43}}`,
		`[DONE]`,
	)
}

// TestStorageContentModes sends calls full of personal data and secrets in
// each storage.content mode, with every writer on (the embedded store, the
// message logger, the event and HTTP recorders, OpenTelemetry export with
// content), then reads back every column of every table, every recorder
// file and every exported span. full keeps the personal data (the test's
// control: it proves the reading finds what is there; credentials are
// masked in every mode); masked keeps none of the values; metadata keeps
// no conversation text at all.
func TestStorageContentModes(t *testing.T) {
	lib := requireLibchdb(t)
	for _, mode := range []string{"full", "masked", "metadata"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			data, rec := filepath.Join(dir, "data"), filepath.Join(dir, "rec")
			rcv := newOTLPReceiver(t)
			up := httptest.NewServer(http.HandlerFunc(piiUpstream))
			defer up.Close()
			proc := startPerimeter(t, up.URL, fmt.Sprintf(`storage: {content: %s, embedded: {path: %q}}
interceptors:
  - {type: message_logger, enabled: true, config: {directory: %q, include_system_prompts: true, buffer_size: 1}}
  - {type: event_recorder, enabled: true, config: {output_dir: %q}}
  - {type: http_recorder, enabled: true, config: {output_dir: %q}}
telemetry:
  otel: {enabled: true, endpoint: %s, capture_content: true, batch_timeout_ms: 50}
`, mode, data, filepath.Join(rec, "messages"), filepath.Join(rec, "events"), filepath.Join(rec, "http"), rcv.srv.URL), "CHDB_LIB_PATH="+lib)

			first := `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[` +
				`{"role":"system","content":"You help ` + rawValues["email"] + `."},` +
				`{"role":"user","content":"` + plainText + `? My card is ` + rawValues["card"] + `, SSN ` + rawValues["ssn"] + `, token ` + rawValues["github"] + `"}]}`
			if code, body, _ := postChat(t, proc.url, first, "x-cylestio-session-id", "content-"+mode); code != 200 {
				t.Fatalf("first call: %d %s", code, body)
			}
			second := `{"model":"gpt-4o","messages":[` +
				`{"role":"system","content":"You help ` + rawValues["email"] + `."},` +
				`{"role":"user","content":"` + plainText + `? My card is ` + rawValues["card"] + `, SSN ` + rawValues["ssn"] + `, token ` + rawValues["github"] + `"},` +
				`{"role":"assistant","content":"ok","tool_calls":[{"id":"call_m1","type":"function","function":{"name":"send_mail","arguments":"{\"to\":\"` + rawValues["email"] + `\"}"}}]},` +
				`{"role":"tool","tool_call_id":"call_m1","content":"sent; aws key ` + rawValues["aws"] + `, ssn ` + rawValues["ssn"] + `"}]}`
			if code, body, _ := postChat(t, proc.url, second, "x-cylestio-session-id", "content-"+mode); code != 200 {
				t.Fatalf("second call: %d %s", code, body)
			}
			waitStored(t, proc.url, 2)
			proc.stop(t, time.Minute)

			// Everything each writer kept, as text.
			kept := map[string]string{"store": storedText(t, data, lib)}
			filepath.Walk(rec, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					b, _ := os.ReadFile(p)
					kept[strings.TrimPrefix(p, rec)] = string(b)
				}
				return nil
			})
			spans, _ := rcv.snapshot()
			var sp strings.Builder
			for _, s := range spans {
				b, _ := protojson.Marshal(s)
				sp.Write(b)
			}
			kept["otel spans"] = sp.String()
			if len(kept) < 5 || len(spans) < 3 {
				t.Fatalf("writers kept %d places (%d spans), want the store, 3+ recorder files and the spans", len(kept), len(spans))
			}

			for where, text := range kept {
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: empty", where)
				}
				// Credentials are masked in every mode, except in the raw
				// bodies the http_recorder keeps for replay with full.
				for _, k := range []string{"aws"} {
					if strings.Contains(text, rawValues[k]) && !(mode == "full" && strings.HasPrefix(where, "/http/")) {
						t.Errorf("%s (%s): holds the raw %s value", where, mode, k)
					}
				}
				switch mode {
				case "full":
					// The control: with full content the data is there
					// (where message text is kept at all).
					if where == "store" || where == "otel spans" {
						for _, k := range []string{"email", "card", "ssn"} {
							if !strings.Contains(text, rawValues[k]) {
								t.Errorf("%s (full): the %s value is missing; the test could not tell masked from lost", where, k)
							}
						}
					}
				case "masked":
					for k, v := range rawValues {
						if strings.Contains(text, v) || strings.Contains(text, strings.ReplaceAll(v, " ", "")) {
							t.Errorf("%s (masked): holds the raw %s value %q", where, k, v)
						}
					}
					if where == "store" && (!strings.Contains(text, "[PII:email]") || !strings.Contains(text, "[PII:credit_card]")) {
						t.Errorf("store (masked): no typed placeholder; %.400s", text)
					}
					if where == "store" && !strings.Contains(text, plainText) {
						t.Errorf("store (masked): the text around the masked values is gone")
					}
				case "metadata":
					for k, v := range rawValues {
						if strings.Contains(text, v) {
							t.Errorf("%s (metadata): holds the raw %s value %q", where, k, v)
						}
					}
					if strings.Contains(text, plainText) || strings.Contains(text, "I will call") || strings.Contains(text, "Refund to IBAN") {
						t.Errorf("%s (metadata): holds message text", where)
					}
				}
			}
			if mode == "metadata" {
				s := kept["store"]
				for _, want := range []string{"[len=", `"role":"user"`, "send_mail", "pii.credit_card"} {
					if !strings.Contains(s, want) {
						t.Errorf("store (metadata): %q missing: roles, lengths, hashes, tool names and findings are kept", want)
					}
				}
			}
		})
	}
}

// waitStored waits until the pipeline has stored the calls' finish events.
func waitStored(t *testing.T, url string, calls int) {
	t.Helper()
	testkit.Eventually(60*time.Second, 100*time.Millisecond, func() bool {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `"name": "embedded"`) && !strings.Contains(string(b), `"events": 0,`)
	})
}

// storedText is every value of every row of every table of the store, as
// text.
func storedText(t *testing.T, data, lib string) string {
	t.Helper()
	st, err := chdb.Open(context.Background(), chdb.Options{Path: data, LibPath: lib, WorkerCommand: []string{binary, "__chdb-worker"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tables, err := st.Query(ctx, "SELECT name FROM system.tables WHERE database = 'perimeter' AND engine NOT LIKE '%View%'")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rowsSeen := 0
	for _, r := range tables.Data {
		rows, err := st.Query(ctx, "SELECT * FROM "+sink.SchemaOptions{}.Table(r[0].(string)))
		if err != nil {
			t.Fatalf("read table %v: %v", r[0], err)
		}
		for _, row := range rows.Data {
			rowsSeen++
			for _, v := range row {
				fmt.Fprintf(&b, "%v\t", v)
			}
			b.WriteByte('\n')
		}
	}
	if rowsSeen == 0 {
		t.Fatal("the store holds no row")
	}
	return b.String()
}
