package provider

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cylestio/perimeter/internal/golden"
	"github.com/cylestio/perimeter/stream"
)

// go test ./edge/provider -run Golden -update rewrites the .golden files
// (and, with the mock, the generated fixtures: see TestGenerateFixtures);
// internal/golden owns the -update flag.

// updating reports whether the tests run with -update.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fixture returns the bytes of testdata/path, failing the test when it
// cannot be read.
func fixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kindOf derives a fixture's format from its file name.
func kindOf(name string) Kind {
	switch {
	case strings.HasPrefix(name, "openai_responses") || strings.HasPrefix(name, "mock_responses"):
		return OpenAIResponses
	case strings.HasPrefix(name, "anthropic") || strings.HasPrefix(name, "mock_anthropic"):
		return AnthropicMessages
	}
	return OpenAIChat
}

// The summaries are what the goldens pin: every field a caller reads,
// decoded to plain strings.

type strView struct {
	Text    string `json:"text"`
	Escaped bool   `json:"escaped,omitempty"`
}

func view(s Str) *strView {
	if !s.Present() {
		return nil
	}
	return &strView{Text: s.String(), Escaped: s.Escaped}
}

func text(s Str) *string {
	if !s.Present() {
		return nil
	}
	v := s.String()
	return &v
}

func rawView(b []byte) *string {
	if b == nil {
		return nil
	}
	v := string(b)
	return &v
}

type messageSummary struct {
	Role    *string `json:"role,omitempty"`
	Type    *string `json:"type,omitempty"`
	Text    *string `json:"text,omitempty"`
	Escaped bool    `json:"escaped,omitempty"`
	Content string  `json:"content"`
	Name    *string `json:"name,omitempty"`
	CallID  *string `json:"call_id,omitempty"`
	Images  int     `json:"images,omitempty"`
	RawLen  int     `json:"raw_len"`
}

type toolCallSummary struct {
	Message   int     `json:"message"`
	ID        *string `json:"id,omitempty"`
	Name      *string `json:"name,omitempty"`
	Arguments *string `json:"arguments,omitempty"`
}

type toolSummary struct {
	Name   *string `json:"name,omitempty"`
	Type   *string `json:"type,omitempty"`
	RawLen int     `json:"raw_len"`
}

type toolResultSummary struct {
	Message int     `json:"message"`
	CallID  *string `json:"call_id,omitempty"`
	Name    *string `json:"name,omitempty"`
	Call    int     `json:"call"`
	Text    *string `json:"text,omitempty"`
	Content string  `json:"content"`
	Raw     *string `json:"raw,omitempty"`
	IsError bool    `json:"is_error,omitempty"`
}

type requestSummary struct {
	Error              string              `json:"error,omitempty"`
	Kind               string              `json:"kind,omitempty"`
	Model              *string             `json:"model,omitempty"`
	Stream             bool                `json:"stream,omitempty"`
	IncludeUsage       bool                `json:"include_usage,omitempty"`
	MaxTokens          *int64              `json:"max_tokens,omitempty"`
	Temperature        *float64            `json:"temperature,omitempty"`
	SystemSource       string              `json:"system_source,omitempty"`
	System             *strView            `json:"system,omitempty"`
	SystemPrompt       string              `json:"system_prompt,omitempty"`
	Messages           []messageSummary    `json:"messages,omitempty"`
	Tools              []toolSummary       `json:"tools,omitempty"`
	ToolCalls          []toolCallSummary   `json:"tool_calls,omitempty"`
	ToolResults        []toolResultSummary `json:"tool_results,omitempty"`
	PreviousResponseID *string             `json:"previous_response_id,omitempty"`
	Params             map[string]string   `json:"params,omitempty"`
}

func summarizeRequest(r *Request, err error) requestSummary {
	if err != nil {
		return requestSummary{Error: err.Error()}
	}
	s := requestSummary{
		Kind: r.Kind.String(), Model: text(r.Model), Stream: r.Stream, IncludeUsage: r.IncludeUsage,
		SystemSource: r.SystemSource.String(), System: view(r.System),
		SystemPrompt: string(r.AppendSystemPrompt(nil)), PreviousResponseID: text(r.PreviousResponseID),
	}
	if r.HasMaxTokens {
		s.MaxTokens = &r.MaxTokens
	}
	if r.HasTemperature {
		s.Temperature = &r.Temperature
	}
	for _, m := range r.Messages {
		s.Messages = append(s.Messages, messageSummary{
			Role: text(m.Role), Type: text(m.Type), Text: text(m.Text), Escaped: m.Text.Escaped,
			Content: m.Content.String(), Name: text(m.Name), CallID: text(m.CallID),
			Images: m.Images, RawLen: len(m.Raw),
		})
	}
	for _, t := range r.Tools {
		s.Tools = append(s.Tools, toolSummary{Name: text(t.Name), Type: text(t.Type), RawLen: len(t.Raw)})
	}
	for _, c := range r.ToolCalls {
		s.ToolCalls = append(s.ToolCalls, toolCallSummary{Message: c.Message, ID: text(c.ID), Name: text(c.Name), Arguments: text(c.Arguments)})
	}
	for _, tr := range r.ToolResults {
		s.ToolResults = append(s.ToolResults, toolResultSummary{
			Message: tr.Message, CallID: text(tr.CallID), Name: text(tr.Name), Call: tr.Call,
			Text: text(tr.Text), Content: tr.Content.String(), Raw: rawView(tr.ContentRaw), IsError: tr.IsError,
		})
	}
	for p := Param(0); p < numParams; p++ {
		if v := r.Param(p); v != nil {
			if s.Params == nil {
				s.Params = map[string]string{}
			}
			s.Params[p.Key()] = string(v)
		}
	}
	return s
}

type usageSummary struct {
	Input, Output, Total, Cached, CacheCreation, Reasoning *int64 `json:",omitempty"`
	CacheCreation1h                                        *int64 `json:",omitempty"`
	ComputedTotal                                          *int64 `json:",omitempty"`
}

func summarizeUsage(u Usage) *usageSummary {
	if u.Has == 0 {
		return nil
	}
	p := func(f UsageFields, v int64) *int64 {
		if u.Has&f == 0 {
			return nil
		}
		return &v
	}
	s := &usageSummary{
		Input: p(HasInput, u.InputTokens), Output: p(HasOutput, u.OutputTokens), Total: p(HasTotal, u.TotalTokens),
		Cached: p(HasCached, u.CachedTokens), CacheCreation: p(HasCacheCreation, u.CacheCreationTokens),
		Reasoning: p(HasReasoning, u.ReasoningTokens), CacheCreation1h: p(HasCacheCreation1h, u.CacheCreation1hTokens),
	}
	if t, ok := u.Total(); ok {
		s.ComputedTotal = &t
	}
	return s
}

type errorSummary struct {
	Type    *string `json:"type,omitempty"`
	Code    *string `json:"code,omitempty"`
	Message *string `json:"message,omitempty"`
	Param   *string `json:"param,omitempty"`
	Raw     *string `json:"raw,omitempty"`
}

type responseSummary struct {
	Error             string            `json:"parse_error,omitempty"`
	Kind              string            `json:"kind"`
	Status            int               `json:"status"`
	ID                *string           `json:"id,omitempty"`
	Model             *string           `json:"model,omitempty"`
	Text              *strView          `json:"text,omitempty"`
	ToolCalls         []toolCallSummary `json:"tool_calls,omitempty"`
	Usage             *usageSummary     `json:"usage,omitempty"`
	FinishReason      *string           `json:"finish_reason,omitempty"`
	FinishReasonRaw   *string           `json:"finish_reason_raw,omitempty"`
	ResponseStatus    *string           `json:"response_status,omitempty"`
	StopSequence      *string           `json:"stop_sequence,omitempty"`
	SystemFingerprint *string           `json:"system_fingerprint,omitempty"`
	Refusal           *string           `json:"refusal,omitempty"`
	Content           []string          `json:"content,omitempty"`
	IsError           bool              `json:"is_error,omitempty"`
	ErrorInfo         *errorSummary     `json:"error,omitempty"`
	Complete          bool              `json:"complete"`
	Events            int               `json:"events,omitempty"`
	BadEvents         int               `json:"bad_events,omitempty"`
	Truncated         bool              `json:"truncated,omitempty"`
}

func summarizeResponse(r *Response, err error) responseSummary {
	s := responseSummary{
		Kind: r.Kind.String(), Status: r.StatusCode, ID: text(r.ID), Model: text(r.Model), Text: view(r.Text),
		Usage: summarizeUsage(r.Usage), FinishReason: text(r.FinishReason), FinishReasonRaw: rawView(r.FinishReasonRaw),
		ResponseStatus: text(r.Status), StopSequence: text(r.StopSequence), SystemFingerprint: text(r.SystemFingerprint),
		Refusal: text(r.Refusal), IsError: r.IsError, Complete: r.Complete,
	}
	if err != nil {
		s.Error = err.Error()
	}
	for _, c := range r.ToolCalls {
		s.ToolCalls = append(s.ToolCalls, toolCallSummary{Message: c.Message, ID: text(c.ID), Name: text(c.Name), Arguments: text(c.Arguments)})
	}
	for _, c := range r.Content {
		s.Content = append(s.Content, compactJSON(c))
	}
	e := r.Error
	if e.Type.Present() || e.Code.Present() || e.Message.Present() || e.Raw != nil {
		s.ErrorInfo = &errorSummary{Type: text(e.Type), Code: text(e.Code), Message: text(e.Message), Param: text(e.Param), Raw: rawView(e.Raw)}
		if e.Raw != nil {
			c := compactJSON(e.Raw)
			s.ErrorInfo.Raw = &c
		}
	}
	return s
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// goldenFixtures runs a subtest for every fixture testdata/dir/*ext: it
// pins what summarize makes of the fixture's bytes, as indented JSON, in
// the .golden file beside it (rewritten under -update).
func goldenFixtures(t *testing.T, dir, ext string, summarize func(name string, body []byte) any) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			body := fixture(t, filepath.Join(dir, name))
			got, err := json.MarshalIndent(summarize(name, body), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, strings.TrimSuffix(name, ext)+".golden"), append(got, '\n'))
		})
	}
}

func TestGoldenRequests(t *testing.T) {
	goldenFixtures(t, "requests", ".json", func(name string, body []byte) any {
		var r Request
		err := r.Parse(kindOf(name), body)
		if json.Valid(body) != (err == nil || err == ErrNotObject) {
			t.Errorf("%s: Parse error %v but json.Valid %v", name, err, json.Valid(body))
		}
		return summarizeRequest(&r, err)
	})
}

// responseStatus reads the status from a fixture name: …_429.json.
func responseStatus(name string) int {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	if i := strings.LastIndexByte(base, '_'); i >= 0 {
		n := 0
		for _, c := range base[i+1:] {
			if c < '0' || c > '9' {
				return 200
			}
			n = n*10 + int(c-'0')
		}
		if n >= 100 {
			return n
		}
	}
	return 200
}

func TestGoldenResponses(t *testing.T) {
	goldenFixtures(t, "responses", ".json", func(name string, body []byte) any {
		var r Response
		err := r.Parse(kindOf(name), responseStatus(name), body)
		return summarizeResponse(&r, err)
	})
}

// splitEvents cuts an SSE body into events as the stream tap does.
func splitEvents(b []byte) [][]byte {
	var evs [][]byte
	for {
		n := stream.EventEnd(b)
		if n < 0 {
			return evs
		}
		evs = append(evs, b[:n])
		b = b[n:]
	}
}

// feed runs every event of an SSE body through p, each from a fresh copy
// that is scribbled over afterwards: the parser must not keep event bytes.
func feed(p *StreamParser, body []byte) {
	for _, ev := range splitEvents(body) {
		c := append([]byte(nil), ev...)
		p.Event(c)
		for i := range c {
			c[i] = '#'
		}
	}
}

func TestGoldenStreams(t *testing.T) {
	goldenFixtures(t, "streams", ".sse", func(name string, body []byte) any {
		p := AcquireStreamParser(kindOf(name))
		defer ReleaseStreamParser(p)
		feed(p, body)
		s := summarizeResponse(p.Result(), nil)
		s.Events, s.BadEvents = p.Events()
		s.Truncated = p.Truncated()
		return s
	})
}
