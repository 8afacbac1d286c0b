package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets: no input may panic a parser, and the scanner must agree
// with encoding/json on what is JSON. Run one with
// go test ./edge/provider -run '^$' -fuzz FuzzRequest -fuzztime 20s.

func addSeeds(f *testing.F, dir string, add func(name string, b []byte)) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
	for _, file := range files {
		if filepath.Ext(file) == ".golden" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(filepath.Base(file), b)
	}
}

// touch decodes every text a caller could read, so that a bad slice or
// escape shows up as a panic.
func touch(strs ...Str) int {
	n := 0
	var buf []byte
	for _, s := range strs {
		buf = s.Append(buf[:0])
		n += len(buf)
		s.Equal("x")
	}
	return n
}

func FuzzRequest(f *testing.F) {
	addSeeds(f, "requests", func(name string, b []byte) { f.Add(uint8(kindOf(name)), b) })
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := Kind(k % 4)
		r := AcquireRequest()
		defer ReleaseRequest(r)
		err := r.Parse(kind, body)
		valid := json.Valid(body)
		if valid != (err == nil || errors.Is(err, ErrNotObject)) && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("Parse error %v, json.Valid %v", err, valid)
		}
		if err != nil {
			return
		}
		r.AppendSystemPrompt(nil)
		touch(r.Model, r.System, r.PreviousResponseID)
		for _, m := range r.Messages {
			touch(m.Role, m.Type, m.Text, m.Name, m.CallID)
			if m.Raw != nil && !json.Valid(m.Raw) {
				t.Fatalf("message Raw %q is not JSON", m.Raw)
			}
		}
		for _, c := range r.ToolCalls {
			touch(c.ID, c.Name, c.Arguments)
			if c.Message < 0 || c.Message >= len(r.Messages) {
				t.Fatalf("tool call message %d of %d", c.Message, len(r.Messages))
			}
		}
		for _, tr := range r.ToolResults {
			touch(tr.CallID, tr.Name, tr.Text)
			if tr.Call >= len(r.ToolCalls) || tr.Message >= len(r.Messages) {
				t.Fatal("tool result index out of range")
			}
		}
		for _, tl := range r.Tools {
			touch(tl.Name, tl.Type)
		}
	})
}

func FuzzResponse(f *testing.F) {
	addSeeds(f, "responses", func(name string, b []byte) {
		f.Add(uint8(kindOf(name)), uint16(responseStatus(name)), b)
	})
	f.Fuzz(func(t *testing.T, k uint8, status uint16, body []byte) {
		r := AcquireResponse()
		defer ReleaseResponse(r)
		err := r.Parse(Kind(k%4), int(status), body)
		blankError := status >= 400 && len(bytes.TrimSpace(body)) == 0 // an empty error body is fine
		if err == nil && !blankError && !json.Valid(body) {
			t.Fatal("invalid JSON accepted")
		}
		if status >= 400 && !r.IsError {
			t.Fatal("status ≥ 400 is not an error")
		}
		touch(r.ID, r.Model, r.Text, r.FinishReason, r.Status, r.StopSequence, r.SystemFingerprint, r.Refusal,
			r.Error.Type, r.Error.Code, r.Error.Message, r.Error.Param)
		for _, c := range r.ToolCalls {
			touch(c.ID, c.Name, c.Arguments)
		}
	})
}

func FuzzStreamEvents(f *testing.F) {
	addSeeds(f, "streams", func(name string, b []byte) { f.Add(uint8(kindOf(name)), b) })
	f.Add(uint8(OpenAIChat), []byte("data: [DONE]\n\n"))
	f.Add(uint8(AnthropicMessages), []byte("event: error\ndata: {\"type\":\"error\"}\n\n"))
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		p := AcquireStreamParser(Kind(k % 4))
		defer ReleaseStreamParser(p)
		p.MaxText = 64
		feed(p, body)
		p.Event(body) // the whole input as one event too
		r := p.Result()
		touch(r.ID, r.Model, r.Text, r.FinishReason, r.Status, r.StopSequence, r.SystemFingerprint, r.Refusal,
			r.Error.Type, r.Error.Code, r.Error.Message, r.Error.Param)
		for _, c := range r.ToolCalls {
			touch(c.ID, c.Name, c.Arguments)
		}
		if len(r.Text.Raw) > 64 {
			t.Fatalf("text of %d bytes kept, MaxText 64", len(r.Text.Raw))
		}
		// Reuse must give the same answer as a fresh parser.
		before, _ := json.Marshal(summarizeResponse(r, nil))
		p.Reset(p.Kind())
		feed(p, body)
		p.Event(body)
		after, _ := json.Marshal(summarizeResponse(p.Result(), nil))
		if !bytes.Equal(before, after) {
			t.Fatalf("reused parser differs:\n%s\n%s", before, after)
		}
	})
}

func FuzzPyStr(f *testing.F) {
	for _, c := range pyStrCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, err := AppendPyStr(nil, raw)
		if (err == nil) != json.Valid(raw) && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("AppendPyStr error %v, json.Valid %v", err, json.Valid(raw))
		}
	})
}
