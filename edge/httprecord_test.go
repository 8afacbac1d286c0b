package edge

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/bench/mockllm"
	"github.com/cylestio/perimeter/internal/httprec"
	"github.com/cylestio/perimeter/sink"
	"github.com/cylestio/perimeter/sink/files"
)

func startRecording(t *testing.T, maxBody int, o Options) (*harness, *sink.Recorder) {
	t.Helper()
	rec := capturing(&o, OpenAI)
	o.Capture.RecordHTTP(maxBody)
	if o.BaseURL != "" {
		return startProxy(t, o), rec
	}
	return startWithMock(t, mockllm.Config{Chunks: 4}, o), rec
}

// exchangeOf waits for the call's exchange event: it comes after the
// call's own events.
func exchangeOf(t *testing.T, rec *sink.Recorder) (*sink.Event, *files.Exchange, []*sink.Event) {
	t.Helper()
	var evs []*sink.Event
	waitFor(t, func() bool {
		evs = rec.Events()
		return len(evs) > 0 && evs[len(evs)-1].Name == httprec.EventName
	})
	rec.Reset()
	ev := evs[len(evs)-1]
	for _, e := range evs[:len(evs)-1] {
		if e.Name == httprec.EventName {
			t.Fatalf("two exchanges: %s", names(evs))
		}
	}
	x, err := files.DecodeExchange(ev)
	if err != nil {
		t.Fatal(err)
	}
	return ev, x, evs[:len(evs)-1]
}

const clientKey = "sk-client-abcdefghijklmnopqrstuvwxyz"

func header(hs [][2]string, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func TestRecordHTTPExchange(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		name := "buffered"
		if streaming {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			h, rec := startRecording(t, 1<<20, Options{})
			extra := ""
			if streaming {
				extra = `"stream":true,`
			}
			body := `{"model":"gpt-4o-mini",` + extra + `"messages":[{"role":"user","content":"hi"}]}`
			resp := h.post("/v1/chat/completions?key=qsecret123&x=1", body,
				"Authorization", "Bearer "+clientKey, "X-Api-Key", clientKey, "Cookie", "s=cookiesecret",
				"X-Cylestio-Session-Id", "ext-1", "X-Other", "kept")
			got := readAll(t, resp.Body)
			ev, x, calls := exchangeOf(t, rec)
			if names(calls) != "session.start llm.call.start llm.call.finish" {
				t.Fatalf("call events %s", names(calls))
			}
			if ev.SessionID != "ext-1" || ev.SessionID != calls[0].SessionID || ev.AgentID != calls[0].AgentID || ev.Model != "gpt-4o-mini" || ev.Vendor != "openai" || ev.Status != 200 {
				t.Fatalf("exchange event %+v", ev)
			}
			for _, secret := range []string{clientKey, "qsecret123", "cookiesecret"} {
				if bytes.Contains(ev.Attributes, []byte(secret)) {
					t.Fatalf("%s reached the exchange: %s", secret, ev.Attributes)
				}
			}
			host := h.addr()
			if x.Method != "POST" || x.URL != "http://"+host+"/v1/chat/completions?key=[REDACTED]&x=1" || x.Path != "/v1/chat/completions" || x.Query != "key=[REDACTED]&x=1" {
				t.Fatalf("request line %s %s %s %s", x.Method, x.URL, x.Path, x.Query)
			}
			for _, n := range []string{"Authorization", "X-Api-Key", "Cookie"} {
				if v := header(x.RequestHeaders, n); v != httprec.Redacted {
					t.Errorf("%s recorded as %q", n, v)
				}
			}
			if header(x.RequestHeaders, "X-Other") != "kept" || header(x.RequestHeaders, "X-Cylestio-Session-Id") != "ext-1" {
				t.Errorf("headers %v", x.RequestHeaders)
			}
			if string(x.RequestBody) != body || x.RequestBodySize != int64(len(body)) || x.Streaming != streaming {
				t.Fatalf("request body %q streaming %v", x.RequestBody, x.Streaming)
			}
			if x.Status != 200 || !bytes.Equal(x.ResponseBody, got) || x.ResponseTruncated || x.ErrorType != "" {
				t.Fatalf("response %d truncated %v:\n%s\nclient got:\n%s", x.Status, x.ResponseTruncated, x.ResponseBody, got)
			}
			if streaming && (!strings.HasSuffix(string(x.ResponseBody), "data: [DONE]\n\n") || !strings.HasPrefix(header(x.ResponseHeaders, "Content-Type"), "text/event-stream")) {
				t.Fatalf("stream not recorded whole: %q %v", x.ResponseBody, x.ResponseHeaders)
			}
			if x.StartUs <= 0 || x.EndUs < x.StartUs {
				t.Fatalf("times %d %d", x.StartUs, x.EndUs)
			}
		})
	}
}

// Bodies over the limit are not copied; the recorder writes its marker.
func TestRecordHTTPLimit(t *testing.T) {
	h, rec := startRecording(t, 100, Options{})
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 100) + `"}]}`
	readAll(t, h.post("/v1/chat/completions", body).Body)
	_, x, _ := exchangeOf(t, rec)
	if !x.RequestTruncated || len(x.RequestBody) != 0 || x.RequestBodySize != int64(len(body)) || !x.ResponseTruncated || len(x.ResponseBody) != 0 {
		t.Fatalf("buffered: %+v", x)
	}
	readAll(t, h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`).Body)
	_, x, _ = exchangeOf(t, rec)
	if x.RequestTruncated || !x.ResponseTruncated || len(x.ResponseBody) != 0 {
		t.Fatalf("stream: truncated %v body %q", x.ResponseTruncated, x.ResponseBody)
	}
}

// A call the proxy could not complete is recorded with its error.
func TestRecordHTTPFailure(t *testing.T) {
	h, rec := startRecording(t, 1<<20, Options{BaseURL: deadUpstream(t)})
	resp := h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	readAll(t, resp.Body)
	ev, x, calls := exchangeOf(t, rec)
	if resp.StatusCode != http.StatusBadGateway || x.ErrorType == "" || x.Status != resp.StatusCode || ev.Status != resp.StatusCode || len(x.ResponseBody) != 0 {
		t.Fatalf("status %d exchange %+v", resp.StatusCode, x)
	}
	if names(calls) != "session.start llm.call.start llm.call.error" {
		t.Fatalf("calls %s", names(calls))
	}
}

// Without RecordHTTP nothing but the call's events is published.
func TestNoExchangeWithoutRecordHTTP(t *testing.T) {
	h, rec := startCapturing(t, OpenAI, Options{})
	readAll(t, h.post("/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`).Body)
	for _, e := range waitEvents(t, rec, 3) {
		if e.Name == httprec.EventName {
			t.Fatal("exchange published without RecordHTTP")
		}
	}
}
